//! Crash tests of the life-cycle actions, on every installation
//! (`tests/common::INSTALLATIONS`): postmulti is killed with SIGKILL at
//! random moments during `-e create`, `-e destroy` and `-e assign` (200
//! times in all on sid, 60 on each of the others), in the harness's
//! throw-away copy of the installation's root (its real Postfix around our
//! binary).  After every kill each
//! watched main.cf must be the old or the new file, never torn, and
//! running the command again must complete it (the same final state as an
//! uninterrupted run).  Then, since a native action changes files for
//! well under a millisecond, which random kills seldom hit, it is killed
//! once more at the entry of each file-changing system call it makes
//! (strace's fault injection; `--every-write`).  The protocol itself lives in
//! `tests/harness/bin/crashloop`; this file only runs it, one scenario per
//! action, and reports its summary lines.
//!
//! Each action on each installation is a test of its own,
//! `<installation>::<action>_survives_sigkill`, of kind `root`; they run
//! one after the other: about 3 minutes per installation when they run
//! in-process.  Same skip/CI rules as `tests/e2e.rs` (see `tests/common`).
//! Environment:
//!   POSTMULTI_BINARY=PATH    test another binary instead of ours
//!   POSTMULTI_CRASH_RUNS=N   N random kills per action instead of
//!                            70/70/60 (sid) or 20 (the others)
//!   POSTMULTI_CRASH_SEED=S   replay the kill delays of an earlier run
//!                            (crashloop prints its seed in its first line)

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use libtest_mimic::{Arguments, Trial};

/// The kill delays are calibrated on uninterrupted runs, so the actions
/// take turns rather than compete for the CPU with each other.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Runs `crashloop ACTION RUNS` as the only step of a scenario with our
/// binary and asserts that it found nothing wrong.
fn crashloop(root: &common::Root, ours: &Path, test: &str, action: &str, default_runs: u32) {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let runs: u32 = std::env::var("POSTMULTI_CRASH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_runs);
    // The step runs with a fixed environment (run-scenario), so the seed
    // goes into the command line.
    let seed = std::env::var("POSTMULTI_CRASH_SEED")
        .map(|s| format!("CRASHLOOP_SEED={s} "))
        .unwrap_or_default();

    let work = tempfile::Builder::new()
        .prefix("postmulti-crash.")
        .tempdir()
        .expect("tempdir");
    let scn = work.path().join(format!("{test}.scn"));
    let command = format!("{seed}crashloop --every-write {action} {runs}");
    std::fs::write(&scn, format!("{command}\n")).expect("write scenario");
    let out = work.path().join("run");

    // One step does all the runs: give it far more than the default 60 s
    // (a create through postmulti-script costs about 4 s per iteration).
    let timeout = 120 + 30 * u64::from(runs);
    let started = Instant::now();
    let result = Command::new(common::harness("run-scenario"))
        .arg(ours)
        .arg(&scn)
        .arg(&out)
        .env("POSTMULTI_TEST_ROOT", &root.dir)
        .env("POSTMULTI_STEP_TIMEOUT", timeout.to_string())
        .output()
        .expect("cannot run tests/harness/run-scenario");
    assert!(
        result.status.success(),
        "{test}: run-scenario failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );

    let step = common::step(&out, &command);
    // crashloop's own lines (the command, reference duration and seed;
    // the phase-2 window; the summary), whatever the outcome; the failure
    // blocks (": iteration N:" and the indented lines) only on failure.
    let prefix = format!("crashloop {action}: ");
    for line in step.stdout.lines() {
        if line.starts_with(&prefix) && !line.contains(": iteration ") {
            common::say(line);
        }
    }
    common::say(&format!(
        "{test}: {runs} runs in {:.0} s",
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(
        step.status,
        0,
        "{test}: `{}` exited {}{}:\n{}{}",
        step.cmd,
        step.status,
        if step.status == 124 {
            " (timed out)"
        } else {
            ""
        },
        step.stdout,
        step.stderr
    );
    assert!(
        step.stdout.contains(&format!(
            "crashloop {action}: every write: killed at each of"
        )),
        "{test}: no kill at every write:\n{}",
        step.stdout
    );
}

fn main() {
    let args = Arguments::from_args();
    let ours: Arc<PathBuf> = Arc::new(common::ours());
    let mut trials = Vec::new();
    for installation in common::installations() {
        let root = if args.list {
            None
        } else {
            common::prepare("crash", installation).map(Arc::new)
        };
        // sid gets the long run; every installation gets a kill at each
        // file-changing system call.
        let runs = |sid_runs| if installation == "sid" { sid_runs } else { 20 };
        for (action, default_runs) in [
            ("create", runs(70)),
            ("destroy", runs(70)),
            ("assign", runs(60)),
        ] {
            let name = format!("{installation}::{action}_survives_sigkill");
            let (root, ours) = (root.clone(), ours.clone());
            let skipped = root.is_none() && !args.list;
            let test = name.clone();
            trials.push(
                Trial::test(name, move || match root {
                    Some(root) => {
                        crashloop(&root, &ours, &test, action, default_runs);
                        Ok(())
                    }
                    None => Err("this machine cannot run the harness (see above)".into()),
                })
                .with_kind("root")
                .with_ignored_flag(skipped),
            );
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
