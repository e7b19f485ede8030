//! Differential test: every `tests/scenarios/*.scn` is run under the real
//! Postfix 3.11 postmulti (the test root's own binary, copied out by
//! `tests/harness/make-root`) and under ours, each in a fresh throw-away
//! copy of the root (`tests/harness/run-scenario`), and the two recordings
//! must be identical byte for byte (`tests/harness/compare`).
//!
//! Environment:
//! * `POSTMULTI_SCENARIOS=a,b`: only scenarios whose file name contains
//!   `a` or `b`;
//! * `POSTMULTI_JOBS=N`: scenarios run N at a time (default 2; the real and
//!   our run of a scenario run side by side);
//! * `POSTMULTI_TEST_ROOT`: where the sid root is (default `target/sid-root`);
//! * `POSTMULTI_BINARY=PATH`: test another binary instead of ours (e.g. the
//!   real one, `target/sid-root.real-postmulti`, to check the harness);
//! * `CI` (non-empty): fail instead of skipping when the machine cannot run
//!   the harness (see `tests/common`).
//!
//! On failure the recordings are kept (the path is printed) and every
//! failing scenario is reported with its diffs.

mod common;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

struct Outcome {
    name: String,
    passed: bool,
    report: String,
}

fn scenarios() -> Vec<PathBuf> {
    let filters: Vec<String> = std::env::var("POSTMULTI_SCENARIOS")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let dir = common::repo().join("tests/scenarios");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("readdir").path())
        .filter(|p| p.extension().is_some_and(|x| x == "scn"))
        .filter(|p| {
            let name = p.file_stem().unwrap_or_default().to_string_lossy();
            filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
        })
        .collect();
    found.sort();
    found
}

fn run_one(root: &common::Root, ours: &Path, scenario: &Path, work: &Path) -> Outcome {
    let name = scenario
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let real_dir = work.join(&name).join("real");
    let ours_dir = work.join(&name).join("ours");
    // The two runs are independent and mostly wait (the real postmulti
    // sleeps a second before every fatal exit): run them side by side.
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
    let mut harness_errors = String::new();
    for ((binary, _), out) in runs.iter().zip(&outputs) {
        if !out.status.success() {
            harness_errors.push_str(&format!(
                "run-scenario {} failed ({}):\n{}",
                binary.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    if !harness_errors.is_empty() {
        return Outcome {
            name,
            passed: false,
            report: harness_errors,
        };
    }
    let (passed, report) = common::compare(&real_dir, &ours_dir);
    Outcome {
        name,
        passed,
        report,
    }
}

#[test]
fn differential() {
    let Some(root) = common::prepare("differential") else {
        return;
    };
    let ours = std::env::var_os("POSTMULTI_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_postmulti")));
    let all = scenarios();
    assert!(
        !all.is_empty(),
        "differential: no scenario in tests/scenarios matches POSTMULTI_SCENARIOS"
    );
    let jobs: usize = std::env::var("POSTMULTI_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .filter(|&j| j > 0)
        .unwrap_or(2);
    let work = tempfile::Builder::new()
        .prefix("postmulti-differential.")
        .tempdir()
        .expect("tempdir");
    let queue = Mutex::new(all.iter().cloned().collect::<VecDeque<_>>());
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let next = queue.lock().unwrap().pop_front();
                    let Some(scenario) = next else { break };
                    let outcome = run_one(&root, &ours, &scenario, work.path());
                    common::say(&format!(
                        "differential: {} {}",
                        if outcome.passed { "PASS" } else { "FAIL" },
                        outcome.name
                    ));
                    outcomes.lock().unwrap().push(outcome);
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap();
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.passed).collect();
    if failed.is_empty() {
        common::say(&format!(
            "differential: all {} scenarios passed",
            outcomes.len()
        ));
        return;
    }
    for o in &failed {
        println!("==================== FAIL {}\n{}", o.name, o.report);
    }
    let kept = work.keep();
    let names: Vec<&str> = failed.iter().map(|o| o.name.as_str()).collect();
    panic!(
        "differential: {} of {} scenarios failed: {}\n(recordings kept in {}: <scenario>/real and <scenario>/ours)",
        failed.len(),
        outcomes.len(),
        names.join(" "),
        kept.display()
    );
}
