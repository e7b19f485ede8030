//! Shared by the suites that run scenarios (`tests/differential.rs`,
//! `tests/e2e.rs`, `tests/crash.rs`): the installations they run on,
//! finding (and, if needed, building) an installation's root with
//! `tests/harness/make-root`, the skip-or-fail rule, and running
//! `tests/harness/run-scenario` / `tests/harness/compare`.
//!
//! Skip rule: when the machine cannot run the harness (not root, no
//! unshare, no overlayfs, the root cannot be built) a test prints one line
//! `<test>: skipped: <reason>` and passes, unless the environment variable
//! `CI` is set to a non-empty value: then it fails.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// The repository (where `tests/harness` lives).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A script of `tests/harness`.
pub fn harness(name: &str) -> PathBuf {
    repo().join("tests/harness").join(name)
}

/// The Postfix installations every scenario suite runs on (see
/// tests/harness/make-root).  `POSTMULTI_INSTALLATIONS=sid,upstream`
/// picks some.
pub const INSTALLATIONS: [&str; 4] = ["sid", "trixie", "bookworm", "upstream"];

/// The installations to run on.
pub fn installations() -> Vec<&'static str> {
    let wanted = std::env::var("POSTMULTI_INSTALLATIONS").unwrap_or_default();
    let wanted: Vec<&str> = wanted.split(',').filter(|w| !w.is_empty()).collect();
    INSTALLATIONS
        .into_iter()
        .filter(|i| wanted.is_empty() || wanted.contains(i))
        .collect()
}

/// What a test works with once the machine is ready.
pub struct Root {
    pub installation: &'static str,
    /// The root made by make-root.
    pub dir: PathBuf,
    /// The installation's real postmulti, copied out of the root.
    pub real_postmulti: PathBuf,
    /// Its Postfix version (the package's, or "upstream X.Y.Z").
    pub version: String,
}

impl Root {
    /// Whether the installation's own postmulti is Postfix 3.11's, whose
    /// front end ours has everywhere.
    pub fn has_our_front_end(&self) -> bool {
        self.version.starts_with("3.11.")
    }
}

/// Writes one line to the real stderr (not captured by the test harness).
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn skip_or_fail(test: &str, reason: &str) -> Option<Root> {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{test}: cannot run (CI is set, so this is an error): {reason}");
    }
    say(&format!("{test}: skipped: {reason}"));
    None
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.output().map(|o| o.status.success()).unwrap_or(false)
}

static MAKE_ROOT: Mutex<()> = Mutex::new(());

/// Checks that this machine can run scenarios and returns the root of
/// `installation`, building it with make-root when needed (a quick no-op
/// when it is there).  `None` means "skipped" (the reason was printed).
pub fn prepare(test: &str, installation: &'static str) -> Option<Root> {
    let uid = Command::new("id").arg("-u").output();
    if !matches!(&uid, Ok(o) if o.stdout.trim_ascii() == b"0") {
        return skip_or_fail(test, "needs root for private mount namespaces");
    }
    if !succeeds(Command::new("unshare").args([
        "--mount",
        "--pid",
        "--fork",
        "--mount-proc",
        "true",
    ])) {
        return skip_or_fail(test, "unshare cannot make private mount/pid namespaces");
    }
    let _ = Command::new("modprobe").arg("overlay").output();
    let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    if !filesystems
        .lines()
        .any(|l| l.split_whitespace().last() == Some("overlay"))
    {
        return skip_or_fail(test, "the kernel has no overlayfs");
    }
    let _guard = MAKE_ROOT.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::var_os("POSTMULTI_ROOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target/roots"))
        .join(installation);
    if !Path::new(&format!("{}.stamp", dir.display())).exists() {
        say(&format!(
            "{test}: building the {installation} root {} with tests/harness/make-root (takes minutes)",
            dir.display()
        ));
    }
    let out = Command::new(harness("make-root"))
        .arg(installation)
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let stdout = String::from_utf8_lossy(&o.stdout);
            let dir = PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
            let real_postmulti = PathBuf::from(format!("{}.real-postmulti", dir.display()));
            let version = std::fs::read_to_string(format!("{}.version", dir.display()))
                .unwrap_or_default()
                .trim()
                .to_string();
            Some(Root {
                installation,
                dir,
                real_postmulti,
                version,
            })
        }
        Ok(o) => {
            let stderr = String::from_utf8_lossy(&o.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            skip_or_fail(
                test,
                &format!(
                    "the {installation} root cannot be built (tests/harness/make-root failed: {})",
                    tail.join(" | ")
                ),
            )
        }
        Err(e) => skip_or_fail(test, &format!("cannot run tests/harness/make-root: {e}")),
    }
}

/// Runs `run-scenario BINARY SCENARIO OUTDIR` against the test root.
pub fn run_scenario(root: &Root, binary: &Path, scenario: &Path, outdir: &Path) -> Output {
    Command::new(harness("run-scenario"))
        .arg(binary)
        .arg(scenario)
        .arg(outdir)
        .env("POSTMULTI_TEST_ROOT", &root.dir)
        .output()
        .expect("cannot run tests/harness/run-scenario")
}

