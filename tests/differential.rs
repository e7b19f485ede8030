//! Differential test: every `tests/scenarios/*.scn` is run, on every
//! installation (`tests/common::INSTALLATIONS`: Debian sid, trixie and
//! bookworm, and upstream Postfix built from source), under that
//! installation's real postmulti and under ours, each in a fresh
//! throw-away copy of the installation's root (`tests/harness/run-scenario`),
//! and the two recordings must be identical byte for byte
//! (`tests/harness/compare`).
//!
//! Each scenario on each installation is a test of its own, named
//! `<installation>::<scenario>` (`cargo test --test differential -- --list`;
//! `cargo test lc-36` runs one scenario everywhere, `cargo test
//! bookworm::lc-36` one run), of kind `root`: it needs root for private
//! namespaces.  The usual libtest options apply.
//!
//! Ours has Postfix 3.11's front end everywhere.  Steps marked `front:` in
//! a scenario exercise only that front end (`-j` and the like); where the
//! installation's own postmulti is older, they are judged against the real
//! 3.11 postmulti's run of the same scenario in the sid root.  Other
//! deliberate differences are stated in `tests/expected/` (see its
//! README): `all/<scenario>/` on every installation, `<installation>/<scenario>/`
//! on one.
//!
//! Environment:
//! * `POSTMULTI_INSTALLATIONS=sid,upstream`: only these installations;
//! * `POSTMULTI_ROOTS`: where the roots are (default `target/roots`);
//! * `POSTMULTI_BINARY=PATH`: test another binary instead of ours;
//! * `CI` (non-empty): fail instead of skipping when the machine cannot run
//!   the harness (see `tests/common`).
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

/// Whether the scenario has steps that exercise only the front end.
fn has_front_steps(scenario: &Path) -> bool {
    std::fs::read_to_string(scenario)
        .unwrap_or_default()
        .lines()
        .any(|l| l.trim_start().starts_with("front:"))
}

/// The roots a run needs: its installation's, and sid's for the real 3.11
/// front end.
struct Roots {
    root: common::Root,
    front: Option<Arc<common::Root>>,
}

/// Runs `scenario` with the real postmulti and with `ours` side by side
/// (they mostly wait: the real one sleeps a second before every fatal
/// exit), and compares the recordings.
fn run_one(roots: &Roots, ours: &Path, scenario: &Path) -> Result<(), Failed> {
    let root = &roots.root;
    let name = name_of(scenario);
    let work = tempfile::Builder::new()
        .prefix(&format!(
            "postmulti-differential.{}.{name}.",
            root.installation
        ))
        .tempdir()
        .map_err(|e| format!("tempdir: {e}"))?;
    let real_dir = work.path().join("real");
    let ours_dir = work.path().join("ours");
    let front_dir = work.path().join("real-3.11");
    let front = roots
        .front
        .as_deref()
        .filter(|_| !root.has_our_front_end() && has_front_steps(scenario));
    let mut runs = vec![
        (root, root.real_postmulti.as_path(), &real_dir),
        (root, ours, &ours_dir),
    ];
    if let Some(sid) = front {
        runs.push((sid, sid.real_postmulti.as_path(), &front_dir));
    }
    let outputs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .iter()
            .map(|&(root, binary, outdir)| {
                s.spawn(move || common::run_scenario(root, binary, scenario, outdir))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("run thread"))
            .collect()
    });
    for ((_, binary, _), out) in runs.iter().zip(&outputs) {
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
    let expected_dir = common::repo().join("tests/expected");
    let expected = [
        expected_dir.join("all").join(&name),
        expected_dir.join(root.installation).join(&name),
    ];
    let front_ref = front.map(|_| front_dir.as_path());
    let (identical, report) = common::compare(&expected, front_ref, &real_dir, &ours_dir);
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
    let ours = common::ours();
    let installations = common::installations();
    // Listing needs no machine; running builds the roots once, up front
    // (sid's too when another installation needs the 3.11 front end).
    let needs_sid = installations.iter().any(|&i| i != "sid");
    let sid = (!args.list && needs_sid)
        .then(|| common::prepare("differential", "sid").map(Arc::new))
        .flatten();
    let mut trials = Vec::new();
    for installation in installations {
        let roots = if args.list {
            None
        } else {
            common::prepare("differential", installation).map(|root| {
                Arc::new(Roots {
                    root,
                    front: sid.clone(),
                })
            })
        };
        for scenario in &all {
            let name = format!("{installation}::{}", name_of(scenario));
            let (roots, ours, scenario) = (roots.clone(), ours.clone(), scenario.clone());
            let skipped = roots.is_none() && !args.list;
            trials.push(
                Trial::test(name, move || match roots {
                    Some(roots) => run_one(&roots, &ours, &scenario),
                    None => Err("this machine cannot run the harness (see above)".into()),
                })
                .with_kind("root")
                .with_ignored_flag(skipped),
            );
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
