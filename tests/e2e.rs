//! End-to-end tests of our postmulti on every installation
//! (`tests/common::INSTALLATIONS`): scenarios run with the harness
//! (`tests/harness/run-scenario`, a throw-away copy of the installation's
//! root with its real Postfix around our binary; stderr a terminal unless
//! a step says `notty:`), and their recorded results are checked against
//! the expected behaviour directly, not by comparison with the real
//! postmulti.  Each test on each installation is a test of its own,
//! `<installation>::<test>`, of kind `root`.  Same skip/CI rules as
//! `tests/differential.rs` (see `tests/common`); `POSTMULTI_BINARY=PATH`
//! tests another binary instead of ours.

mod common;

use std::path::{Path, PathBuf};

use common::Root;

/// Runs `scenario` (the text of a .scn file) with `ours` in `root`;
/// returns the directory holding the recording (kept alive by the
/// returned TempDir).
fn run(root: &Root, ours: &Path, test: &str, scenario: &str) -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::Builder::new()
        .prefix(&format!("postmulti-e2e.{}.", root.installation))
        .tempdir()
        .expect("tempdir");
    let scn = work.path().join(format!("{test}.scn"));
    std::fs::write(&scn, scenario).expect("write scenario");
    let out = work.path().join("run");
    let result = common::run_scenario(root, ours, &scn, &out);
    assert!(
        result.status.success(),
        "{test}: run-scenario failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    (work, out)
}

/// Asserts that `needles` occur in `haystack` in this order.
fn assert_in_order(what: &str, haystack: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        match haystack[from..].find(needle) {
            Some(i) => from += i + needle.len(),
            None => {
                panic!("{what}: expected {needle:?} (in this order: {needles:?}) in:\n{haystack}")
            }
        }
    }
}

fn assert_lacks(what: &str, haystack: &str, needle: &str) {
    assert!(
        !haystack.contains(needle),
        "{what}: did not expect {needle:?} in:\n{haystack}"
    );
}

/// How `-v` names the installation when an action is done in-process.
fn label(root: &Root) -> String {
    match root.version.strip_prefix("upstream ") {
        Some(version) => format!("upstream Postfix {version}"),
        None => {
            let upstream = root.version.split(['-', '+']).next().unwrap_or_default();
            format!("Debian's postfix {upstream}")
        }
    }
}

/// For each queue directory: "QUEUE running PID" if its pid/master.pid
/// names a live (non-zombie) master process, else "QUEUE stopped"; the
/// pids of running masters are appended to /root/pids.
const MASTERS: &str = "for q in /var/spool/postfix /var/spool/postfix-a /var/spool/postfix-b \
/var/spool/postfix-c; do p=$(cat $q/pid/master.pid 2>/dev/null | tr -dc 0-9); \
if [ -n \"$p\" ] && [ \"$(cat /proc/$p/comm 2>/dev/null)\" = master ] && \
! grep -q '^[0-9]* ([^)]*) Z' /proc/$p/stat; then echo \"$q running\"; echo $p >> /root/pids; \
else echo \"$q stopped\"; fi; done";

/// For each pid in /root/pids: "gone PID" unless that process is alive.
const GONE: &str = "for p in $(cat /root/pids); do if [ -e /proc/$p ] && \
! grep -q '^[0-9]* ([^)]*) Z' /proc/$p/stat; then echo \"alive $p\"; else echo \"gone $p\"; fi; done";

