//! The start-up validation against the real thing: every case of
//! tests/validation/cases.json (a main.cf setting, a secondary's, a host
//! name, interfaces down, a myorigin file...) run with the real Postfix
//! 3.11 postmulti of the sid root and with ours, each from the root's
//! pristine state (tests/harness/validate), stdout, stderr and exit status
//! compared.  The cases run in shards, one trial each, `sid::shard-N`, of
//! kind root; same skip/CI rules as tests/differential.rs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};

/// Shards, so that the real postmulti's one-second pause before each fatal
/// error is spent in parallel.
const SHARDS: usize = 12;

fn main() {
    let args = Arguments::from_args();
    let ours: Arc<PathBuf> = Arc::new(common::ours());
    let mut trials = Vec::new();
    // The real Postfix 3.11 postmulti, whose front end ours has everywhere.
    if common::installations().contains(&"sid") {
        let root = if args.list {
            None
        } else {
            common::prepare("validation", "sid").map(Arc::new)
        };
        let cases = Arc::new(common::repo().join("tests/validation/cases.json"));
        for shard in 0..SHARDS {
            let (root, ours, cases) = (root.clone(), ours.clone(), cases.clone());
            let skipped = root.is_none() && !args.list;
            trials.push(
                Trial::test(format!("sid::shard-{shard}"), move || match root {
                    Some(root) => run_shard(&root, &ours, &cases, shard),
                    None => Err("this machine cannot run the harness (see above)".into()),
                })
                .with_kind("root")
                .with_ignored_flag(skipped),
            );
        }
    }
    libtest_mimic::run(&args, trials).exit();
}

fn run_shard(root: &common::Root, ours: &Path, cases: &Path, shard: usize) -> Result<(), Failed> {
    let out = tempfile::NamedTempFile::new().map_err(|e| Failed::from(e.to_string()))?;
    let run = Command::new(common::harness("validate"))
        .arg(&root.dir)
        .arg(ours)
        .arg(cases)
        .arg(out.path())
        .arg(shard.to_string())
        .arg(SHARDS.to_string())
        .output()
        .map_err(|e| Failed::from(format!("cannot run tests/harness/validate: {e}")))?;
    if run.status.success() {
        return Ok(());
    }
    Err(format!(
        "real and ours differ:\n{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    )
    .into())
}
