//! Differential test: every `tests/scenarios/*.scn` is run under the real
//! Postfix 3.11 postmulti (the test root's own binary, copied out by
//! `tests/harness/make-root`) and under ours, each in a fresh throw-away
//! copy of the root (`tests/harness/run-scenario`), and the two recordings
//! must be identical byte for byte (`tests/harness/compare`).
//!
//! Each scenario is a test of its own, named after its file
//! (`cargo test --test differential -- --list`; `cargo test lc-36` runs
//! one), of kind `root`: it needs root for private namespaces.  The usual
//! libtest options apply (`--test-threads`, `--exact`, `--ignored`, ...).
//!
//! Environment:
//! * `POSTMULTI_TEST_ROOT`: where the sid root is (default `target/sid-root`);
//! * `POSTMULTI_BINARY=PATH`: test another binary instead of ours (e.g. the
//!   real one, `target/sid-root.real-postmulti`, to check the harness);
//! * `CI` (non-empty): fail instead of skipping when the machine cannot run
//!   the harness (see `tests/common`).
//!
//! Where ours deliberately differs from the real postmulti, the difference
//! is stated in `tests/expected/` (see its README), and the comparison is
//! with the real recording so changed.
//!
//! On failure the recordings are kept (the path is printed) with the diffs.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};

fn scenarios() -> Vec<PathBuf> {
    let dir = common::repo().join("tests/scenarios");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("readdir").path())
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .collect();
    found.sort();
    found
}

fn name_of(scenario: &Path) -> String {
    scenario
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Runs `scenario` with the real postmulti and with `ours`, side by side
/// (they mostly wait: the real one sleeps a second before every fatal
/// exit), and compares the recordings.
fn run_one(root: &common::Root, ours: &Path, scenario: &Path) -> Result<(), Failed> {
    let work = tempfile::Builder::new()
        .prefix(&format!("postmulti-differential.{}.", name_of(scenario)))
        .tempdir()
        .map_err(|e| format!("tempdir: {e}"))?;
    let real_dir = work.path().join("real");
    let ours_dir = work.path().join("ours");
    let runs = [
        (root.real_postmulti.as_path(), &real_dir),
        (ours, &ours_dir),
    ];
    let outputs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .iter()
            .map(|&(binary, outdir)| {
                s.spawn(move || common::run_scenario(root, binary, scenario, outdir))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("run thread"))
            .collect()
    });
    for ((binary, _), out) in runs.iter().zip(&outputs) {
        if !out.status.success() {
            return Err(format!(
                "run-scenario {} failed ({}):\n{}",
                binary.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
    }
    let expected = [common::repo()
        .join("tests/expected/all")
        .join(name_of(scenario))];
    let (identical, report) = common::compare(&expected, &real_dir, &ours_dir);
    if identical {
        return Ok(());
    }
    let kept = work.keep();
    Err(format!(
        "{report}\n(recordings kept in {}: real/ and ours/)",
        kept.display()
    )
    .into())
}

fn main() {
    let args = Arguments::from_args();
    let all = scenarios();
    assert!(
        !all.is_empty(),
        "differential: no scenario in tests/scenarios"
    );
    // Listing needs no machine; running builds the root once, up front.
    let root = if args.list {
        None
    } else {
        common::prepare("differential").map(Arc::new)
    };
    let ours = std::env::var_os("POSTMULTI_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_postmulti")));
    let trials = all
        .into_iter()
        .map(|scenario| {
            let name = name_of(&scenario);
            let root = root.clone();
            let ours = ours.clone();
            let skipped = root.is_none() && !args.list;
            Trial::test(name, move || match root {
                Some(root) => run_one(&root, &ours, &scenario),
                None => Err("this machine cannot run the harness (see above)".into()),
            })
            .with_kind("root")
            .with_ignored_flag(skipped)
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