/// `postfix start` through our wrapper starts the enabled instances in
/// list order and only checks the disabled one; `postmulti -p status`
/// reports each; `postfix stop` stops them in reverse order.
fn start_status_stop_through_the_wrapper(root: &Root, ours: &Path) {
    const CHECKED: &str = "test -d /var/spool/postfix-c/maildrop && echo checked";
    let scenario = format!(
        "setup: postconf -e 'multi_instance_wrapper = ${{command_directory}}/postmulti -p --' 'multi_instance_enable = yes'
setup: mkinstance -e -g mta /etc/postfix-a
setup: mkinstance -e -g relay /etc/postfix-b
setup: mkinstance -g mta /etc/postfix-c
postfix start
{CHECKED}
{MASTERS}
postmulti -p status
postfix stop
{GONE}
{MASTERS}
"
    );
    let (_keep, out) = run(root, ours, "start_status_stop", &scenario);

    // postfix start: the enabled instances are started in order, the
    // disabled one only checked (its queue gets set up, no master).
    let start = common::step(&out, "postfix start");
    assert_eq!(start.status, 0, "postfix start:\n{}", start.stderr);
    assert_in_order(
        "postfix start (stderr)",
        &start.stderr,
        &[
            "postfix/postfix-script: starting the Postfix mail system",
            "postfix-a/postfix-script: starting the Postfix mail system",
            "postfix-b/postfix-script: starting the Postfix mail system",
        ],
    );
    assert_lacks(
        "postfix start (stderr)",
        &start.stderr,
        "postfix-c/postfix-script: starting",
    );
    assert_eq!(
        common::step(&out, CHECKED).stdout,
        "checked\n",
        "postfix check of the disabled instance"
    );

    let [running, after] = <[common::Step; 2]>::try_from(common::steps_running(&out, MASTERS))
        .unwrap_or_else(|_| panic!("expected two runs of the masters check"));
    assert_eq!(
        running.stdout,
        "/var/spool/postfix running\n/var/spool/postfix-a running\n\
         /var/spool/postfix-b running\n/var/spool/postfix-c stopped\n",
        "masters after postfix start"
    );

    // postmulti -p status: every instance, in order; exit 1 because one
    // instance is not running.
    let status = common::step(&out, "postmulti -p status");
    assert_eq!(status.status, 1, "postmulti -p status:\n{}", status.stderr);
    assert_in_order(
        "postmulti -p status (stderr)",
        &status.stderr,
        &[
            "postfix/postfix-script: the Postfix mail system is running: PID: <PID>",
            "postfix-a/postfix-script: the Postfix mail system is running: PID: <PID>",
            "postfix-b/postfix-script: the Postfix mail system is running: PID: <PID>",
            "postfix-c/postfix-script: the Postfix mail system is not running",
        ],
    );

    // postfix stop: reverse order, the disabled instance skipped.
    let stop = common::step(&out, "postfix stop");
    assert_eq!(stop.status, 0, "postfix stop:\n{}", stop.stderr);
    assert_in_order(
        "postfix stop (stderr)",
        &stop.stderr,
        &[
            "postfix-b/postfix-script: stopping the Postfix mail system",
            "postfix-a/postfix-script: stopping the Postfix mail system",
            "postfix/postfix-script: stopping the Postfix mail system",
        ],
    );
    assert_lacks("postfix stop (stderr)", &stop.stderr, "postfix-c/");

    let gone = common::step(&out, GONE);
    assert_eq!(gone.stdout.lines().count(), 3, "pids: {}", gone.stdout);
    assert!(
        gone.stdout.lines().all(|l| l.starts_with("gone ")),
        "masters still alive after postfix stop:\n{}",
        gone.stdout
    );
    assert_eq!(
        after.stdout,
        "/var/spool/postfix stopped\n/var/spool/postfix-a stopped\n\
         /var/spool/postfix-b stopped\n/var/spool/postfix-c stopped\n",
        "masters after postfix stop"
    );
}

fn list_select_and_execute(root: &Root, ours: &Path) {
    let scenario = "setup: postconf -e multi_instance_enable=yes
setup: mkinstance -e -g mta /etc/postfix-a
setup: mkinstance -N - /etc/postfix-b
postmulti -l
postmulti -l -R -g mta
postmulti -x -i a printenv MAIL_CONFIG multi_instance_name multi_instance_group queue_directory
postmulti -x sh -c 'test \"$MAIL_CONFIG\" != /etc/postfix-a'
notty: postmulti -x -i nomatch true
postmulti -l -i nomatch
";
    let (_keep, out) = run(root, ours, "list_select_and_execute", scenario);
    let list = common::step(&out, "postmulti -l");
    assert_eq!(list.status, 0);
    assert_eq!(
        list.stdout,
        "-               -               y         /etc/postfix\n\
         postfix-a       mta             y         /etc/postfix-a\n\
         -               -               n         /etc/postfix-b\n"
    );
    assert_eq!(
        common::step(&out, "postmulti -l -R -g mta").stdout,
        "postfix-a       mta             y         /etc/postfix-a\n"
    );
    let x = common::step(
        &out,
        "postmulti -x -i a printenv MAIL_CONFIG multi_instance_name multi_instance_group queue_directory",
    );
    assert_eq!(x.status, 0);
    assert_eq!(
        x.stdout,
        "/etc/postfix-a\npostfix-a\nmta\n/var/spool/postfix-a\n"
    );
    // One child failed, the others ran: exit 1, no diagnostic.
    let failing = common::step(
        &out,
        "postmulti -x sh -c 'test \"$MAIL_CONFIG\" != /etc/postfix-a'",
    );
    assert_eq!(failing.status, 1);
    assert_eq!(failing.stderr, "");
    // 3.11's front end on every installation: the fatal reaches a stderr
    // that is not a terminal too.
    let none = common::step(&out, "postmulti -x -i nomatch true");
    assert_eq!(none.status, 1);
    assert_eq!(none.stderr, "postmulti: fatal: No matching instances\n");
    assert_eq!(
        none.syslog,
        "<18> postmulti: fatal: No matching instances\n"
    );
    let silent = common::step(&out, "postmulti -l -i nomatch");
    assert_eq!((silent.status, silent.stdout.as_str()), (0, ""));
}

