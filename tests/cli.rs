//! Runs the built binary on throw-away configurations.
//!
//! postmulti only ever reads `/etc/postfix/main.cf` (MAIL_CONFIG may only
//! repeat that path), so most tests bind-mount a temporary directory over
//! `/etc/postfix` in a private mount namespace (`unshare --mount`).  That
//! needs root and an installed Postfix (for its directories and postconf);
//! without them those tests say why and skip, unless CI is set, where they
//! fail instead.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use predicates::prelude::*;

fn postmulti() -> Command {
    let mut cmd = Command::cargo_bin("postmulti").unwrap();
    cmd.env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LANG", "C");
    cmd
}

/// Why the namespace tests cannot run here, if they cannot.
fn sandbox_unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("needs root for a private mount namespace".into());
    }
    if !Path::new("/etc/postfix").is_dir() || !Path::new("/usr/sbin/postconf").exists() {
        return Some("needs an installed Postfix (/etc/postfix, /usr/sbin/postconf)".into());
    }
    if !Path::new("/usr/bin/unshare").exists() {
        return Some("needs unshare (util-linux)".into());
    }
    None
}

/// Skips (or, under CI, fails) a test that needs the sandbox.
macro_rules! require_sandbox {
    () => {
        if let Some(why) = sandbox_unavailable() {
            if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                panic!("sandbox tests cannot run in CI: {why}");
            }
            eprintln!("skipped: {why}");
            return;
        }
    };
}

/// A throw-away primary configuration directory, mounted over /etc/postfix
/// for each run, with room for secondaries beside it.
struct Sandbox {
    dir: tempfile::TempDir,
}

const MASTER_CF: &str = "smtp      inet  n       -       y       -       -       smtpd\n\
                         pickup    unix  n       -       y       60      1       pickup\n";

impl Sandbox {
    fn new(main_cf: &str) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("etc")).unwrap();
        fs::write(dir.path().join("etc/main.cf"), main_cf).unwrap();
        fs::write(dir.path().join("etc/master.cf"), MASTER_CF).unwrap();
        Sandbox { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn root(&self) -> String {
        self.dir.path().display().to_string()
    }

    /// Makes a secondary `<root>/<name>` with this main.cf text (plus a
    /// master.cf) and returns its directory.
    fn secondary(&self, name: &str, main_cf: &str) -> String {
        let dir = self.path(name);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("main.cf"), main_cf).unwrap();
        fs::write(dir.join("master.cf"), MASTER_CF).unwrap();
        dir.display().to_string()
    }

    fn append_main_cf(&self, text: &str) {
        let path = self.path("etc/main.cf");
        let mut content = fs::read_to_string(&path).unwrap();
        content.push_str(text);
        fs::write(path, content).unwrap();
    }

    fn replace_main_cf(&self, text: &str) {
        fs::write(self.path("etc/main.cf"), text).unwrap();
    }

    fn main_cf(&self) -> Vec<u8> {
        fs::read(self.path("etc/main.cf")).unwrap()
    }

    /// Runs postmulti with `/etc/postfix` replaced by our directory, and a
    /// private /var/cache (postmulti keeps what it learns of the installed
    /// Postfix there; the host's is left alone).
    fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let bin = assert_cmd::cargo::cargo_bin("postmulti");
        let mut cmd = std::process::Command::new("unshare");
        cmd.env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("LANG", "C")
            .envs(env.iter().copied())
            .args(["--mount", "--propagation", "private", "--", "sh", "-c"])
            .arg(
                "mount --bind \"$0\" /etc/postfix && mount -t tmpfs tmpfs /var/cache && exec \"$@\"",
            )
            .arg(self.path("etc"))
            .arg(bin)
            .args(args);
        cmd.output().unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn secondary_cf(name: &str, group: Option<&str>, enable: &str, root: &str) -> String {
    let mut cf = format!(
        "queue_directory = {root}/q-{name}\ndata_directory = {root}/d-{name}\n\
         multi_instance_name = postfix-{name}\nmulti_instance_enable = {enable}\n"
    );
    if let Some(g) = group {
        cf.push_str(&format!("multi_instance_group = {g}\n"));
    }
    cf
}

const USAGE: &str = "postmulti: fatal: Usage:postmulti -l [-v] [-a] [-g group] [-i instance] | postmulti -p [-v] [-a] [-g group] [-i instance] command... | postmulti -x [-v] [-a] [-i name] [-g group] command... | postmulti -e action [-v] [-a] [-i name] [-g group] [-I name] [-G group] [param=value ...]\n";

