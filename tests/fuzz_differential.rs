//! Differential fuzzing of the main.cf reader, the `$name` expander, the
//! editor and `SilentMainCf` against an installation's real `postconf`
//! (docs/fuzzing.md).
//!
//! Each case is a generated or mutated main.cf and a `-e`/`-X`/`-#`
//! request.  The real postconf runs three times on it, in a throw-away
//! overlay of the installation's root (`tests/harness/fuzz-postconf`):
//! `postconf -c DIR -h NAMES`, `postconf -c DIR -hx NAMES` and
//! `postconf -c DIR <mode> -- ARGS`; our code runs on the same input in the
//! same process, and these must agree:
//!
//! * reader: the warnings and the fatal error of `MainCf::parse`, in
//!   order, are the first lines of postconf's standard error, and postconf
//!   has no other reader message;
//! * values: `postconf -h` prints each setting as `MainCf::get` has it
//!   (postconf collapses whitespace);
//! * expander: `postconf -hx` prints each value as `expand()` makes it,
//!   with lookups in main.cf and in `postconf -d`'s defaults; each name
//!   `expand()` calls undefined is one postconf warns about; when postconf
//!   gives up ("macro processing error"), the warning it gave up on is one
//!   `expand()` gives for some value it could have expanded;
//! * silence: when `SilentMainCf` answers postmulti's five names, the real
//!   `postconf -xc DIR -h` prints exactly those values and nothing on
//!   standard error;
//! * editor: `EditRequest::new` + `apply` leave the file postconf leaves,
//!   and predict its standard error byte for byte.
//!
//! A disagreement is saved under `target/fuzz-failures/` with everything
//! needed to turn it into a regression test, and printed with its seed and
//! index.  Disagreements of a known kind (`known_kind`, each with an ignored
//! regression test in `tests/fuzz_regressions.rs`; none today) are counted
//! and listed, but fail the run only with `POSTMULTI_FUZZ_STRICT=1`.
//!
//! Environment: `POSTMULTI_FUZZ_CASES` (default 5000),
//! `POSTMULTI_FUZZ_SEED` (a number or `random`; default fixed),
//! `POSTMULTI_FUZZ_FIRST` (index of the first case, default 0),
//! `POSTMULTI_FUZZ_JOBS` (parallel namespaces, default 1),
//! `POSTMULTI_FUZZ_INSTALLATIONS` (default `sid`), `POSTMULTI_FUZZ_STRICT`,
//! and, as for the other namespace suites, `POSTMULTI_ROOTS` and `CI`.
//!
//! The same binary is the worker: run with `POSTMULTI_FUZZ_WORKER=1` it
//! does the cases itself (it is what fuzz-postconf starts in the root).

mod common;
mod fuzzgen;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use fuzzgen::rng::{count_from_env, seed_from_env};
use fuzzgen::{Names, Rng, Style};
use libtest_mimic::{Arguments, Failed, Trial};
use postmulti::config::installation;
use postmulti::instance::secondary::{PARAMETERS, SilentMainCf};
use postmulti::maincf::MainCf;
use postmulti::maincf::edit::{EditMode, EditRequest, apply};
use postmulti::maincf::expand::expand;

/// The seed of a run that names none: CI runs the same cases every time.
const DEFAULT_SEED: u64 = 20_260_601;
const DEFAULT_CASES: u64 = 5_000;
/// How many examples of each known disagreement a run keeps.
const KEEP_KNOWN: u64 = 20;

/// The configuration directory the cases live in, inside the root.
const DIR: &[u8] = b"/tmp/fz";
const MAIN_CF: &[u8] = b"/tmp/fz/main.cf";
const POSTCONF: &str = "/usr/sbin/postconf";