/// Spec D1: `-e destroy` of a stopped, disabled instance whose queue holds
/// a message refuses and changes nothing; once the queue is empty it
/// destroys.  (The real postmulti deletes the instance around the mail.)
fn destroy_refuses_an_instance_with_queued_mail(root: &Root, ours: &Path) {
    let scenario = "setup: postmulti -e init
setup: postmulti -I postfix-a -e create
setup: mkdir -p /var/spool/postfix-a/deferred/A && echo x > /var/spool/postfix-a/deferred/A/6E86421
setup: cp /etc/postfix/main.cf /root/main.cf.before
postmulti -i postfix-a -e destroy
cmp /etc/postfix/main.cf /root/main.cf.before && echo primary-unchanged
postmulti -l -i a
ls /etc/postfix-a
setup: rm /var/spool/postfix-a/deferred/A/6E86421 && rmdir /var/spool/postfix-a/deferred/A
postmulti -i postfix-a -e destroy
postmulti -l -i a
test -e /etc/postfix-a || echo config-gone
";
    let (_keep, out) = run(root, ours, "destroy_refuses_queued_mail", scenario);
    let [refused, destroyed] = <[common::Step; 2]>::try_from(common::steps_running(
        &out,
        "postmulti -i postfix-a -e destroy",
    ))
    .unwrap_or_else(|_| panic!("expected two destroys"));
    assert_eq!(refused.status, 1, "{}", refused.stderr);
    assert_eq!(
        refused.stderr,
        "postfix/postmulti-script: fatal: Instance '/etc/postfix-a' deferred queue is not empty\n"
    );
    assert_in_order(
        "refusal syslog",
        &refused.syslog,
        &[
            "postfix/postmulti-script",
            "fatal: Instance '/etc/postfix-a' deferred queue is not empty",
        ],
    );
    let unchanged = "cmp /etc/postfix/main.cf /root/main.cf.before && echo primary-unchanged";
    assert_eq!(common::step(&out, unchanged).stdout, "primary-unchanged\n");
    let [listed, gone] =
        <[common::Step; 2]>::try_from(common::steps_running(&out, "postmulti -l -i a"))
            .unwrap_or_else(|_| panic!("expected two listings"));
    assert!(listed.stdout.starts_with("postfix-a "));
    assert_eq!(
        common::step(&out, "ls /etc/postfix-a").stdout,
        "main.cf\nmaster.cf\n"
    );
    assert_eq!(destroyed.status, 0, "{}", destroyed.stderr);
    assert_lacks("destroyed", &destroyed.stderr, "queue is not empty");
    assert_eq!(gone.stdout, "");
    assert_eq!(
        common::step(&out, "test -e /etc/postfix-a || echo config-gone").stdout,
        "config-gone\n"
    );
}

/// Twenty `-e create` started at once, with twenty real `postconf -e`
/// edits of the primary main.cf beside them: the life-cycle lock makes
/// the creates take turns and postconf's write protocol keeps every edit,
/// so every instance and every edit is there afterwards and main.cf parses.
/// The edits set parameters Postfix knows, so that the creates run
/// in-process (an unknown one would make the script's postconf queries
/// warn, and postmulti-script would do the work).
fn concurrent_creates_lose_nothing(root: &Root, ours: &Path) {
    const CREATES: &str = "names='lmtp_connect_timeout lmtp_data_done_timeout lmtp_data_init_timeout \
lmtp_data_xfer_timeout lmtp_lhlo_timeout lmtp_mail_timeout lmtp_quit_timeout lmtp_rcpt_timeout \
lmtp_rset_timeout lmtp_starttls_timeout lmtp_xforward_timeout body_checks_size_limit \
bounce_size_limit duplicate_filter_limit header_address_token_limit header_size_limit \
hopcount_limit line_length_limit message_size_limit ipc_timeout'; i=0; for n in $names; do \
i=$((i+1)); postmulti -v -I postfix-c$i -e create >/dev/null 2>/root/err$i & \
postconf -e \"$n=1000$i\" & done; wait; cat /root/err*";
    const INSTANCES: &str = "postmulti -l | wc -l";
    const REGISTERED: &str = "postconf -h multi_instance_directories | wc -w";
    const EDITS: &str = "grep -cE '^(lmtp_|body_checks|bounce_size|duplicate_filter|header_|\
hopcount|line_length|message_size|ipc_timeout).* = 1000[0-9]+$' /etc/postfix/main.cf";
    const PARSES: &str = "postconf -n >/dev/null && echo parses";
    const QUEUES: &str = "ls -d /var/spool/postfix-c*/maildrop | wc -l";
    let scenario = format!(
        "setup: postmulti -e init\n{CREATES}\n{INSTANCES}\n{REGISTERED}\n{EDITS}\n{PARSES}\n{QUEUES}\n"
    );
    let (_keep, out) = run(root, ours, "concurrent_creates", &scenario);
    let creates = common::step(&out, CREATES);
    assert_eq!(creates.status, 0, "{}", creates.stderr);
    // Each create said, with -v, that it was done in-process.
    let in_process = format!("postmulti: -e create: in-process, as {}\n", label(root));
    assert_eq!(creates.stdout, in_process.repeat(20), "create errors");
    assert_eq!(creates.stderr, "");
    assert_eq!(common::step(&out, INSTANCES).stdout.trim(), "21");
    assert_eq!(common::step(&out, REGISTERED).stdout.trim(), "20");
    assert_eq!(common::step(&out, EDITS).stdout.trim(), "20");
    assert_eq!(common::step(&out, PARSES).stdout, "parses\n");
    assert_eq!(common::step(&out, QUEUES).stdout.trim(), "20");
}