#[test]
fn help_and_version_need_no_configuration() {
    postmulti()
        .arg("--help")
        .env("MAIL_CONFIG", "/nonexistent")
        .assert()
        .success()
        .stdout(predicate::str::contains("-e action"));
    postmulti()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("postmulti (Rust) "));
}

#[test]
fn the_manual_page_and_completions_need_no_configuration() {
    postmulti()
        .arg("--man-page")
        .env("MAIL_CONFIG", "/nonexistent")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(".TH POSTMULTI 1 "))
        .stdout(predicate::str::contains(
            ".SH \"MULTIPLE INSTANCES UNDER SYSTEMD\"",
        ));
    for (shell, first) in [
        ("bash", "# bash completion for postmulti(1)"),
        ("zsh", "#compdef postmulti\n"),
        ("fish", "# fish completion for postmulti(1)"),
    ] {
        postmulti()
            .args(["-l", &format!("--completions={shell}")])
            .env("MAIL_CONFIG", "/nonexistent")
            .assert()
            .success()
            .stdout(predicate::str::starts_with(first));
    }
    postmulti()
        .args(["--completions", "csh"])
        .env("MAIL_CONFIG", "/nonexistent")
        .assert()
        .code(1)
        .stdout("")
        .stderr("postmulti: fatal: --completions needs one of bash, zsh, fish: 'csh'\n");
}

#[test]
fn main_cf_is_read_before_options() {
    postmulti()
        .args(["-z", "-l"])
        .env("MAIL_CONFIG", "/nonexistent")
        .assert()
        .code(1)
        .stdout("")
        .stderr("postmulti: fatal: open /nonexistent/main.cf: No such file or directory\n");
}

#[test]
fn a_non_default_mail_config_is_refused_after_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("main.cf"), "multi_instance_enable = yes\n").unwrap();
    let mail_config = dir.path().display().to_string();
    postmulti()
        .arg("-l")
        .env("MAIL_CONFIG", &mail_config)
        .assert()
        .code(1)
        .stderr(format!(
            "postmulti: fatal: Non-default configuration directory: MAIL_CONFIG={mail_config}\n"
        ));
    fs::write(
        dir.path().join("main.cf"),
        "multi_instance_enable = maybe\n",
    )
    .unwrap();
    postmulti()
        .arg("-l")
        .env("MAIL_CONFIG", &mail_config)
        .assert()
        .code(1)
        .stderr("postmulti: fatal: bad boolean configuration: multi_instance_enable = maybe\n");
}

#[test]
fn usage_errors() {
    require_sandbox!();
    let sb = Sandbox::new("");
    let out = sb.run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "postmulti: fatal: Specify exactly one of '-e', '-l', '-p', '-x'\n"
    );
    let out = sb.run(&["-z"]);
    assert_eq!(
        text(&out.stderr),
        format!("postmulti: invalid option -- 'z'\n{USAGE}")
    );
    let out = sb.run(&["-l", "-e"]);
    assert_eq!(
        text(&out.stderr),
        format!("postmulti: option requires an argument -- 'e'\n{USAGE}")
    );
    let out = sb.run(&["-R", "-p", "status"]);
    assert_eq!(
        text(&out.stderr),
        "postmulti: fatal: The '-p' and '-e' options preclude the use of '-R'\n"
    );
}

