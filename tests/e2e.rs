//! End-to-end tests of our postmulti: scenarios run with the harness
//! (`tests/harness/run-scenario`, a throw-away copy of the Debian sid test
//! root with the real Postfix 3.11 around our binary) and their recorded
//! results are checked against the expected behaviour directly, not by
//! comparison with the real postmulti.  Same skip/CI rules as
//! `tests/differential.rs` (see `tests/common`); `POSTMULTI_BINARY=PATH`
//! tests another binary instead of ours.

mod common;

use std::path::PathBuf;

/// Runs `scenario` (the text of a .scn file) with our binary; returns the
/// directory holding the recording (kept alive by the returned TempDir).
fn run(test: &str, scenario: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    let root = common::prepare(test)?;
    let work = tempfile::Builder::new()
        .prefix("postmulti-e2e.")
        .tempdir()
        .expect("tempdir");
    let scn = work.path().join(format!("{test}.scn"));
    std::fs::write(&scn, scenario).expect("write scenario");
    let out = work.path().join("run");
    let ours = std::env::var_os("POSTMULTI_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_postmulti")));
    let result = common::run_scenario(&root, &ours, &scn, &out);
    assert!(
        result.status.success(),
        "{test}: run-scenario failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    Some((work, out))
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

#[test]
fn start_status_stop_through_the_wrapper() {
    let scenario = format!(
        "setup: postconf -e 'multi_instance_wrapper = ${{command_directory}}/postmulti -p --' 'multi_instance_enable = yes'
setup: mkinstance -e -g mta /etc/postfix-a
setup: mkinstance -e -g relay /etc/postfix-b
setup: mkinstance -g mta /etc/postfix-c
postfix start
{MASTERS}
postmulti -p status
postfix stop
{GONE}
{MASTERS}
"
    );
    let Some((_keep, out)) = run("start_status_stop_through_the_wrapper", &scenario) else {
        return;
    };

    // postfix start: the enabled instances are started in order, the
    // disabled one only checked (its queue gets set up, no master).
    let start = common::step(&out, "postfix start");
    assert_eq!(start.status, 0, "postfix start:\n{}", start.stderr);
    assert_in_order(
        "postfix start (stderr)",
        &start.stderr,
        &[
            "postfix/postlog: starting the Postfix mail system",
            "postfix-a/postlog: starting the Postfix mail system",
            "postfix-b/postlog: starting the Postfix mail system",
        ],
    );
    assert_lacks(
        "postfix start (stderr)",
        &start.stderr,
        "postfix-c/postlog: starting",
    );
    assert!(
        start
            .stdout
            .contains("updating /etc/hosts => /var/spool/postfix-c//etc/hosts"),
        "postfix start: no 'postfix check' for the disabled instance:\n{}",
        start.stdout
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
            "postfix/postlog: the Postfix mail system is running: PID: <PID>",
            "postfix-a/postlog: the Postfix mail system is running: PID: <PID>",
            "postfix-b/postlog: the Postfix mail system is running: PID: <PID>",
            "postfix-c/postlog: the Postfix mail system is not running",
        ],
    );

    // postfix stop: reverse order, the disabled instance skipped.
    let stop = common::step(&out, "postfix stop");
    assert_eq!(stop.status, 0, "postfix stop:\n{}", stop.stderr);
    assert_in_order(
        "postfix stop (stderr)",
        &stop.stderr,
        &[
            "postfix-b/postlog: stopping the Postfix mail system",
            "postfix-a/postlog: stopping the Postfix mail system",
            "postfix/postlog: stopping the Postfix mail system",
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

#[test]
fn list_select_and_execute() {
    let scenario = "setup: postconf -e multi_instance_enable=yes
setup: mkinstance -e -g mta /etc/postfix-a
setup: mkinstance -N - /etc/postfix-b
postmulti -l
postmulti -l -R -g mta
postmulti -x -i a printenv MAIL_CONFIG multi_instance_name multi_instance_group queue_directory
postmulti -x sh -c 'test \"$MAIL_CONFIG\" != /etc/postfix-a'
postmulti -x -i nomatch true
postmulti -l -i nomatch
";
    let Some((_keep, out)) = run("list_select_and_execute", scenario) else {
        return;
    };
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
#[test]
fn destroy_refuses_an_instance_with_queued_mail() {
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
    let Some((_keep, out)) = run("destroy_refuses_an_instance_with_queued_mail", scenario) else {
        return;
    };
    let [refused, destroyed] = <[common::Step; 2]>::try_from(common::steps_running(
        &out,
        "postmulti -i postfix-a -e destroy",
    ))
    .unwrap_or_else(|_| panic!("expected two destroys"));
    assert_eq!(refused.status, 1, "{}", refused.stderr);
    assert_eq!(
        refused.stderr,
        "postfix/postlog: fatal: Instance '/etc/postfix-a' deferred queue is not empty\n"
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
#[test]
fn concurrent_creates_lose_nothing() {
    const CREATES: &str = "names='lmtp_connect_timeout lmtp_data_done_timeout lmtp_data_init_timeout \
lmtp_data_xfer_timeout lmtp_lhlo_timeout lmtp_mail_timeout lmtp_quit_timeout lmtp_rcpt_timeout \
lmtp_rset_timeout lmtp_starttls_timeout lmtp_xforward_timeout body_checks_size_limit \
bounce_size_limit duplicate_filter_limit header_address_token_limit header_size_limit \
hopcount_limit line_length_limit message_size_limit ipc_timeout'; i=0; for n in $names; do \
i=$((i+1)); postmulti -I postfix-c$i -e create >/dev/null 2>/root/err$i & \
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
    let Some((_keep, out)) = run("concurrent_creates_lose_nothing", &scenario) else {
        return;
    };
    let creates = common::step(&out, CREATES);
    assert_eq!(creates.status, 0, "{}", creates.stderr);
    assert_eq!(creates.stdout, "", "create errors: {}", creates.stdout);
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
#[test]
fn failed_create_changes_nothing() {
    let scenario = "setup: postmulti -e init
setup: touch /var/lib/not-a-directory
setup: find /etc /var/spool /var/lib -printf '%p %m %u %g\\n' | sort > /root/before; cp /etc/postfix/main.cf /root/main.cf.before
postmulti -I postfix-x -e create data_directory=/var/lib/not-a-directory/x
find /etc /var/spool /var/lib -printf '%p %m %u %g\\n' | sort | diff /root/before - && echo same-files
cmp /etc/postfix/main.cf /root/main.cf.before && echo primary-unchanged
postmulti -l
";
    let Some((_keep, out)) = run("failed_create_changes_nothing", scenario) else {
        return;
    };
    let failed = common::step(
        &out,
        "postmulti -I postfix-x -e create data_directory=/var/lib/not-a-directory/x",
    );
    assert_eq!(failed.status, 1);
    assert_eq!(
        failed.stderr,
        "mkdir: cannot create directory '/var/lib/not-a-directory': Not a directory\n"
    );
    let same = "find /etc /var/spool /var/lib -printf '%p %m %u %g\\n' | sort | diff /root/before - && echo same-files";
    assert_eq!(common::step(&out, same).stdout, "same-files\n");
    let unchanged = "cmp /etc/postfix/main.cf /root/main.cf.before && echo primary-unchanged";
    assert_eq!(common::step(&out, unchanged).stdout, "primary-unchanged\n");
    assert_eq!(common::step(&out, "postmulti -l").stdout.lines().count(), 1);
}