/// A create that fails half-way (its data directory cannot be made, after
/// the configuration and queue directories were) puts back everything:
/// the same files as before, the primary main.cf untouched.  The real
/// postmulti-script leaves the directories it made.
fn failed_create_changes_nothing(root: &Root, ours: &Path) {
    const CREATE: &str =
        "postmulti -I postfix-x -e create data_directory=/var/lib/not-a-directory/x";
    const SAME: &str = "find /etc /var/spool /var/lib -printf '%p %m %u %g\\n' | sort | diff /root/before - && echo same-files";
    const UNCHANGED: &str =
        "cmp /etc/postfix/main.cf /root/main.cf.before && echo primary-unchanged";
    let scenario = format!(
        "setup: postmulti -e init
setup: touch /var/lib/not-a-directory
setup: find /etc /var/spool /var/lib -printf '%p %m %u %g\\n' | sort > /root/before; cp /etc/postfix/main.cf /root/main.cf.before
{CREATE}
{SAME}
{UNCHANGED}
postmulti -l
"
    );
    let (_keep, out) = run(root, ours, "failed_create", &scenario);
    let failed = common::step(&out, CREATE);
    assert_eq!(failed.status, 1);
    assert_eq!(
        failed.stderr,
        "mkdir: cannot create directory '/var/lib/not-a-directory': Not a directory\n"
    );
    assert_eq!(common::step(&out, SAME).stdout, "same-files\n");
    assert_eq!(common::step(&out, UNCHANGED).stdout, "primary-unchanged\n");
    assert_eq!(common::step(&out, "postmulti -l").stdout.lines().count(), 1);
}

/// Where postmulti-script does the work (here: post-install changed
/// locally, and made to fail once the script has registered the new
/// instance), a failed create is still undone: nothing is left
/// registered, no directory of the instance remains, the primary main.cf
/// is as it was.  `-v` says why the script ran.
fn failed_script_create_is_rolled_back(root: &Root, ours: &Path) {
    const BREAK: &str = "d=$(postconf -dh daemon_directory); sed -i '1a exit 1' $d/post-install";
    const CREATE: &str = "postmulti -v -I postfix-x -e create";
    const SAME: &str = "find /etc /var/spool /var/lib -printf '%p %m %u %g\\n' | sort | diff /root/before - && echo same-files";
    const UNCHANGED: &str =
        "cmp /etc/postfix/main.cf /root/main.cf.before && echo primary-unchanged";
    let scenario = format!(
        "setup: postmulti -e init
setup: {BREAK}
setup: find /etc /var/spool /var/lib -printf '%p %m %u %g\\n' | sort > /root/before; cp /etc/postfix/main.cf /root/main.cf.before
{CREATE}
{SAME}
{UNCHANGED}
postmulti -l
"
    );
    let (_keep, out) = run(root, ours, "failed_script_create", &scenario);
    let failed = common::step(&out, CREATE);
    assert_eq!(failed.status, 1, "{}", failed.stderr);
    let first = failed.stderr.lines().next().unwrap_or_default();
    let why = if root.installation == "upstream" {
        "is not one of a release we verified"
    } else {
        "differs from the package's"
    };
    assert!(
        first.starts_with("postmulti: -e create: postmulti-script, because ")
            && first.ends_with(&format!("/post-install {why}")),
        "the -v line: {first}"
    );
    assert_eq!(common::step(&out, SAME).stdout, "same-files\n");
    assert_eq!(common::step(&out, UNCHANGED).stdout, "primary-unchanged\n");
    assert_eq!(common::step(&out, "postmulti -l").stdout.lines().count(), 1);
}