/// Runs `compare [-e EXPECTED]... [-f FRONT] A B`; returns (identical,
/// report).
pub fn compare(expected: &[PathBuf], front: Option<&Path>, a: &Path, b: &Path) -> (bool, String) {
    let mut command = Command::new(harness("compare"));
    for dir in expected {
        command.arg("-e").arg(dir);
    }
    if let Some(front) = front {
        command.arg("-f").arg(front);
    }
    let out = command
        .arg(a)
        .arg(b)
        .output()
        .expect("cannot run tests/harness/compare");
    let mut report = String::from_utf8_lossy(&out.stdout).into_owned();
    report.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), report)
}

/// One recorded step of a run (`OUTDIR/steps/NNN`).
pub struct Step {
    pub cmd: String,
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub syslog: String,
}

/// Every step of a run recorded in `outdir` whose command is exactly
/// `cmd`, in the order they ran.
pub fn steps_running(outdir: &Path, cmd: &str) -> Vec<Step> {
    let dir = outdir.join("steps");
    let mut numbers: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("readdir").path())
        .collect();
    numbers.sort();
    numbers
        .iter()
        .map(|d| read_step(d))
        .filter(|step| step.cmd == cmd)
        .collect()
}

/// The one step of a run that ran `cmd`.
pub fn step(outdir: &Path, cmd: &str) -> Step {
    let mut found = steps_running(outdir, cmd);
    assert_eq!(found.len(), 1, "expected exactly one step running {cmd:?}");
    found.remove(0)
}

fn read_step(dir: &Path) -> Step {
    let read = |f: &str| read_text(&dir.join(f));
    Step {
        cmd: read("cmd").trim_end().to_string(),
        status: read("status").trim().parse().unwrap_or(-1),
        stdout: read("stdout"),
        stderr: read("stderr"),
        syslog: read("syslog"),
    }
}

/// The text of `path` (lossily decoded); the test fails if it cannot be
/// read.
pub fn read_text(path: &Path) -> String {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    String::from_utf8_lossy(&bytes).into_owned()
}

/// What a test script run in a root (tests/package/package.sh,
/// tests/systemd/generator.sh) left in its output directory: files, and each step it
/// ran as NAME.status, NAME.out and NAME.err.
pub struct StepFiles {
    pub dir: PathBuf,
}

impl StepFiles {
    pub fn read(&self, name: &str) -> String {
        read_text(&self.dir.join(name))
    }

    /// Whether the script ran step `name`.
    pub fn ran(&self, name: &str) -> bool {
        self.dir.join(format!("{name}.status")).exists()
    }

    /// A step's status, stdout and stderr.
    pub fn step(&self, name: &str) -> (i32, String, String) {
        let status = self
            .read(&format!("{name}.status"))
            .trim()
            .parse()
            .unwrap_or(-1);
        (
            status,
            self.read(&format!("{name}.out")),
            self.read(&format!("{name}.err")),
        )
    }

    /// The step's stdout, after it succeeded.
    pub fn succeeded(&self, name: &str) -> String {
        let (status, out, err) = self.step(name);
        assert_eq!(status, 0, "step {name} failed:\n{out}{err}");
        out
    }

    /// The step succeeded and wrote exactly `expected`, and nothing on
    /// stderr.
    pub fn says(&self, name: &str, expected: &str) {
        let (status, out, err) = self.step(name);
        assert_eq!(
            (status, out.as_str(), err.as_str()),
            (0, expected, ""),
            "step {name}"
        );
    }
}

/// The postmulti under test: `$POSTMULTI_BINARY`, else the one cargo built.
pub fn ours() -> PathBuf {
    std::env::var_os("POSTMULTI_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_postmulti")))
}

/// A test of a suite that runs each test on each installation's root.
pub type RootTest = fn(&Root, &Path);

/// The main of such a suite (`suite` names it in the skip lines): every
/// test as `<installation>::<name>`, of kind `root`, ignored when only
/// listed or when the machine cannot run the harness.
pub fn run_on_each_installation(suite: &str, tests: &[(&'static str, RootTest)]) -> ! {
    let args = libtest_mimic::Arguments::from_args();
    let ours = std::sync::Arc::new(ours());
    let mut trials = Vec::new();
    for installation in installations() {
        let root = if args.list {
            None
        } else {
            prepare(suite, installation).map(std::sync::Arc::new)
        };
        for &(name, test) in tests {
            let (root, ours) = (root.clone(), ours.clone());
            let skipped = root.is_none() && !args.list;
            trials.push(
                libtest_mimic::Trial::test(format!("{installation}::{name}"), move || match root {
                    Some(root) => {
                        test(&root, &ours);
                        Ok(())
                    }
                    None => Err("this machine cannot run the harness (see above)".into()),
                })
                .with_kind("root")
                .with_ignored_flag(skipped),
            );
        }
    }
    libtest_mimic::run(&args, trials).exit()
}