#[test]
fn list_table_json_and_selection() {
    require_sandbox!();
    let sb = Sandbox::new("multi_instance_enable = yes\n");
    let root = sb.root();
    let a = sb.secondary("a", &secondary_cf("a", Some("mta"), "yes", &root));
    let b = sb.secondary(
        "b",
        &secondary_cf("very-long-name-here", Some("grp"), "no", &root).replace("q-very", "q-b"),
    );
    let c = sb.secondary(
        "c",
        &format!("queue_directory = {root}/q-c\ndata_directory = {root}/d-c\n"),
    );
    sb.append_main_cf(&format!("multi_instance_directories = {a} {b},{c}\n"));

    let out = sb.run(&["-l"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "-               -               y         /etc/postfix\n\
             postfix-a       mta             y         {a}\n\
             postfix-very-long-name-here grp             n         {b}\n\
             -               -               n         {c}\n"
        )
    );
    assert_eq!(text(&out.stderr), "");

    let out = sb.run(&["-l", "-j", "-R"]);
    assert_eq!(
        text(&out.stdout),
        format!(
            "{{\"name\": \"-\",\"group\": \"-\",\"enabled\": \"n\",\"config_directory\": \"{c}\"}}\n\
             {{\"name\": \"postfix-very-long-name-here\",\"group\": \"grp\",\"enabled\": \"n\",\"config_directory\": \"{b}\"}}\n\
             {{\"name\": \"postfix-a\",\"group\": \"mta\",\"enabled\": \"y\",\"config_directory\": \"{a}\"}}\n\
             {{\"name\": \"-\",\"group\": \"-\",\"enabled\": \"y\",\"config_directory\": \"/etc/postfix\"}}\n"
        )
    );

    let out = sb.run(&["-l", "-g", "mta"]);
    assert_eq!(
        text(&out.stdout),
        format!("postfix-a       mta             y         {a}\n")
    );
    let out = sb.run(&["-l", "-i", "a"]);
    assert_eq!(
        text(&out.stdout),
        format!("postfix-a       mta             y         {a}\n")
    );
    let out = sb.run(&["-l", "-i", &c]);
    assert_eq!(
        text(&out.stdout),
        format!("-               -               n         {c}\n")
    );
    let out = sb.run(&["-l", "-i", "nomatch"]);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), String::new())
    );
    let out = sb.run(&["-x", "-i", "nomatch", "true"]);
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (Some(1), "postmulti: fatal: No matching instances\n".into())
    );
}