/// The installed Postfix's defaults are asked of its postconf once and
/// kept: the next runs start no process besides postmulti; replacing the
/// postconf binary (an upgrade) is noticed, and a cache others could have
/// written is not trusted.
fn installation_defaults_are_cached(root: &Root, ours: &Path) {
    const EXECS: &str = "strace -f -qq -e trace=execve -o /root/t postmulti -l >/dev/null && grep -c execve /root/t";
    let scenario = format!(
        "setup: rm -rf /var/cache/postmulti
{EXECS}
{EXECS}
setup: cp -p /usr/sbin/postconf /root/postconf && mv /root/postconf /usr/sbin/postconf
{EXECS}
{EXECS}
setup: chmod 0666 /var/cache/postmulti/installation
{EXECS}
stat -c %a /var/cache/postmulti/installation
"
    );
    let (_keep, out) = run(root, ours, "installation_cache", &scenario);
    let counts: Vec<String> = common::steps_running(&out, EXECS)
        .into_iter()
        .map(|s| s.stdout.trim().to_string())
        .collect();
    // postmulti, then postconf -d, postconf -m and the postconf -n probe
    // on a miss.
    assert_eq!(counts, ["4", "1", "4", "1", "4"], "execve counts");
    assert_eq!(
        common::step(&out, "stat -c %a /var/cache/postmulti/installation").stdout,
        "644\n"
    );
}

