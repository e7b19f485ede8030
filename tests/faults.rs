//! Fault tests of our postmulti on every installation
//! (`tests/common::INSTALLATIONS`), against real Postfix in private
//! namespaces (`tests/harness/run-scenario`), checked against the expected
//! behaviour directly: destroy journals that are forged, altered or no
//! longer true are never acted on; directories that are not an instance's
//! own are refused (spec D4) with nothing outside the instance changed; a
//! full or read-only file system and unwritable or unreadable staging files
//! are reported with the action and the path; a FIFO where a regular file
//! belongs is refused at once.  Each test on each installation is a test of
//! its own, `<installation>::<test>`, of kind `root`; same skip/CI rules as
//! `tests/e2e.rs` (see `tests/common`); `POSTMULTI_BINARY=PATH` tests
//! another binary instead of ours.

mod common;

use std::path::{Path, PathBuf};

use common::Root;

/// Runs `scenario` (the text of a .scn file) with `ours` in `root`;
/// returns the directory holding the recording (kept alive by the
/// returned TempDir).
fn run(root: &Root, ours: &Path, test: &str, scenario: &str) -> (tempfile::TempDir, PathBuf) {
    let work = tempfile::Builder::new()
        .prefix(&format!("postmulti-faults.{}.", root.installation))
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

/// The first setup step of every scenario: an initialised primary, and the
/// installation's defaults cached (so that no later step writes the cache).
const INITIALISED: &str = "setup: postconf -e 'multi_instance_wrapper = ${command_directory}/postmulti -p --' 'multi_instance_enable = yes' && postmulti -l >/dev/null";

/// Every file and directory a life-cycle action could touch, with type,
/// mode, owner, and a file's size or a link's target, as one checksum
/// (modification times left out: the harness back-dates fresh main.cf
/// files between steps), and the destroy journals left out.
const STATE: &str = "find /etc /var/spool /var/lib /usr/local /srv /tmp \\( -path /var/lib/dpkg -o -path /var/lib/apt \\) -prune -o -type d -printf '%p %y %m %U:%G\\n' -o -printf '%p %y %m %U:%G %s %l\\n' 2>/dev/null | grep -v '^/etc/postfix/.postmulti-destroy' | sort | md5sum";

/// `setpriv` dropping root's power to ignore file permissions, so that an
/// unwritable or unreadable file is one for it.
const WITHOUT_DAC: &str = "setpriv --inh-caps=-dac_override,-dac_read_search --bounding-set=-dac_override,-dac_read_search";

/// A step's checksum of [`STATE`] at each point the scenario takes one.
fn states(out: &Path) -> Vec<String> {
    common::steps_running(out, STATE)
        .into_iter()
        .map(|s| s.stdout)
        .collect()
}

/// Asserts that the states taken come in pairs, each taken before and
/// after a step that must change nothing, and that each pair is equal.
fn assert_each_unchanged(test: &str, out: &Path) {
    let states = states(out);
    assert!(
        !states.is_empty() && states.len().is_multiple_of(2),
        "{test}: states not in pairs"
    );
    for (i, pair) in states.chunks(2).enumerate() {
        assert_eq!(
            pair[0], pair[1],
            "{test}: step {i} of those checked changed something"
        );
    }
}

/// Asserts that every state taken equals the first.
fn assert_unchanged(test: &str, out: &Path) {
    let states = states(out);
    assert!(states.len() > 1, "{test}: no states taken");
    for (i, state) in states.iter().enumerate() {
        assert_eq!(
            state, &states[0],
            "{test}: state {i} differs from the first"
        );
    }
}

/// Asserts that no step says "(os error N)" anywhere.
fn assert_no_rust_error_texts(test: &str, out: &Path) {
    let dir = out.join("steps");
    for entry in std::fs::read_dir(&dir).expect("steps") {
        let step = entry.expect("step").path();
        for file in ["stdout", "stderr", "syslog"] {
            let text = std::fs::read_to_string(step.join(file)).unwrap_or_default();
            assert!(
                !text.contains("os error"),
                "{test}: {}/{file} says {text:?}",
                step.display()
            );
        }
    }
}

/// The one step running `cmd`: its exit status and stderr.
fn outcome(out: &Path, cmd: &str) -> (i32, String) {
    let step = common::step(out, cmd);
    (step.status, step.stderr)
}

const JOURNAL: &str = "/etc/postfix/.postmulti-destroy";

/// The warning for a journal set aside.
fn set_aside(why: &str) -> String {
    format!(
        "postmulti: warning: destroy journal {JOURNAL} set aside as {JOURNAL}.rejected, \
         not acted on: {why}\n"
    )
}

/// A destroy journal is acted on only if it is one our postmulti wrote for
/// a deregistered secondary whose directories are its own and still the
/// ones recorded: the forged one of the finding (which made our postmulti
/// remove the primary's main.cf, master.cf and queue), a well-formed one
/// naming the primary or another instance's queue, one whose directory was
/// replaced, one altered, and a FIFO in its place are each one warning,
/// set aside, nothing removed.  One naming a registered instance is
/// dropped; a true one is finished.
fn journals_are_verified_before_they_are_acted_on(root: &Root, ours: &Path) {
    let init = "postmulti -e init";
    let scenario = format!(
        "{INITIALISED}
setup: postmulti -I postfix-b -e create >/dev/null && postmulti -I postfix-c -e create >/dev/null
setup: postconf -e multi_instance_directories=/etc/postfix-b
{STATE}
setup: printf '/etc/postfix\\0/var/spool/postfix\\0/var/lib/postfix\\0postfix\\0' > {JOURNAL}
{init}
{STATE}
setup: mkjournal /etc/postfix /var/spool/postfix /var/lib/postfix postfix
{init}
{STATE}
setup: mkjournal /etc/postfix-c /var/spool/postfix-b /var/lib/postfix-c postfix-c
{init}
{STATE}
setup: mkjournal /etc/postfix-c /var/spool/postfix-c /var/lib/postfix-c postfix-c && mv /var/spool/postfix-c /var/spool/postfix-c.saved && mkdir /var/spool/postfix-c
{init}
setup: rmdir /var/spool/postfix-c && mv /var/spool/postfix-c.saved /var/spool/postfix-c
{STATE}
setup: mkjournal -t /etc/postfix-c /var/spool/postfix-c /var/lib/postfix-c postfix-c
{init}
{STATE}
setup: rm -f {JOURNAL} && mkfifo {JOURNAL}
timeout 20 {init}
{STATE}
setup: mkjournal /etc/postfix-b /var/spool/postfix-b /var/lib/postfix-b postfix-b
{init}
{STATE}
ls -A /etc/postfix
setup: mkjournal /etc/postfix-c /var/spool/postfix-c /var/lib/postfix-c postfix-c
{init}
ls -d /etc/postfix-c /var/lib/postfix-c /var/spool/postfix-c/active {JOURNAL}
"
    );
    let test = "journals";
    let (_keep, out) = run(root, ours, test, &scenario);
    let inits = common::steps_running(&out, init);
    let said: Vec<(i32, &str)> = inits
        .iter()
        .map(|s| (s.status, s.stderr.as_str()))
        .collect();
    let expected = [
        set_aside("it is not in the format this postmulti writes"),
        set_aside("config_directory=/etc/postfix is the config_directory of instance /etc/postfix"),
        set_aside(
            "queue_directory=/var/spool/postfix-b is the queue_directory of instance /etc/postfix-b",
        ),
        set_aside("queue_directory=/var/spool/postfix-c is no longer the directory it recorded"),
        set_aside("its checksum does not match its content"),
    ];
    let mut wanted: Vec<(i32, &str)> = expected.iter().map(|e| (0, e.as_str())).collect();
    wanted.push((0, ""));
    assert_eq!(said[..wanted.len()], wanted, "{test}");
    // The true journal is finished (its rmdir warnings are the script's).
    let (status, finishing) = said[wanted.len()];
    assert_eq!(status, 0, "{test}: {finishing}");
    assert!(!finishing.contains("journal"), "{test}: {finishing}");
    assert_eq!(said.len(), wanted.len() + 1, "{test}");
    assert_eq!(
        outcome(&out, &format!("timeout 20 {init}")),
        (0, set_aside("it cannot be read: not a regular file"))
    );
    // Nothing was removed but the true journal's instance (the last step).
    assert_unchanged(test, &out);
    let listed = common::step(&out, "ls -A /etc/postfix").stdout;
    assert!(
        listed.lines().any(|l| l == ".postmulti-destroy.rejected")
            && !listed.lines().any(|l| l == ".postmulti-destroy"),
        "{test}: the registered instance's journal is dropped:\n{listed}"
    );
    let finished = common::step(
        &out,
        &format!("ls -d /etc/postfix-c /var/lib/postfix-c /var/spool/postfix-c/active {JOURNAL}"),
    );
    assert_eq!(finished.stdout, "", "{test}: the true journal is finished");
    assert_eq!(finished.status, 2);
    assert_no_rust_error_texts(test, &out);
}

/// D4 at create and import: each directory that is not canonical, is a
/// system directory, or lies inside the primary's or another instance's is
/// refused in one line naming it and what it collides with, and nothing
/// changes (the finding: `config_directory=/etc/../etc/postfix` made the
/// primary its own secondary, `data_directory=/usr/local` was chowned to
/// postfix).  The real one's own refusals come first; the default
/// directories are accepted.
fn create_and_import_refuse_directories_not_the_instances(root: &Root, ours: &Path) {
    let refusals = [
        (
            "postmulti -I postfix-a -e create config_directory=/etc/../etc/postfix",
            "config_directory=/etc/../etc/postfix is not a canonical path (it is /etc/postfix)",
        ),
        (
            "postmulti --dry-run -I postfix-a -e create config_directory=/etc/../etc/postfix",
            "config_directory=/etc/../etc/postfix is not a canonical path (it is /etc/postfix)",
        ),
        (
            "postmulti -I postfix-a -e create data_directory=/usr/local",
            "data_directory=/usr/local is inside the system directory /usr",
        ),
        (
            "postmulti -I postfix-a -e create queue_directory=/var/spool",
            "queue_directory=/var/spool is a system directory",
        ),
        (
            "postmulti -I postfix-a -e create data_directory=/tmp",
            "data_directory=/tmp is a system directory",
        ),
        (
            "postmulti -I postfix-a -e create queue_directory=/var/spool/postfix/postfix-a",
            "queue_directory=/var/spool/postfix/postfix-a is inside /var/spool/postfix, \
             the queue_directory of instance /etc/postfix",
        ),
        (
            "postmulti -I postfix-a -e create config_directory=/etc/postfix-link",
            "config_directory=/etc/postfix-link is not a canonical path (it is /etc/postfix-b)",
        ),
        (
            "postmulti -I postfix-a -e create queue_directory=/var/spool/postfix-b/deferred",
            "queue_directory=/var/spool/postfix-b/deferred is inside /var/spool/postfix-b, \
             the queue_directory of instance /etc/postfix-b",
        ),
        (
            "postmulti -I postfix-a -e create data_directory=/srv/x",
            "data_directory=/srv/x contains /srv/x/queue, the queue_directory of instance /etc/postfix-x",
        ),
        (
            "postmulti -e import config_directory=/etc/postfix-y",
            "queue_directory=/var/spool/../spool/postfix-y is not a canonical path \
             (it is /var/spool/postfix-y)",
        ),
        (
            "postmulti -e import config_directory=/etc/postfix-z",
            "data_directory=/var/lib/./postfix is not a canonical path (it is /var/lib/postfix)",
        ),
        (
            "postmulti -I postfix-b -e create config_directory=/etc/../etc/postfix",
            "instance /etc/../etc/postfix, multi_instance_name=postfix-b conflicts with \
             instance /etc/postfix-b, multi_instance_name=postfix-b",
        ),
    ];
    let mut scenario = format!(
        "{INITIALISED}
setup: mkinstance /etc/postfix-b && ln -s /etc/postfix-b /etc/postfix-link
setup: mkinstance -q /srv/x/queue -d /srv/x/data /etc/postfix-x
setup: mkinstance -n -q /var/spool/../spool/postfix-y /etc/postfix-y
setup: mkinstance -n -d /var/lib/./postfix /etc/postfix-z
{STATE}
"
    );
    for (cmd, _) in refusals {
        scenario.push_str(&format!("{cmd}\n{STATE}\n"));
    }
    scenario.push_str("postmulti -I postfix-a -e create\n");
    let test = "create_and_import";
    let (_keep, out) = run(root, ours, test, &scenario);
    for (cmd, text) in refusals {
        let (status, stderr) = outcome(&out, cmd);
        assert_eq!(
            (status, stderr.as_str()),
            (1, format!("postmulti: fatal: {text}\n").as_str()),
            "{test}: {cmd}"
        );
        assert_eq!(common::step(&out, cmd).stdout, "", "{test}: {cmd}");
    }
    assert_unchanged(test, &out);
    let (status, stderr) = outcome(&out, "postmulti -I postfix-a -e create");
    assert_eq!((status, stderr.as_str()), (0, ""), "{test}");
    assert_no_rust_error_texts(test, &out);
}

/// D4 at destroy: a queue directory that is a symbolic link to another
/// instance's (the finding: its 14 subdirectories were emptied), a
/// queue_directory spelled `/var/spool/../spool/postfix` or a
/// data_directory `/var/lib/./postfix` (the finding: the primary's were
/// destroyed) are refused, dry run or not, and nothing changes; the real
/// one's refusals come first.
fn destroy_refuses_directories_not_the_instances(root: &Root, ours: &Path) {
    let refusals = [
        (
            "postmulti -i postfix-c -e destroy",
            "postmulti: fatal: queue_directory=/var/spool/postfix-c is not a canonical path \
             (it is /var/spool/postfix-b)",
        ),
        (
            "postmulti --dry-run -i postfix-c -e destroy",
            "postmulti: fatal: queue_directory=/var/spool/postfix-c is not a canonical path \
             (it is /var/spool/postfix-b)",
        ),
        (
            "postmulti -i postfix-y -e destroy",
            "postmulti: fatal: queue_directory=/var/spool/../spool/postfix is not a canonical \
             path (it is /var/spool/postfix)",
        ),
        (
            "postmulti -i postfix-z -e destroy",
            "postmulti: fatal: data_directory=/var/lib/./postfix is not a canonical path \
             (it is /var/lib/postfix)",
        ),
        (
            "postmulti -i postfix-e -e destroy",
            "postmulti: fatal: Cannot remove enabled instances",
        ),
    ];
    let mut scenario = format!(
        "{INITIALISED}
setup: postmulti -I postfix-b -e create >/dev/null && postmulti -I postfix-c -e create >/dev/null
setup: rm -rf /var/spool/postfix-c && ln -s /var/spool/postfix-b /var/spool/postfix-c
setup: mkinstance -q /var/spool/../spool/postfix /etc/postfix-y
setup: mkinstance -d /var/lib/./postfix /etc/postfix-z
setup: mkinstance -e -q /var/spool/./postfix /etc/postfix-e
{STATE}
"
    );
    for (cmd, _) in refusals {
        scenario.push_str(&format!("{cmd}\n{STATE}\n"));
    }
    scenario.push_str("ls /var/spool/postfix-b\n");
    let test = "destroy";
    let (_keep, out) = run(root, ours, test, &scenario);
    for (cmd, text) in refusals {
        let (status, stderr) = outcome(&out, cmd);
        assert_eq!(
            (status, stderr.as_str()),
            (1, format!("{text}\n").as_str()),
            "{test}: {cmd}"
        );
    }
    assert_unchanged(test, &out);
    let queues = common::step(&out, "ls /var/spool/postfix-b").stdout;
    for queue in [
        "active", "bounce", "deferred", "incoming", "maildrop", "pid",
    ] {
        assert!(
            queues.lines().any(|l| l == queue),
            "{test}: {queue} is gone:\n{queues}"
        );
    }
    assert_no_rust_error_texts(test, &out);
}

/// Every fault names the action and the path, in the words of the tool the
/// script would run there or the C library's (never "(os error N)"), and a
/// create that fails leaves nothing behind: a full file system under the
/// staging directory, a read-only one for the new directory or for the
/// primary's main.cf, an unwritable staging directory, an unreadable
/// staging file.
fn faults_name_the_action_and_the_path(root: &Root, ours: &Path) {
    let faults = [
        (
            "postmulti -I postfix-a -e create config_directory=/srv/full/postfix-a",
            "cp: error writing '/srv/full/postfix-a/.tmp/main.cf': No space left on device\n",
        ),
        (
            "postmulti -I postfix-b -e create config_directory=/srv/ro/postfix-b",
            "mkdir: cannot create directory '/srv/ro/postfix-b': Read-only file system\n",
        ),
        (
            "postmulti -I postfix-c -e create",
            "postconf: fatal: open /etc/postfix/main.cf.tmp: Read-only file system\n",
        ),
        (
            &format!("{WITHOUT_DAC} postmulti -I postfix-d -e create"),
            "cp: cannot create regular file '/etc/postfix-d/.tmp/main.cf': Permission denied\n",
        ),
        (
            &format!("{WITHOUT_DAC} postmulti -I postfix-e -e create"),
            "cp: cannot create regular file '/etc/postfix-e/.tmp/main.cf': Permission denied\n",
        ),
    ];
    let scenario = format!(
        "{INITIALISED}
setup: mkdir -p /srv/full /srv/ro && mount -t tmpfs -o size=16k full /srv/full && mount -t tmpfs -o ro ro /srv/ro
setup: dd if=/dev/zero of=/srv/full/fill bs=4k count=8 2>/dev/null; true
setup: mkdir -p -m 0555 /etc/postfix-d/.tmp
setup: mkdir -p /etc/postfix-e/.tmp && install -m 0 /dev/null /etc/postfix-e/.tmp/main.cf
{STATE}
{}
{STATE}
{}
{STATE}
setup: mount --bind /etc/postfix /etc/postfix && mount -o remount,bind,ro /etc/postfix
{}
setup: umount /etc/postfix
{STATE}
{}
{STATE}
{}
{STATE}
postconf -h multi_instance_directories
",
        faults[0].0, faults[1].0, faults[2].0, faults[3].0, faults[4].0
    );
    let test = "faults";
    let (_keep, out) = run(root, ours, test, &scenario);
    for (cmd, ending) in &faults {
        let (status, stderr) = outcome(&out, cmd);
        assert_eq!(status, 1, "{test}: {cmd}:\n{stderr}");
        assert!(
            stderr.ends_with(ending),
            "{test}: {cmd}: expected the last line {ending:?} in:\n{stderr}"
        );
    }
    assert_unchanged(test, &out);
    assert_eq!(
        common::step(&out, "postconf -h multi_instance_directories").stdout,
        "\n",
        "{test}: nothing registered"
    );
    assert_no_rust_error_texts(test, &out);
}

/// A FIFO where a regular file belongs is refused at once (the real
/// postmulti, and ours before, waited for ever; killed, ours left
/// unregistered directories): the primary's main.cf.tmp at create and at
/// init, a stale staging file, a secondary's main.cf, the primary's
/// master.cf; a FIFO as the master's pid file is a stopped master.
fn fifos_are_refused_at_once(root: &Root, ours: &Path) {
    let refusals = [
        (
            "timeout 20 postmulti -I postfix-a -e create",
            "postconf: fatal: open /etc/postfix/main.cf.tmp: not a regular file\n",
        ),
        (
            "timeout 20 postmulti -e init",
            "postconf: fatal: open /etc/postfix/main.cf.tmp: not a regular file\n",
        ),
        (
            "timeout 20 postmulti -I postfix-b -e create",
            "cp: cannot create regular file '/etc/postfix-b/.tmp/master.cf': not a regular file\n",
        ),
        (
            "timeout 20 postmulti -l",
            "postmulti: fatal: open /etc/postfix-c/main.cf: not a regular file\n",
        ),
        (
            "timeout 20 postmulti -I postfix-d -e create",
            "postmulti: fatal: open /etc/postfix/master.cf: not a regular file\n",
        ),
    ];
    let scenario = format!(
        "{INITIALISED}
setup: mkfifo /etc/postfix/main.cf.tmp
{STATE}
{}
{STATE}
{STATE}
{}
{STATE}
setup: rm /etc/postfix/main.cf.tmp && mkdir -p /etc/postfix-b/.tmp && mkfifo /etc/postfix-b/.tmp/master.cf
{STATE}
{}
{STATE}
setup: mkinstance /etc/postfix-c && rm /etc/postfix-c/main.cf && mkfifo /etc/postfix-c/main.cf
{STATE}
{}
{STATE}
setup: postconf -e multi_instance_directories= && rm -r /etc/postfix-c /var/spool/postfix-c /var/lib/postfix-c
setup: mv /etc/postfix/master.cf /etc/postfix/master.cf.saved && mkfifo /etc/postfix/master.cf
{STATE}
{}
{STATE}
setup: rm /etc/postfix/master.cf && mv /etc/postfix/master.cf.saved /etc/postfix/master.cf
setup: mkdir -p /var/spool/postfix/pid && rm -f /var/spool/postfix/pid/master.pid && mkfifo /var/spool/postfix/pid/master.pid
timeout 20 postmulti -l --status
",
        refusals[0].0, refusals[1].0, refusals[2].0, refusals[3].0, refusals[4].0
    );
    let test = "fifos";
    let (_keep, out) = run(root, ours, test, &scenario);
    for (cmd, ending) in refusals {
        let (status, stderr) = outcome(&out, cmd);
        assert_eq!(status, 1, "{test}: {cmd} (124: it hung):\n{stderr}");
        assert!(
            stderr.ends_with(ending),
            "{test}: {cmd}: expected the last line {ending:?} in:\n{stderr}"
        );
    }
    assert_each_unchanged(test, &out);
    let status = common::step(&out, "timeout 20 postmulti -l --status");
    assert_eq!((status.status, status.stderr.as_str()), (0, ""), "{test}");
    assert!(
        status.stdout.contains("stopped"),
        "{test}: {}",
        status.stdout
    );
    assert_no_rust_error_texts(test, &out);
}

const TESTS: [(&str, common::RootTest); 5] = [
    (
        "journals_are_verified_before_they_are_acted_on",
        journals_are_verified_before_they_are_acted_on,
    ),
    (
        "create_and_import_refuse_directories_not_the_instances",
        create_and_import_refuse_directories_not_the_instances,
    ),
    (
        "destroy_refuses_directories_not_the_instances",
        destroy_refuses_directories_not_the_instances,
    ),
    (
        "faults_name_the_action_and_the_path",
        faults_name_the_action_and_the_path,
    ),
    ("fifos_are_refused_at_once", fifos_are_refused_at_once),
];

fn main() {
    common::run_on_each_installation("faults", &TESTS)
}