#[test]
fn single_instance_rule_and_duplicates() {
    require_sandbox!();
    let sb = Sandbox::new("multi_instance_enable = no\nmulti_instance_directories = , ,\n");
    let out = sb.run(&["-l"]);
    assert_eq!(
        text(&out.stdout),
        "-               -               y         /etc/postfix\n"
    );
    let root = sb.root();
    let a = sb.secondary("a", &secondary_cf("a", None, "no", &root));
    sb.replace_main_cf(&format!(
        "multi_instance_enable = no\nmulti_instance_directories = {a}, {a}\n"
    ));
    let out = sb.run(&["-l"]);
    assert_eq!(
        text(&out.stdout),
        format!(
            "-               -               n         /etc/postfix\n\
             postfix-a       -               n         {a}\n\
             postfix-a       -               n         {a}\n"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn conflicting_claims_are_fatal() {
    require_sandbox!();
    let sb = Sandbox::new("");
    let root = sb.root();
    let a = sb.secondary("a", &secondary_cf("a", None, "no", &root));
    let b = sb.secondary(
        "b",
        &secondary_cf("b", None, "no", &root).replace("q-b", "q-a"),
    );
    sb.append_main_cf(&format!("multi_instance_directories = {a} {b}\n"));
    let out = sb.run(&["-l"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "postmulti: fatal: instance {b}, queue_directory={root}/q-a conflicts with instance {a}, queue_directory={root}/q-a\n"
        )
    );
    let c = sb.secondary(
        "c",
        &secondary_cf("a", None, "no", &root)
            .replace("q-a", "q-c")
            .replace("d-a", "d-c"),
    );
    sb.replace_main_cf(&format!("multi_instance_directories = {a} {c}\n"));
    let out = sb.run(&["-l"]);
    assert!(
        text(&out.stderr).contains("multi_instance_name=postfix-a conflicts with instance"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn secondary_problems_get_postconfs_own_words() {
    require_sandbox!();
    let sb = Sandbox::new("");
    let root = sb.root();
    let missing = sb.path("missing").display().to_string();
    sb.append_main_cf(&format!("multi_instance_directories = {missing}\n"));
    let out = sb.run(&["-l"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "/usr/sbin/postconf: fatal: open {missing}/main.cf: No such file or directory\n\
             postmulti: fatal: Failed to obtain all required {missing}/main.cf parameters\n"
        )
    );
    let odd = sb.secondary(
        "odd",
        &(secondary_cf("odd", None, "no", &root) + "zzz_unknown = 1\n"),
    );
    sb.replace_main_cf(&format!("multi_instance_directories = {odd}\n"));
    let out = sb.run(&["-l"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stderr),
        format!("/usr/sbin/postconf: warning: {odd}/main.cf: unused parameter: zzz_unknown=1\n")
    );
    let bad = sb.secondary("bad", &secondary_cf("bad", None, "true", &root));
    sb.replace_main_cf(&format!("multi_instance_directories = {bad}\n"));
    let out = sb.run(&["-l"]);
    assert_eq!(
        text(&out.stderr),
        format!("postmulti: fatal: Unexpected {bad}/main.cf entry: multi_instance_enable = true\n")
    );
}

#[test]
fn primary_main_cf_diagnostics() {
    require_sandbox!();
    let sb = Sandbox::new("a = 1\n  leading\nb = 1\nb = 2\n");
    let out = sb.run(&["-l"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stderr),
        "postmulti: warning: /etc/postfix/main.cf, line 4: overriding earlier entry: b=1\n"
    );
    let sb = Sandbox::new("  stray\nmulti_instance_directories = $nope\nbogus\n");
    let out = sb.run(&["-l"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "postmulti: warning: /etc/postfix/main.cf: logical line must not start with whitespace: \"  stray\"\n\
         postmulti: fatal: /etc/postfix/main.cf, line 3: missing '=' after attribute name: \"bogus\"\n"
    );
}

/// Writes a stand-in `postfix` that logs its arguments and MAIL_CONFIG,
/// and returns the command directory holding it.
fn fake_command_directory(sb: &Sandbox) -> String {
    let dir = sb.path("bin");
    fs::create_dir_all(&dir).unwrap();
    let log = sb.path("calls.log");
    let script = format!(
        "#!/bin/sh\necho \"$MAIL_CONFIG $*\" >> {}\ncase \"$MAIL_CONFIG\" in *fail*) exit 3;; esac\n",
        log.display()
    );
    let postfix = dir.join("postfix");
    fs::write(&postfix, script).unwrap();
    fs::set_permissions(&postfix, fs::Permissions::from_mode(0o755)).unwrap();
    dir.display().to_string()
}

#[test]
fn postfix_commands_follow_the_command_classes() {
    require_sandbox!();
    let sb = Sandbox::new("multi_instance_enable = yes\n");
    let root = sb.root();
    let bin = fake_command_directory(&sb);
    let a = sb.secondary("a", &secondary_cf("a", Some("g"), "yes", &root));
    let b = sb.secondary("b", &secondary_cf("b", Some("g"), "no", &root));
    let c = sb.secondary("fail-c", &secondary_cf("c", None, "yes", &root));
    sb.append_main_cf(&format!(
        "command_directory = {bin}\nmulti_instance_directories = {a} {b} {c}\n"
    ));
    let calls = || {
        let log = sb.path("calls.log");
        let got = fs::read_to_string(&log).unwrap_or_default();
        let _ = fs::remove_file(&log);
        got
    };

    let out = sb.run(&["-p", "start", "now"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the failing instance makes it 1"
    );
    assert_eq!(
        calls(),
        format!(
            "/etc/postfix -- start now\n{a} -- start now\n{b} -- check now\n{c} -- start now\n"
        )
    );
    let out = sb.run(&["-p", "stop"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        calls(),
        format!("{c} -- stop\n{a} -- stop\n/etc/postfix -- stop\n")
    );
    sb.run(&["-g", "g", "-p", "reload"]);
    assert_eq!(calls(), format!("{a} -- reload\n"));
    sb.run(&["-p", "status"]);
    assert_eq!(
        calls(),
        format!("/etc/postfix -- status\n{a} -- status\n{b} -- status\n{c} -- status\n")
    );
    let out = sb.run(&["-i", "b", "-p", "stop"]);
    assert_eq!(
        text(&out.stderr),
        "postmulti: fatal: No matching instances\n"
    );
    assert_eq!(calls(), "");

    sb.append_main_cf("postmulti_start_commands = status\n");
    sb.run(&["-p", "status"]);
    assert_eq!(
        calls(),
        format!("/etc/postfix -- status\n{a} -- status\n{b} -- check\n{c} -- status\n")
    );
}

#[test]
fn commands_get_the_instance_environment_in_order() {
    require_sandbox!();
    let sb = Sandbox::new("multi_instance_enable = yes\n");
    let root = sb.root();
    let a = sb.secondary("a", &secondary_cf("a", Some("mta"), "no", &root));
    sb.append_main_cf(&format!("multi_instance_directories = {a}\n"));
    let out = sb.run_env(&["-v", "-i", "a", "-x", "env"], &[("FOO", "bar")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let env = text(&out.stdout);
    let lines: Vec<&str> = env.lines().collect();
    // PATH keeps its place and gains the command directory in front.
    assert!(
        lines.contains(&"PATH=/usr/sbin:/usr/sbin:/usr/bin:/sbin:/bin"),
        "{env}"
    );
    let tail: Vec<&str> = lines
        .iter()
        .skip_while(|l| !l.starts_with("MAIL_LOGTAG="))
        .copied()
        .collect();
    assert_eq!(tail[0], "MAIL_LOGTAG=postfix");
    assert_eq!(tail[1], "MAIL_VERBOSE=");
    assert_eq!(tail[2], format!("MAIL_CONFIG={a}"));
    assert!(tail[3].starts_with("daemon_directory=/"));
    assert_eq!(tail[4], "command_directory=/usr/sbin");
    assert_eq!(
        &tail[5..],
        [
            format!("config_directory={a}"),
            format!("queue_directory={root}/q-a"),
            format!("data_directory={root}/d-a"),
            "multi_instance_name=postfix-a".to_string(),
            "multi_instance_group=mta".to_string(),
            "multi_instance_enable=no".to_string(),
        ]
    );
    assert!(lines.contains(&"FOO=bar"));

    let out = sb.run(&["-x", "nonexistent-cmd"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "postmulti: fatal: execvp nonexistent-cmd: No such file or directory\n".repeat(2)
    );
    let out = sb.run(&["-x", "sh", "-c", "exit 7"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn refused_life_cycle_requests_change_nothing() {
    require_sandbox!();
    let sb = Sandbox::new(
        "multi_instance_enable = yes\nmulti_instance_wrapper = ${command_directory}/postmulti -p --\n",
    );
    let root = sb.root();
    let a = sb.secondary("a", &secondary_cf("a", None, "yes", &root));
    sb.append_main_cf(&format!("multi_instance_directories = {a}\n"));
    let before = sb.main_cf();
    let cases: [(&[&str], &str); 8] = [
        (
            &["-I", "foo", "-e", "create"],
            "New instance name must start with 'postfix-'",
        ),
        (
            &["-I", "postfix-a b", "-e", "create"],
            "Unsafe characters in new instance name: 'postfix-a b'",
        ),
        (
            &["-I", "postfix-x", "-e", "create", "queue_directory=rel"],
            "Parameter setting 'queue_directory' is not an absolute path",
        ),
        (
            &["-I", "postfix-x", "-e", "import", "queue_directory=/q"],
            "Parameter 'queue_directory' not valid with action import",
        ),
        (
            &["-e", "create", "config_directory=/x"],
            "Missing queue_directory parameter value",
        ),
        (
            &["-i", "-", "-e", "destroy"],
            "Cannot remove the primary instance",
        ),
        (
            &["-i", "a", "-e", "destroy"],
            "Cannot remove enabled instances",
        ),
        (
            &["-e", "enable", "-i", "nosuch"],
            "No instance named nosuch",
        ),
    ];
    for (args, message) in cases {
        let out = sb.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            text(&out.stderr),
            format!("postmulti: fatal: {message}\n"),
            "{args:?}"
        );
        assert_eq!(sb.main_cf(), before, "{args:?} changed main.cf");
    }
    let out = sb.run(&["-i", "a", "-I", "postfix-a", "-e", "assign"]);
    assert_eq!((out.status.code(), out.stderr.len()), (Some(0), 0));
    assert_eq!(sb.main_cf(), before);
}

/// Every file under the sandbox, with its content, mode and times: what
/// a refused or previewed request must leave as it was.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>, u32, i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        let meta = entry.path().symlink_metadata().unwrap();
        let content = if meta.is_file() {
            fs::read(entry.path()).unwrap()
        } else {
            Vec::new()
        };
        files.push((
            entry.path().to_path_buf(),
            content,
            meta.mode(),
            meta.mtime_nsec() + meta.mtime() * 1_000_000_000,
            meta.ctime_nsec() + meta.ctime() * 1_000_000_000,
        ));
    }
    files
}

#[test]
fn long_options_bad_input_is_fatal_and_changes_nothing() {
    require_sandbox!();
    let sb = Sandbox::new(
        "multi_instance_enable = yes\nmulti_instance_wrapper = ${command_directory}/postmulti -p --\n",
    );
    let root = sb.root();
    let a = sb.secondary("a", &secondary_cf("a", Some("mta"), "no", &root));
    sb.append_main_cf(&format!("multi_instance_directories = {a}\n"));
    let before = snapshot(sb.dir.path());
    let fatal = |message: &str| format!("postmulti: fatal: {message}\n");
    let cases: Vec<(Vec<String>, String)> = vec![
        // Unknown to us, so unknown as to the real postmulti: its words.
        (
            vec!["--stauts".into(), "-l".into()],
            format!("postmulti: invalid option -- '-'\n{USAGE}"),
        ),
        (
            vec!["--parallel=0".into(), "-p".into(), "status".into()],
            fatal("--parallel=N needs a positive number of instances: '0'"),
        ),
        (
            vec!["--parallel=x".into(), "-p".into(), "status".into()],
            fatal("--parallel=N needs a positive number of instances: 'x'"),
        ),
        (
            vec!["--dry-run".into(), "-l".into()],
            fatal("--dry-run is valid only with '-e'"),
        ),
        (
            vec!["--status".into(), "-p".into(), "status".into()],
            fatal("--status is valid only with '-l'"),
        ),
        (
            vec![
                "--exist-ok".into(),
                "-i".into(),
                "a".into(),
                "-e".into(),
                "enable".into(),
            ],
            fatal("--exist-ok is valid only with '-e create' or '-e import'"),
        ),
        (
            vec!["--keep-going".into(), "-e".into(), "init".into()],
            fatal("--keep-going is valid only with '-l', '-p' or '-x'"),
        ),
        // The instance is registered, but with another group: the real
        // error stands.
        (
            vec![
                "--exist-ok".into(),
                "-I".into(),
                "postfix-a".into(),
                "-G".into(),
                "other".into(),
                "-e".into(),
                "create".into(),
                format!("config_directory={a}"),
                format!("queue_directory={root}/q-a"),
                format!("data_directory={root}/d-a"),
            ],
            fatal(&format!(
                "new config_directory={a} is already in use by instance {a}, config_directory={a}"
            )),
        ),
    ];
    for (args, stderr) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = sb.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(text(&out.stderr), stderr, "{args:?}");
        assert_eq!(text(&out.stdout), "", "{args:?}");
        assert!(snapshot(sb.dir.path()) == before, "{args:?} changed a file");
    }
}

#[test]
fn exist_ok_accepts_exactly_the_registered_instance() {
    require_sandbox!();
    let sb = Sandbox::new(
        "multi_instance_enable = yes\nmulti_instance_wrapper = ${command_directory}/postmulti -p --\n",
    );
    let root = sb.root();
    let a = sb.secondary("a", &secondary_cf("a", Some("mta"), "no", &root));
    sb.append_main_cf(&format!("multi_instance_directories = {a}\n"));
    let before = snapshot(sb.dir.path());
    let create = |extra: &[&str]| {
        let mut args = vec!["--exist-ok", "-I", "postfix-a"];
        args.extend_from_slice(extra);
        let dirs = [
            format!("config_directory={a}"),
            format!("queue_directory={root}/q-a"),
            format!("data_directory={root}/d-a"),
        ];
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(["-e".to_string(), "create".to_string()]);
        all.extend(dirs);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        sb.run(&all)
    };
    let same = create(&["-G", "mta"]);
    assert_eq!(
        (same.status.code(), text(&same.stderr)),
        (Some(0), String::new())
    );
    let ungrouped = create(&[]);
    assert_eq!(ungrouped.status.code(), Some(1), "no -G is not group mta");
    assert!(snapshot(sb.dir.path()) == before);
}

#[test]
fn dry_run_of_an_edit_shows_the_diff_and_changes_nothing() {
    require_sandbox!();
    let sb = Sandbox::new(
        "multi_instance_enable = yes\nmulti_instance_wrapper = ${command_directory}/postmulti -p --\n",
    );
    let root = sb.root();
    let a = sb.secondary("a", &secondary_cf("a", Some("mta"), "no", &root));
    sb.append_main_cf(&format!("multi_instance_directories = {a}\n"));
    let before = snapshot(sb.dir.path());
    let out = sb.run(&["--dry-run", "-i", "postfix-a", "-e", "enable"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let plan: Vec<&str> = stdout.lines().collect();
    assert!(plan[0].starts_with("-e enable: "), "{stdout}");
    assert_eq!(
        plan[1..],
        [
            format!("edit   {a}/main.cf").as_str(),
            format!("--- {a}/main.cf").as_str(),
            format!("+++ {a}/main.cf").as_str(),
            "@@ -1,5 +1,5 @@",
            &format!(" queue_directory = {root}/q-a"),
            &format!(" data_directory = {root}/d-a"),
            " multi_instance_name = postfix-a",
            "-multi_instance_enable = no",
            "+multi_instance_enable = yes",
            " multi_instance_group = mta",
            "dry run: would change 1 main.cf file",
        ][..plan.len() - 1]
    );
    assert!(snapshot(sb.dir.path()) == before);
    let out = sb.run(&["--dry-run", "-i", "postfix-a", "-e", "disable"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).ends_with("dry run: nothing would change\n"));
}