/// `-l --status -j`, parsed as JSON: whether each master runs and its
/// pid, as `postfix status` would say, and the messages in each queue
/// (hashed subdirectories included), for a started instance and for a
/// stopped one with deferred and held mail.
fn status_reports_masters_and_queues(root: &Root, ours: &Path) {
    const JSON: &str = "postmulti -l --status -j | python3 -c 'import sys, json; \
[print(o[\"config_directory\"], o[\"running\"], o[\"pid\"], \" \".join(f\"{k}={v}\" for k, v in \
o[\"queue\"].items())) for o in map(json.loads, sys.stdin)]'";
    const PID: &str = "tr -dc 0-9 < /var/spool/postfix-a/pid/master.pid";
    let scenario = format!(
        "setup: postconf -e 'multi_instance_wrapper = ${{command_directory}}/postmulti -p --' 'multi_instance_enable = yes'
setup: mkinstance -e -g mta /etc/postfix-a
setup: mkinstance -e -g mta /etc/postfix-b
setup: postfix -c /etc/postfix-a start
setup: postfix -c /etc/postfix-b check
setup: for q in deferred/A/6E86421 deferred/B/7F1234A hold/4A2B3C1; do echo x > /var/spool/postfix-b/$q || mkdir -p /var/spool/postfix-b/${{q%/*}} && echo x > /var/spool/postfix-b/$q; done
{JSON}
{PID}
postmulti -l --status
setup: postfix -c /etc/postfix-a stop
"
    );
    let (_keep, out) = run(root, ours, "status", &scenario);
    let json = common::step(&out, JSON);
    assert_eq!(json.status, 0, "{}", json.stderr);
    let pid = common::step(&out, PID).stdout;
    let zeros = "maildrop=0 incoming=0 active=0 deferred=0 hold=0 corrupt=0";
    assert_eq!(
        json.stdout,
        format!(
            "/etc/postfix False None {zeros}\n\
             /etc/postfix-a True {pid} {zeros}\n\
             /etc/postfix-b False None maildrop=0 incoming=0 active=0 deferred=2 hold=1 corrupt=0\n"
        )
    );
    let text = common::step(&out, "postmulti -l --status");
    assert_eq!(text.status, 0, "{}", text.stderr);
    let columns: Vec<Vec<&str>> = text
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        columns[1][..6],
        ["postfix-a", "mta", "y", "/etc/postfix-a", "running", &pid]
    );
    assert_eq!(
        columns[2],
        [
            "postfix-b",
            "mta",
            "y",
            "/etc/postfix-b",
            "stopped",
            "-",
            "0",
            "0",
            "0",
            "2",
            "1",
            "0"
        ]
    );
}

/// Every file a dry run could touch, with its mode, owner, size, and
/// modification and change times.
const TREE: &str =
    "find /etc /var/spool /var/lib /var/cache -printf '%p %m %u %g %s %T@ %C@\\n' | sort";

/// `--dry-run` of a create and of a destroy shows the plan and leaves
/// every file, owner, mode and time as it was; a destroy of an instance
/// with queued mail is refused as without the option (spec D1).
fn dry_run_changes_nothing(root: &Root, ours: &Path) {
    const CREATE: &str = "postmulti --dry-run -I postfix-b -G mta -e create";
    const DESTROY: &str = "postmulti --dry-run -i postfix-a -e destroy";
    const SAME: &str = "diff /root/before /root/after && echo same-tree";
    let scenario = format!(
        "setup: postmulti -e init
setup: postmulti -I postfix-a -e create
setup: postmulti -l >/dev/null; sleep 1; {TREE} > /root/before
{CREATE}
setup: {TREE} > /root/after
{SAME}
{DESTROY}
setup: {TREE} > /root/after
{SAME}
setup: echo x > /var/spool/postfix-a/hold/4A2B3C1; {TREE} > /root/before
{DESTROY}
setup: {TREE} > /root/after
{SAME}
"
    );
    let (_keep, out) = run(root, ours, "dry_run", &scenario);
    let create = common::step(&out, CREATE);
    assert_eq!(create.status, 0, "{}", create.stderr);
    assert_in_order(
        "dry-run create",
        &create.stdout,
        &[
            &format!("-e create: in-process, as {}\n", label(root)),
            "mkdir  0755 root:root /etc/postfix-b\n",
            "create 0644 root:root /etc/postfix-b/main.cf (",
            "+multi_instance_",
            "mkdir  0730 postfix:postdrop /var/spool/postfix-b/maildrop\n",
            "edit   /etc/postfix/main.cf\n",
            "-multi_instance_directories = /etc/postfix-a\n",
            "+multi_instance_directories = /etc/postfix-a /etc/postfix-b\n",
            "dry run: would change ",
        ],
    );
    assert!(create.stdout.ends_with(" paths and 1 main.cf file\n"));
    for set in [
        "+multi_instance_group = mta\n",
        "+multi_instance_name = postfix-b\n",
    ] {
        assert!(
            create.stdout.contains(set),
            "{set:?} in:\n{}",
            create.stdout
        );
    }
    let [clean, queued] = <[common::Step; 2]>::try_from(common::steps_running(&out, DESTROY))
        .unwrap_or_else(|_| panic!("expected two dry-run destroys"));
    assert_eq!(clean.status, 0, "{}", clean.stderr);
    assert_in_order(
        "dry-run destroy",
        &clean.stdout,
        &[
            "edit   /etc/postfix/main.cf\n",
            "-multi_instance_directories = /etc/postfix-a\n",
            "rmdir  0700 ",
            " /var/spool/postfix-a/active\n",
            "remove 0644 root:root /etc/postfix-a/main.cf\n",
            "rmdir  0755 root:root /etc/postfix-a\n",
            "dry run: would change ",
        ],
    );
    assert_eq!(queued.status, 1);
    assert_eq!(
        queued.stderr,
        "postfix/postmulti-script: fatal: Instance '/etc/postfix-a' hold queue is not empty\n"
    );
    assert_eq!(queued.stdout, "");
    for same in common::steps_running(&out, SAME) {
        assert_eq!(same.stdout, "same-tree\n", "{}", same.stdout);
    }
}

/// `--exist-ok -e create` run twice: the second run changes no byte of
/// either main.cf; asking for another group is still the real error.
fn exist_ok_create_is_repeatable(root: &Root, ours: &Path) {
    const CREATE: &str = "postmulti --exist-ok -I postfix-out -G mta -e create";
    const OTHER: &str = "postmulti --exist-ok -I postfix-out -G other -e create";
    const SAME: &str = "cmp /etc/postfix/main.cf /root/primary && cmp /etc/postfix-out/main.cf /root/out && echo identical";
    let scenario = format!(
        "setup: postmulti -e init
{CREATE}
setup: cp /etc/postfix/main.cf /root/primary; cp /etc/postfix-out/main.cf /root/out
{CREATE}
{SAME}
{OTHER}
{SAME}
"
    );
    let (_keep, out) = run(root, ours, "exist_ok", &scenario);
    let [first, second] = <[common::Step; 2]>::try_from(common::steps_running(&out, CREATE))
        .unwrap_or_else(|_| panic!("expected two creates"));
    assert_eq!(first.status, 0, "{}", first.stderr);
    assert_eq!((second.status, second.stderr.as_str()), (0, ""));
    let other = common::step(&out, OTHER);
    assert_eq!(other.status, 1);
    assert_eq!(
        other.stderr,
        "postmulti: fatal: new config_directory=/etc/postfix-out is already in use by instance \
         /etc/postfix-out, config_directory=/etc/postfix-out\n"
    );
    for same in common::steps_running(&out, SAME) {
        assert_eq!(same.stdout, "identical\n");
    }
}

/// `--keep-going`: a secondary whose main.cf postmulti rejects is
/// reported in one warning and left out; the others are listed and
/// iterated, and the exit status is 1.  Without it, the real fatal.
fn keep_going_skips_a_broken_secondary(root: &Root, ours: &Path) {
    const BROKEN: &str = "Unexpected /etc/postfix-b/main.cf entry: multi_instance_enable = maybe";
    let scenario = "setup: postconf -e 'multi_instance_wrapper = ${command_directory}/postmulti -p --' 'multi_instance_enable = yes'
setup: mkinstance -e /etc/postfix-a
setup: mkinstance -e /etc/postfix-b
setup: mkinstance /etc/postfix-c
setup: postconf -c /etc/postfix-b -e multi_instance_enable=maybe
postmulti --keep-going -l
postmulti -l
postmulti --keep-going -x printenv MAIL_CONFIG
";
    let (_keep, out) = run(root, ours, "keep_going", scenario);
    let kept = common::step(&out, "postmulti --keep-going -l");
    assert_eq!(kept.status, 1);
    assert_eq!(
        kept.stderr,
        format!("postmulti: warning: skipping instance /etc/postfix-b: {BROKEN}\n")
    );
    let listed: Vec<&str> = kept
        .stdout
        .lines()
        .map(|l| l.split_whitespace().last().unwrap_or_default())
        .collect();
    assert_eq!(listed, ["/etc/postfix", "/etc/postfix-a", "/etc/postfix-c"]);
    let plain = common::step(&out, "postmulti -l");
    assert_eq!(
        (plain.status, plain.stdout.as_str(), plain.stderr.as_str()),
        (1, "", format!("postmulti: fatal: {BROKEN}\n").as_str())
    );
    let each = common::step(&out, "postmulti --keep-going -x printenv MAIL_CONFIG");
    assert_eq!(each.status, 1);
    assert_eq!(
        each.stdout,
        "/etc/postfix\n/etc/postfix-a\n/etc/postfix-c\n"
    );
}

/// `--parallel -p`: `status` prints exactly what the sequential run
/// prints; `start` starts every enabled instance and `stop` stops them.
fn parallel_runs_print_what_sequential_runs_print(root: &Root, ours: &Path) {
    let scenario = format!(
        "setup: postconf -e 'multi_instance_wrapper = ${{command_directory}}/postmulti -p --' 'multi_instance_enable = yes'
setup: mkinstance -e -g mta /etc/postfix-a
setup: mkinstance -e -g mta /etc/postfix-b
setup: mkinstance -e /etc/postfix-c
postmulti --parallel -p start
{MASTERS}
postmulti -p status
postmulti --parallel -p status
notty: postmulti -p status
notty: postmulti --parallel=2 -p status
postmulti --parallel -p stop
{GONE}
"
    );
    let (_keep, out) = run(root, ours, "parallel", &scenario);
    let start = common::step(&out, "postmulti --parallel -p start");
    assert_eq!(start.status, 0, "{}", start.stderr);
    assert_eq!(
        common::step(&out, MASTERS).stdout,
        "/var/spool/postfix running\n/var/spool/postfix-a running\n\
         /var/spool/postfix-b running\n/var/spool/postfix-c running\n"
    );
    let sequential = common::steps_running(&out, "postmulti -p status");
    let parallel = [
        common::step(&out, "postmulti --parallel -p status"),
        common::step(&out, "postmulti --parallel=2 -p status"),
    ];
    assert_eq!(sequential.len(), 2, "a run on a terminal and one off it");
    for (a, b) in sequential.iter().zip(&parallel) {
        assert_eq!(a.status, 0, "{}", a.stderr);
        assert_eq!(
            (a.status, &a.stdout, &a.stderr),
            (b.status, &b.stdout, &b.stderr),
            "{}",
            b.cmd
        );
    }
    // On a terminal every release's postfix-script reports each instance.
    assert_eq!(
        sequential[0].stderr.lines().count(),
        4,
        "{}",
        sequential[0].stderr
    );
    let stop = common::step(&out, "postmulti --parallel -p stop");
    assert_eq!(stop.status, 0, "{}", stop.stderr);
    assert_lacks(
        "after --parallel -p stop",
        &common::step(&out, GONE).stdout,
        "alive",
    );
}

/// Where systemd runs (here: /run/systemd/system made, and a stand-in
/// systemctl that logs its calls), `-l --status` shows each instance's
/// boot unit and its state, from one `systemctl show`; elsewhere it asks
/// nothing.  `-e enable` at a terminal says what makes boot follow it;
/// off a terminal it prints what the real one prints.
fn systemd_units_in_status_and_enable_hints(root: &Root, ours: &Path) {
    const FAKE: &str = "printf '#!/bin/sh\\necho \"$*\" >> /root/systemctl.log\\nshift\\nfor u; do case $u in --*) continue;; esac; \
case $u in postfix.service|postfix@-.service) echo ActiveState=active;; *) echo ActiveState=inactive;; esac; echo; done\\n' \
> /usr/local/bin/systemctl; chmod 755 /usr/local/bin/systemctl";
    const CALLS: &str = "cat /root/systemctl.log 2>/dev/null | wc -l";
    let scenario = format!(
        "setup: postmulti -e init
setup: mkinstance /etc/postfix-a
setup: {FAKE}
postmulti -l --status
{CALLS}
setup: mkdir -p /run/systemd/system
postmulti -l --status
postmulti -l --status -j -i a
postmulti -e enable -i a
notty: postmulti -e disable -i a
setup: mkdir -p /usr/lib/systemd/system-generators && touch /usr/lib/systemd/system-generators/postmulti-instance-generator
postmulti -e enable -i a
"
    );
    let (_keep, out) = run(root, ours, "systemd_status", &scenario);
    let [without, with] =
        <[common::Step; 2]>::try_from(common::steps_running(&out, "postmulti -l --status"))
            .unwrap_or_else(|_| panic!("expected two listings"));
    assert_eq!(without.status, 0, "{}", without.stderr);
    assert_eq!(
        common::step(&out, CALLS).stdout.trim(),
        "0",
        "systemctl asked without systemd"
    );
    assert_lacks("without systemd", &without.stdout, ".service");
    let (primary_unit, unit_a) = match root.installation {
        "sid" | "trixie" => ("postfix.service", "postfix@a.service"),
        "bookworm" => ("postfix@-.service", "postmulti@etc-postfix\\x2da.service"),
        _ => ("postfix.service", "postmulti@etc-postfix\\x2da.service"),
    };
    let rows: Vec<Vec<&str>> = with
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0][12..], [primary_unit, "active"], "{}", with.stdout);
    assert_eq!(rows[1][12..], [unit_a, "inactive"], "{}", with.stdout);
    let json = common::step(&out, "postmulti -l --status -j -i a");
    assert!(
        json.stdout.ends_with(&format!(
            ",\"unit\": \"{}\",\"unit_state\": \"inactive\"}}\n",
            unit_a.replace('\\', "\\\\")
        )),
        "{}",
        json.stdout
    );
    let [unhelped, helped] =
        <[common::Step; 2]>::try_from(common::steps_running(&out, "postmulti -e enable -i a"))
            .unwrap_or_else(|_| panic!("expected two enables"));
    assert_eq!(unhelped.status, 0, "{}", unhelped.stderr);
    assert_eq!(
        unhelped.stderr,
        "postmulti: systemd: boot does not follow multi_instance_enable without postmulti's generator \
         (see postmulti(1), MULTIPLE INSTANCES UNDER SYSTEMD)\n"
    );
    assert_eq!(
        helped.stderr,
        "postmulti: systemd: run 'systemctl daemon-reload' for boot to follow multi_instance_enable\n"
    );
    let quiet = common::step(&out, "postmulti -e disable -i a");
    assert_eq!((quiet.status, quiet.stderr.as_str()), (0, ""));
}

const TESTS: [(&str, common::RootTest); 13] = [
    (
        "start_status_stop_through_the_wrapper",
        start_status_stop_through_the_wrapper,
    ),
    ("list_select_and_execute", list_select_and_execute),
    (
        "destroy_refuses_an_instance_with_queued_mail",
        destroy_refuses_an_instance_with_queued_mail,
    ),
    (
        "concurrent_creates_lose_nothing",
        concurrent_creates_lose_nothing,
    ),
    (
        "failed_create_changes_nothing",
        failed_create_changes_nothing,
    ),
    (
        "failed_script_create_is_rolled_back",
        failed_script_create_is_rolled_back,
    ),
    (
        "installation_defaults_are_cached",
        installation_defaults_are_cached,
    ),
    (
        "status_reports_masters_and_queues",
        status_reports_masters_and_queues,
    ),
    ("dry_run_changes_nothing", dry_run_changes_nothing),
    (
        "exist_ok_create_is_repeatable",
        exist_ok_create_is_repeatable,
    ),
    (
        "keep_going_skips_a_broken_secondary",
        keep_going_skips_a_broken_secondary,
    ),
    (
        "parallel_runs_print_what_sequential_runs_print",
        parallel_runs_print_what_sequential_runs_print,
    ),
    (
        "systemd_units_in_status_and_enable_hints",
        systemd_units_in_status_and_enable_hints,
    ),
];

fn main() {
    common::run_on_each_installation("e2e", &TESTS)
}