fn main() {
    if std::env::var_os("POSTMULTI_FUZZ_WORKER").is_some() {
        std::process::exit(worker::run());
    }
    let args = Arguments::from_args();
    let wanted = std::env::var("POSTMULTI_FUZZ_INSTALLATIONS").unwrap_or_else(|_| "sid".into());
    let trials = common::INSTALLATIONS
        .into_iter()
        .filter(|i| wanted.split(',').any(|w| w == *i))
        .map(|installation| {
            Trial::test(format!("{installation}::postconf"), move || {
                outer(installation)
            })
            .with_kind("root")
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

/// Runs the cases in `POSTMULTI_FUZZ_JOBS` namespaces of the installation's
/// root and reports.
fn outer(installation: &'static str) -> Result<(), Failed> {
    let test = "fuzz_differential";
    let Some(root) = common::prepare(test, installation) else {
        return Ok(());
    };
    let seed = seed_from_env("POSTMULTI_FUZZ_SEED", DEFAULT_SEED);
    let cases = count_from_env("POSTMULTI_FUZZ_CASES", DEFAULT_CASES);
    let first = count_from_env("POSTMULTI_FUZZ_FIRST", 0);
    let jobs = count_from_env("POSTMULTI_FUZZ_JOBS", 1).clamp(1, 16);
    let out = common::repo().join("target/fuzz-failures");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let me = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    common::say(&format!(
        "{test}[{installation}]: postfix {}, seed {seed}, cases {first}..{} in {jobs} namespace(s)",
        root.version,
        first + cases
    ));
    let started = Instant::now();
    let mut children = Vec::new();
    for job in 0..jobs {
        let lo = first + cases * job / jobs;
        let hi = first + cases * (job + 1) / jobs;
        let child = Command::new(common::harness("fuzz-postconf"))
            .arg(&root.dir)
            .arg(&me)
            .arg(&out)
            .env("POSTMULTI_FUZZ_SEED", seed.to_string())
            .env("POSTMULTI_FUZZ_FIRST", lo.to_string())
            .env("POSTMULTI_FUZZ_CASES", (hi - lo).to_string())
            .env("POSTMULTI_FUZZ_LABEL", installation)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run tests/harness/fuzz-postconf: {e}"))?;
        children.push(child);
    }
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    let mut reports = Vec::new();
    let mut broken = Vec::new();
    for child in children {
        let output = child.wait_with_output().map_err(|e| format!("wait: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        for line in text.lines() {
            if let Some(counts) = line.strip_prefix("counts ") {
                for pair in counts.split(' ') {
                    if let Some((k, v)) = pair.split_once('=') {
                        *totals.entry(k.into()).or_default() += v.parse::<u64>().unwrap_or(0);
                    }
                }
            } else if let Some(report) = line.strip_prefix("failure ") {
                reports.push(report.to_string());
            }
        }
        if !output.status.success() {
            broken.push(format!("a worker ended with {}", output.status));
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let done = totals.get("cases").copied().unwrap_or(0);
    common::say(&format!(
        "{test}[{installation}]: {done} cases in {seconds:.1} s ({:.1} cases/s)",
        done as f64 / seconds
    ));
    let listed: Vec<String> = totals.iter().map(|(k, v)| format!("{k}={v}")).collect();
    common::say(&format!("{test}[{installation}]: {}", listed.join(" ")));
    for report in &reports {
        common::say(&format!("{test}[{installation}]: {report}"));
    }
    if done != cases {
        broken.push(format!("{done} of {cases} cases ran"));
    }
    let failing = totals.get("failing").copied().unwrap_or(0);
    if failing > 0 {
        broken.push(format!(
            "{failing} case(s) disagree with the real postconf (seed {seed}; saved under {})",
            out.display()
        ));
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(broken.join("; ").into())
    }
}

/// Everything that runs inside the root.
mod worker {
    use super::*;

    /// One generated input.
    pub struct Case {
        pub index: u64,
        pub style: Style,
        pub main_cf: Vec<u8>,
        pub mode: &'static str,
        pub args: Vec<Vec<u8>>,
    }

    pub fn make_case(seed: u64, index: u64, names: &Names) -> Case {
        let mut rng = Rng::for_case(seed, index);
        let style = if rng.chance(1, 3) {
            Style::Clean
        } else {
            Style::Wild
        };
        let mut main_cf = if style == Style::Wild && rng.chance(1, 12) {
            let base = *rng.pick(fuzzgen::CORPUS);
            fuzzgen::mutate(&mut rng, base)
        } else {
            names.main_cf(&mut rng, style)
        };
        if style == Style::Wild && rng.chance(1, 4) {
            main_cf = fuzzgen::mutate(&mut rng, &main_cf);
        }
        let (mode, args) = names.edit_request(&mut rng, &main_cf);
        Case {
            index,
            style,
            main_cf,
            mode,
            args,
        }
    }

    /// What the real postconf did.
    pub struct Run {
        pub stdout: Vec<u8>,
        pub stderr: Vec<u8>,
        pub timed_out: bool,
        /// How it ended (`killed` after a fatal error is normal).
        pub status: String,
    }

    impl Run {
        pub fn stderr_lines(&self) -> Vec<&[u8]> {
            lines(&self.stderr)
        }

        /// Whether it died of a signal we did not send.
        pub fn crashed(&self) -> bool {
            self.status.starts_with("signal") && !self.status.contains("SIGKILL")
        }

        /// The text of its fatal error, if it had one.
        pub fn fatal(&self) -> Option<&[u8]> {
            self.stderr_lines()
                .last()
                .and_then(|l| l.strip_prefix(b"postconf: fatal: ".as_slice()))
        }
    }

    /// Runs the real postconf.  Postfix sleeps a second after printing a
    /// fatal error before it exits; the process is killed as soon as the
    /// fatal line is complete (its buffered standard output is lost either
    /// way: it exits with _exit()).
    pub fn postconf(args: &[&[u8]]) -> Run {
        // argv[0] as a shell's PATH search gives it: Postfix names itself
        // after it in every message.
        let mut child = Command::new(POSTCONF)
            .arg0("postconf")
            .args(args.iter().map(|a| OsStr::from_bytes(a)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run postconf");
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let mut stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let out_thread = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stdout.read_to_end(&mut buf);
            buf
        });
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let err_thread = std::thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            loop {
                let mut line = Vec::new();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut err = Vec::new();
        let mut timed_out = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let fatal = line.starts_with(b"postconf: fatal: ") && line.ends_with(b"\n");
                    err.extend_from_slice(&line);
                    if fatal {
                        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    timed_out = true;
                    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
                    for line in rx.iter() {
                        err.extend_from_slice(&line);
                    }
                    break;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        let _ = err_thread.join();
        let stdout = out_thread.join().unwrap_or_default();
        let status = match child.wait() {
            Ok(s) => s.to_string(),
            Err(e) => format!("wait: {e}"),
        };
        Run {
            stdout,
            stderr: err,
            timed_out,
            status,
        }
    }

    /// Lines without their newline (a last line without one counts).
    pub fn lines(text: &[u8]) -> Vec<&[u8]> {
        let mut all: Vec<&[u8]> = text.split(|&c| c == b'\n').collect();
        if all.last() == Some(&&b""[..]) {
            all.pop();
        }
        all
    }

    /// A file with a modification time an hour ago: Postfix pauses before
    /// reading a main.cf written in the last seconds.
    pub fn write_cold(path: &[u8], content: &[u8]) {
        let path = Path::new(OsStr::from_bytes(path));
        std::fs::write(path, content).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let past = SystemTime::now() - Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(past))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }

    /// postconf prints each value with every run of blanks made one space.
    pub fn collapse(value: &[u8]) -> Vec<u8> {
        value
            .split(|b| b" \t\r\n".contains(b))
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(&b' ')
    }

    /// One way in which ours and the real postconf differ.
    pub struct Mismatch {
        pub kind: &'static str,
        pub what: String,
        pub ours: Vec<u8>,
        pub real: Vec<u8>,
    }

    fn mismatch(
        kind: &'static str,
        what: impl Into<String>,
        ours: impl AsRef<[u8]>,
        real: impl AsRef<[u8]>,
    ) -> Mismatch {
        Mismatch {
            kind,
            what: what.into(),
            ours: ours.as_ref().to_vec(),
            real: real.as_ref().to_vec(),
        }
    }

    /// Shows bytes as a Rust byte string.
    pub fn show(bytes: &[u8]) -> String {
        format!("b\"{}\"", bytes.escape_ascii())
    }

    /// What the run knows about the installation.
    pub struct Context {
        pub defaults: HashMap<Vec<u8>, Vec<u8>>,
        pub names: Names,
        pub known: HashSet<Vec<u8>>,
        pub master_cf: Vec<u8>,
    }

    impl Context {
        pub fn new() -> Context {
            std::fs::create_dir_all(OsStr::from_bytes(DIR)).expect("mkdir /tmp/fz");
            let master_cf = Vec::new();
            write_cold(b"/tmp/fz/master.cf", &master_cf);
            write_cold(MAIN_CF, b"");
            let install =
                installation::discover(&MainCf::default(), installation::CacheWrites::Forbidden);
            let run = postconf(&[b"-c", DIR, b"-d"]);
            assert!(
                run.stderr.is_empty() && !run.stdout.is_empty(),
                "postconf -d: {}",
                show(&run.stderr)
            );
            let mut defaults = HashMap::new();
            for line in lines(&run.stdout) {
                if let Ok((n, v)) = postmulti::maincf::split_name_value(line) {
                    defaults.insert(n.to_vec(), v.to_vec());
                }
            }
            let quiet = |n: &[u8]| install.accepts_quietly(n) == Some(true);
            let base = Names::default();
            let names = Names {
                known: base
                    .known
                    .into_iter()
                    .filter(|n| defaults.contains_key(n) && quiet(n))
                    .collect(),
                noisy: base
                    .noisy
                    .into_iter()
                    .filter(|n| defaults.contains_key(n) && !quiet(n))
                    .collect(),
            };
            assert!(
                install.accepts_quietly(b"relayhost") == Some(true),
                "the installation's quiet parameter names are not known"
            );
            let known = names.known.iter().cloned().collect();
            Context {
                defaults,
                names,
                known,
                master_cf,
            }
        }
    }

    /// The result of one case.
    #[derive(Default)]
    pub struct Outcome {
        pub mismatches: Vec<Mismatch>,
        /// Comparisons left out, by reason.
        pub excluded: Vec<&'static str>,
        /// Facts for the statistics.
        pub notes: Vec<&'static str>,
        pub runs: Vec<(&'static str, Run)>,
    }

    fn is_reader_line(line: &[u8]) -> bool {
        let w = msg(b"postconf: warning: ", MAIN_CF);
        let f = msg(b"postconf: fatal: ", MAIN_CF);
        line.starts_with(&msg(&w, b", line "))
            || line.starts_with(&msg(&w, b": logical line must not start with whitespace"))
            || line.starts_with(&msg(&f, b", line "))
    }

    /// Postfix's messages show each byte that is not printable ASCII as `?`
    /// (postconf does not enable UTF-8 for them).
    fn printable(text: &[u8]) -> Vec<u8> {
        postmulti::diag::printable(text, false)
    }

    fn msg(a: &[u8], b: &[u8]) -> Vec<u8> {
        [a, b].concat()
    }

    fn join_lines(lines: &[Vec<u8>]) -> Vec<u8> {
        lines.iter().flat_map(|l| msg(l, b"\n")).collect()
    }

    /// Compares the reader's messages with the first lines of `run`'s
    /// standard error.
    fn check_reader(call: &str, expected: &[Vec<u8>], fatal: bool, run: &Run, o: &mut Outcome) {
        let real = run.stderr_lines();
        let prefix_ok = real.len() >= expected.len()
            && real.iter().zip(expected).all(|(r, e)| *r == e.as_slice());
        let rest_ok = if fatal {
            real.len() == expected.len()
        } else {
            real.iter().skip(expected.len()).all(|l| !is_reader_line(l))
        };
        if !prefix_ok || !rest_ok {
            let shown: Vec<Vec<u8>> = real.iter().map(|l| l.to_vec()).collect();
            o.mismatches.push(mismatch(
                "reader",
                format!("standard error of {call}: the reader's messages"),
                join_lines(expected),
                join_lines(&shown),
            ));
        }
    }

    pub fn check(case: &Case, cx: &Context) -> Outcome {
        let mut o = Outcome::default();
        write_cold(MAIN_CF, &case.main_cf);

        // Ours: the reader.
        let mut warnings = Vec::new();
        let seed: [(&[u8], &[u8]); 1] = [(b"config_directory", DIR)];
        let parsed = MainCf::parse(
            &case.main_cf,
            Path::new(OsStr::from_bytes(MAIN_CF)),
            &seed,
            &mut |w| warnings.push(w),
        );
        let mut expected: Vec<Vec<u8>> = warnings
            .iter()
            .map(|w| msg(b"postconf: warning: ", &printable(w)))
            .collect();
        if let Err(e) = &parsed {
            expected.push(msg(b"postconf: fatal: ", &printable(&e.0)));
        }

        // The names asked for: postmulti's five, the known names main.cf
        // sets, config_directory.
        let mut query: Vec<Vec<u8>> = PARAMETERS.iter().map(|p| p.as_bytes().to_vec()).collect();
        if let Ok(cf) = &parsed {
            for n in cf.names() {
                if cx.known.contains(n) && !query.iter().any(|q| q == n) {
                    query.push(n.to_vec());
                }
            }
        }
        query.push(b"config_directory".to_vec());
        let mut h_args: Vec<&[u8]> = vec![b"-c", DIR, b"-h"];
        h_args.extend(query.iter().map(Vec::as_slice));
        let h = postconf(&h_args);
        let mut x_args: Vec<&[u8]> = vec![b"-c", DIR, b"-hx"];
        x_args.extend(query.iter().map(Vec::as_slice));
        let x = postconf(&x_args);

        check_reader("postconf -h", &expected, parsed.is_err(), &h, &mut o);
        check_reader("postconf -hx", &expected, parsed.is_err(), &x, &mut o);
        for (call, run) in [("postconf -h", &h), ("postconf -hx", &x)] {
            if run.timed_out {
                o.mismatches.push(mismatch(
                    "timeout",
                    format!("{call} timed out"),
                    "",
                    &run.stderr,
                ));
            }
        }

        let crashed = [&h, &x].iter().any(|r| r.crashed());
        let validated = [&h, &x].iter().any(|r| {
            r.fatal()
                .is_some_and(|f| VALIDATIONS.iter().any(|v| f.starts_with(v)))
        });
        if crashed {
            // A bug of postconf's (a stack overflow in deep expansions):
            // nothing to compare but that SilentMainCf does not answer.
            o.excluded.push("postconf-crashed");
            if parsed.is_ok() {
                check_silence(case, cx, &x, &mut o);
            }
        } else if validated {
            // postconf checks a few values at start-up (it resolves
            // inet_interfaces, for one), which neither the reader nor the
            // expander does.
            o.excluded.push("postconf-validation");
            if parsed.is_ok() {
                check_silence(case, cx, &x, &mut o);
            }
        } else if let Ok(cf) = &parsed {
            check_values(cf, &query, &h, &mut o);
            if cf.get(b"mydomain").is_some() && cf.get(b"myhostname").is_none() {
                // postconf computes the default of myhostname from
                // mydomain's value; `postconf -d` shows it for the default
                // mydomain only.
                o.excluded.push("computed-myhostname");
            } else {
                check_expansion(cf, &query, &x, cx, &mut o);
            }
            check_silence(case, cx, &x, &mut o);
        }
        o.runs.push(("h", h));
        o.runs.push(("hx", x));
        check_edit(case, &mut o);
        o
    }

    /// `postconf -h`: the settings as the reader has them.
    fn check_values(cf: &MainCf, query: &[Vec<u8>], h: &Run, o: &mut Outcome) {
        if let Some(fatal) = h.fatal() {
            if !is_macro_fatal(fatal) {
                o.mismatches.push(mismatch(
                    "h-fatal",
                    "postconf -h failed, the reader did not",
                    "",
                    &h.stderr,
                ));
            }
            return;
        }
        let printed = lines(&h.stdout);
        if printed.len() != query.len() {
            o.mismatches.push(mismatch(
                "h-lines",
                format!(
                    "postconf -h printed {} lines for {} names",
                    printed.len(),
                    query.len()
                ),
                join_lines(query),
                &h.stdout,
            ));
            return;
        }
        for (name, line) in query.iter().zip(printed) {
            if let Some(value) = cf.get(name) {
                let ours = collapse(value);
                if ours != line {
                    o.mismatches.push(mismatch(
                        "value",
                        format!("postconf -h {}", String::from_utf8_lossy(name)),
                        ours,
                        line,
                    ));
                }
            }
        }
    }

    const DOMAIN: &[u8] = b"cannot convert domain name: ";

    /// The beginnings of postconf's fatal errors about values it checks at
    /// start-up.
    const VALIDATIONS: &[&[u8]] = &[
        b"parameter inet_interfaces: ",
        b"config variable inet_interfaces: ",
        b"unknown mynetworks mask style value ",
        b"unknown inet_protocols value ",
    ];

    /// postconf's fatal error when an expansion failed: its own, or the
    /// mail_conf library's.
    fn is_macro_fatal(text: &[u8]) -> bool {
        text == b"macro processing error" || text == b"dictionary mail_dict: macro processing error"
    }

    /// `postconf -hx`: the values as `expand()` makes them.
    fn check_expansion(cf: &MainCf, query: &[Vec<u8>], x: &Run, cx: &Context, o: &mut Outcome) {
        let setting = |n: &[u8]| cf.get(n).or_else(|| cx.defaults.get(n).map(Vec::as_slice));
        let mut lookup = |n: &[u8]| setting(n).map(<[u8]>::to_vec);
        let ours: Vec<_> = query
            .iter()
            .map(|n| expand(setting(n).unwrap_or_default(), &mut lookup, true))
            .collect();
        match x.fatal() {
            Some(fatal) if is_macro_fatal(fatal) => {
                let lines = x.stderr_lines();
                let warned: Vec<&[u8]> = lines[..lines.len() - 1]
                    .iter()
                    .filter_map(|l| l.strip_prefix(b"postconf: warning: ".as_slice()))
                    .collect();
                let gave_up_on = warned.last().copied().unwrap_or_default();
                // Every value postconf might have expanded: main.cf's and
                // the defaults.
                let mut ours_errors: Vec<Vec<u8>> = Vec::new();
                let names: Vec<&[u8]> = cf
                    .names()
                    .chain(cx.defaults.keys().map(Vec::as_slice))
                    .collect();
                // The mail_conf library (postconf evaluates a few
                // parameters with it at start-up, e.g. myhostname and
                // inet_interfaces) sees main.cf's settings and no defaults.
                let mut main_cf_only = |n: &[u8]| cf.get(n).map(<[u8]>::to_vec);
                for n in names {
                    let raw = setting(n).unwrap_or_default();
                    if let Err(e) = expand(raw, &mut lookup, true) {
                        ours_errors.extend(e.warnings.iter().map(|w| printable(w)));
                    }
                    if let Err(e) = expand(raw, &mut main_cf_only, true) {
                        ours_errors.extend(e.warnings.iter().map(|w| printable(w)));
                    }
                }
                let ours_say = |w: &[u8]| ours_errors.iter().any(|e| e == w);
                if ours_say(gave_up_on) {
                    o.notes.push("hx-gave-up-agreed");
                } else if ours_errors.iter().any(|e| e.starts_with(DOMAIN)) {
                    o.excluded.push("non-ascii-domain");
                } else {
                    o.mismatches.push(mismatch(
                        "expand-error",
                        "the warning postconf -hx gave up on (its last) is not one expand() gives for any value",
                        join_lines(&ours_errors),
                        join_lines(&warned.iter().map(|w| w.to_vec()).collect::<Vec<_>>()),
                    ));
                }
            }
            Some(_) => o.mismatches.push(mismatch(
                "hx-fatal",
                "postconf -hx failed, not in the reader nor in expansion",
                "",
                &x.stderr,
            )),
            None => {
                let printed = lines(&x.stdout);
                if printed.len() != query.len() {
                    o.mismatches.push(mismatch(
                        "hx-lines",
                        format!(
                            "postconf -hx printed {} lines for {} names",
                            printed.len(),
                            query.len()
                        ),
                        join_lines(query),
                        &x.stdout,
                    ));
                    return;
                }
                let undefined_prefix = msg(
                    &msg(b"postconf: warning: ", MAIN_CF),
                    b": undefined parameter: ",
                );
                let real_undefined: HashSet<&[u8]> = x
                    .stderr_lines()
                    .into_iter()
                    .filter_map(|l| l.strip_prefix(undefined_prefix.as_slice()))
                    .collect();
                // postconf finds undefined names by scanning each value of
                // main.cf; a syntax error (in a branch expansion does not
                // take) ends the scan of that value early.
                let unused_prefix = msg(
                    &msg(b"postconf: warning: ", MAIN_CF),
                    b": unused parameter: ",
                );
                let scan_complete = x.stderr_lines().into_iter().all(|l| {
                    is_reader_line(l)
                        || l.starts_with(&undefined_prefix)
                        || l.starts_with(&unused_prefix)
                });
                if !scan_complete {
                    o.notes.push("undefined-check-skipped");
                }
                for ((name, line), result) in query.iter().zip(printed).zip(ours) {
                    let shown = String::from_utf8_lossy(name);
                    match result {
                        Ok(e) => {
                            let value = collapse(&e.value);
                            if value != line {
                                o.mismatches.push(mismatch(
                                    "expand-value",
                                    format!("postconf -hx {shown}"),
                                    value,
                                    line,
                                ));
                            }
                            for u in e.undefined.iter().filter(|_| scan_complete) {
                                if !real_undefined.contains(u.as_slice()) {
                                    o.mismatches.push(mismatch(
                                        "expand-undefined",
                                        format!(
                                            "postconf -hx {shown}: expand() found {} undefined, postconf does not warn",
                                            String::from_utf8_lossy(u)
                                        ),
                                        u,
                                        &x.stderr,
                                    ));
                                }
                            }
                        }
                        Err(e) if e.warnings.iter().any(|w| w.starts_with(DOMAIN)) => {
                            o.excluded.push("non-ascii-domain");
                        }
                        Err(e) => o.mismatches.push(mismatch(
                            "expand-failed",
                            format!("postconf -hx {shown} succeeded, expand() failed"),
                            join_lines(&e.warnings),
                            line,
                        )),
                    }
                }
            }
        }
    }

    /// `SilentMainCf`: when it answers, postconf says nothing else.
    fn check_silence(case: &Case, cx: &Context, x: &Run, o: &mut Outcome) {
        let Some(silent) = SilentMainCf::parse(DIR, &case.main_cf, &cx.master_cf) else {
            return;
        };
        let Some(values) = PARAMETERS
            .iter()
            .map(|n| silent.expanded(n))
            .collect::<Option<Vec<_>>>()
        else {
            o.notes.push("silent-declined");
            return;
        };
        o.notes.push("silent-claimed");
        let printed = lines(&x.stdout);
        let agrees = |run: &Run, printed: &[&[u8]]| {
            run.stderr.is_empty()
                && printed.len() >= values.len()
                && values.iter().zip(printed).all(|(v, p)| v == p)
        };
        if agrees(x, &printed) {
            return;
        }
        // Ask exactly what postmulti asks.
        let mut args: Vec<&[u8]> = vec![b"-xc", DIR, b"-h"];
        args.extend(PARAMETERS.iter().map(|p| p.as_bytes()));
        let exact = postconf(&args);
        let exact_printed = lines(&exact.stdout);
        if !agrees(&exact, &exact_printed) {
            // The values agree (or postconf printed none: it gave up), only
            // postconf says more: a different disagreement from values
            // that differ.
            let same_values =
                exact_printed.is_empty() || values.iter().zip(&exact_printed).all(|(v, p)| v == p);
            o.mismatches.push(mismatch(
                if same_values { "silent" } else { "silent-values" },
                "SilentMainCf answers; postconf -xc DIR -h <postmulti's five> says more or prints other values",
                join_lines(&values),
                msg(&exact.stdout, &msg(b"-- stderr:\n", &exact.stderr)),
            ));
        }
        o.runs.push(("silent", exact));
    }

    /// `postconf -e/-X/-#`: the file it leaves and what it says.
    fn check_edit(case: &Case, o: &mut Outcome) {
        let mode = match case.mode {
            "-e" => EditMode::Set,
            "-X" => EditMode::Remove,
            _ => EditMode::CommentOut,
        };
        let dialect = installation::postconf_dialect();
        let (want_file, want_err) = match EditRequest::new(mode, &case.args, dialect) {
            Err(refusal) => {
                let mut err: Vec<Vec<u8>> = refusal
                    .warnings
                    .iter()
                    .map(|w| msg(b"postconf: warning: ", &printable(w)))
                    .collect();
                // No fatal line where postconf dies of a signal.
                if let Some(fatal) = &refusal.fatal {
                    err.push(msg(b"postconf: fatal: ", &printable(fatal)));
                }
                (case.main_cf.clone(), join_lines(&err))
            }
            Ok((request, mut warnings)) => {
                let (out, more) = apply(&case.main_cf, MAIN_CF, &request);
                warnings.extend(more);
                let err: Vec<Vec<u8>> = warnings
                    .iter()
                    .map(|w| msg(b"postconf: warning: ", &printable(w)))
                    .collect();
                (out, join_lines(&err))
            }
        };
        let mut args: Vec<&[u8]> = vec![b"-c", DIR, case.mode.as_bytes(), b"--"];
        args.extend(case.args.iter().map(Vec::as_slice));
        let run = postconf(&args);
        let file = std::fs::read(OsStr::from_bytes(MAIN_CF)).unwrap_or_default();
        if file != want_file {
            o.mismatches.push(mismatch(
                "edit-file",
                "main.cf after the edit",
                want_file,
                &file,
            ));
        }
        if run.stderr != want_err {
            o.mismatches.push(mismatch(
                "edit-stderr",
                "postconf's standard error for the edit",
                want_err,
                &run.stderr,
            ));
        }
        if run.timed_out {
            o.mismatches
                .push(mismatch("timeout", "the edit timed out", "", &run.stderr));
        }
        o.runs.push(("edit", run));
        o.runs.push((
            "edit-result",
            Run {
                stdout: file,
                stderr: Vec::new(),
                timed_out: false,
                status: String::new(),
            },
        ));
    }

    /// The request in the edit corpus' `.args` format (tests/edit_golden):
    /// the mode, then one argument a line, with printf %b escapes.
    pub fn args_file(case: &Case) -> Vec<u8> {
        let mut out = msg(case.mode.as_bytes(), b"\n");
        for arg in &case.args {
            for &c in arg {
                match c {
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    0x20..=0x7e => out.push(c),
                    _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
                }
            }
            out.push(b'\n');
        }
        out
    }

    /// Saves a failing case under `out/<label>-<seed>-<index>/`.
    fn save(out: &Path, label: &str, seed: u64, case: &Case, o: &Outcome) -> PathBuf {
        let dir = out.join(format!("{label}-{seed}-{}", case.index));
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("main.cf"), &case.main_cf);
        let _ = std::fs::write(dir.join("edit.args"), args_file(case));
        let mut statuses = String::new();
        for (name, run) in &o.runs {
            let _ = std::fs::write(dir.join(format!("{name}.stdout")), &run.stdout);
            let _ = std::fs::write(dir.join(format!("{name}.stderr")), &run.stderr);
            statuses.push_str(&format!("{name}: {}\n", run.status));
        }
        let _ = std::fs::write(dir.join("status"), statuses);
        let mut report = format!(
            "seed {seed} case {} ({:?})\nreproduce: POSTMULTI_FUZZ_SEED={seed} POSTMULTI_FUZZ_FIRST={} POSTMULTI_FUZZ_CASES=1 cargo test --release --test fuzz_differential\n\nmain.cf: {}\nedit: postconf {} -- {}\n",
            case.index,
            case.style,
            case.index,
            show(&case.main_cf),
            case.mode,
            case.args
                .iter()
                .map(|a| show(a))
                .collect::<Vec<_>>()
                .join(" ")
        );
        for m in &o.mismatches {
            let known = known_kind(m, case).map_or(String::new(), |k| format!(" [known: {k}]"));
            report.push_str(&format!(
                "\n{}{known}: {}\n  ours: {}\n  real: {}\n",
                m.kind,
                m.what,
                show(&m.ours),
                show(&m.real)
            ));
        }
        let _ = std::fs::write(dir.join("report.txt"), report);
        dir
    }

    /// Disagreements already known, each with an ignored regression test
    /// in tests/fuzz_regressions.rs (named in the comment of its match
    /// arm); `None` for a new one.  There are none today: every
    /// disagreement fails the run.
    pub fn known_kind(_m: &Mismatch, _case: &Case) -> Option<&'static str> {
        None
    }

    pub fn run() -> i32 {
        let seed = seed_from_env("POSTMULTI_FUZZ_SEED", DEFAULT_SEED);
        let first = count_from_env("POSTMULTI_FUZZ_FIRST", 0);
        let cases = count_from_env("POSTMULTI_FUZZ_CASES", DEFAULT_CASES);
        let strict = std::env::var_os("POSTMULTI_FUZZ_STRICT").is_some_and(|v| v == "1");
        let label = std::env::var("POSTMULTI_FUZZ_LABEL").unwrap_or_else(|_| "fuzz".into());
        let out = PathBuf::from(
            std::env::var_os("POSTMULTI_FUZZ_OUT").unwrap_or_else(|| "/run/fuzz/out".into()),
        );
        let cx = Context::new();
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        // Bumps a counter; its new value.
        let mut count = |k: &str| {
            let n = counts.entry(k.to_string()).or_default();
            *n += 1;
            *n
        };
        let started = Instant::now();
        let stdout = std::io::stdout();
        for index in first..first + cases {
            let case = make_case(seed, index, &cx.names);
            let o = check(&case, &cx);
            count("cases");
            for n in &o.notes {
                count(n);
            }
            for e in &o.excluded {
                count(&format!("excluded-{e}"));
            }
            if o.excluded.contains(&"postconf-crashed") {
                // Not ours to fix, but worth a look: kept beside the failures.
                save(&out, &format!("postconf-crash-{label}"), seed, &case, &o);
            }
            if !o.mismatches.is_empty() {
                let mut kinds: Vec<String> = Vec::new();
                let mut new = false;
                for m in &o.mismatches {
                    match known_kind(m, &case) {
                        Some(k) if !strict => kinds.push(format!("{}[known:{k}]", m.kind)),
                        _ => {
                            new = true;
                            kinds.push(m.kind.to_string());
                        }
                    }
                }
                kinds.dedup();
                count(if new { "failing" } else { "known" });
                let mut first_of_its_kind = false;
                for k in &kinds {
                    first_of_its_kind |= count(&format!("mismatch-{k}")) <= KEEP_KNOWN;
                }
                // Every new failure is kept and printed; known ones only a
                // few of each kind, as examples.
                if new || first_of_its_kind {
                    let dir = save(&out, &label, seed, &case, &o);
                    let line = format!(
                        "failure seed {seed} case {index}: {} (saved in target/fuzz-failures/{})",
                        kinds.join(", "),
                        dir.file_name().unwrap_or_default().to_string_lossy()
                    );
                    if new {
                        let _ = writeln!(stdout.lock(), "{line}");
                        eprintln!("fuzz_differential[{label}]: {line}");
                    }
                }
            }
            let done = index - first + 1;
            if done.is_multiple_of(1000) {
                eprintln!(
                    "fuzz_differential[{label}]: {done}/{cases} cases, {:.1} cases/s",
                    done as f64 / started.elapsed().as_secs_f64()
                );
            }
        }
        let listed: Vec<String> = counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(stdout.lock(), "counts {}", listed.join(" "));
        0
    }
}
