//! The systemd generator (`postmulti --systemd-generator`) on every
//! installation (`tests/common::INSTALLATIONS`), on real configurations:
//! `tests/systemd/generator.sh` runs in a throw-away copy of the
//! installation's root with systemd in it (`tests/harness/systemd-root`),
//! makes the four-instance example of docs/systemd.md with our own
//! `postmulti -e init/create/enable`, runs the installed generator wrapper
//! as systemd would, and leaves what it found in files that this test
//! checks:
//!
//! - the generated trees, against `tests/systemd/expected/INSTALLATION/`
//!   (comma list, whitespace list, a broken secondary main.cf; a disabled
//!   instance, a nameless one, one outside /etc/postfix-*);
//!   `POSTMULTI_BLESS=1` writes what was found there instead;
//! - `systemd-analyze verify` (the root's own systemd) accepts every
//!   generated unit and drop-in, and our postmulti@.service, without a
//!   word, and sees a canary planted beside them; systemd's own
//!   `--generators=yes` run of the root's generators succeeds;
//! - our generator starts no process (strace);
//! - postmulti@.service's commands start and stop exactly their instance,
//!   although the primary has `multi_instance_wrapper` set;
//! - `systemd-escape -p` of the root agrees with ours;
//! - on Debian 12, Debian's own generator on the same configurations,
//!   side by side with ours in the test's output, and what it gets wrong,
//!   asserted.
//!
//! The binary under test is ours (`POSTMULTI_BINARY=PATH` for another).
//! Same skip/CI rules as `tests/e2e.rs` (see `tests/common`); building a
//! systemd layer needs the network once.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{Root, StepFiles};
use libtest_mimic::{Arguments, Trial};
use postmulti::systemd::escape::escape_path;

/// Our postmulti (`POSTMULTI_BINARY=PATH` tests another binary).
fn generator_binary() -> PathBuf {
    common::ours()
}

/// Compares `actual` with tests/systemd/expected/INSTALLATION/NAME (or
/// writes it there with POSTMULTI_BLESS=1).
fn expect(installation: &str, name: &str, actual: &str) {
    let path = common::repo()
        .join("tests/systemd/expected")
        .join(installation)
        .join(name);
    if std::env::var_os("POSTMULTI_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert_eq!(
        actual,
        expected,
        "{installation}: {name} differs from {}",
        path.display()
    );
}

/// The units a tree makes postfix.service want, in order: ours from the
/// drop-in's `Wants=`, Debian 12's from `postfix.service.wants/` links.
fn wanted(tree: &str) -> Vec<String> {
    tree.lines()
        .filter_map(|l| {
            l.strip_prefix("Wants=").map(str::to_string).or_else(|| {
                l.strip_prefix("== postfix.service.wants/")
                    .and_then(|rest| rest.split(" -> ").next())
                    .filter(|n| !n.is_empty() && !n.ends_with('/'))
                    .map(str::to_string)
            })
        })
        .collect()
}

fn generator(root: &Root, binary: &Path) {
    let installation = root.installation;
    let work = tempfile::Builder::new()
        .prefix(&format!("postmulti-systemd.{installation}."))
        .tempdir()
        .expect("tempdir");
    let out = work.path().join("out");
    let run = std::process::Command::new(common::harness("systemd-root"))
        .arg(installation)
        .arg(binary)
        .arg(common::repo().join("tests/systemd/generator.sh"))
        .arg(&out)
        .env("POSTMULTI_ROOTS", root.dir.parent().unwrap())
        .output()
        .expect("cannot run tests/harness/systemd-root");
    let harness_err = String::from_utf8_lossy(&run.stderr);
    if !run.status.success() && harness_err.contains("layer failed") {
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            panic!("{installation}: cannot install systemd into a layer: {harness_err}");
        }
        common::say(&format!(
            "systemd::{installation}::generator: skipped: {harness_err}"
        ));
        return;
    }
    assert!(run.status.success(), "systemd-root failed: {harness_err}");
    let found = StepFiles { dir: out };
    assert_eq!(
        found.read("status").trim(),
        "0",
        "generator.sh: {}",
        found.read("stderr")
    );

    // The configuration, made by our postmulti.
    for step in [
        "init",
        "create-out",
        "create-mx-in",
        "create-hold",
        "create-relay",
        "enable-out",
        "enable-mx-in",
        "enable-relay",
        "comma-list",
        "space-list",
    ] {
        found.succeeded(step);
    }
    let (status, list, _) = found.step("list");
    assert_eq!(status, 0);
    assert_eq!(
        list,
        "-               -               y         /etc/postfix\n\
         postfix-out     -               y         /etc/postfix-out\n\
         -               -               y         /etc/postfix-mx-in\n\
         postfix-hold    -               n         /etc/postfix-hold\n\
         postfix-relay   -               y         /srv/postfix/relay\n"
    );

    // What ours generates, for each list; a broken main.cf is reported.
    for name in ["ours", "space", "broken"] {
        let (status, stdout, stderr) = found.step(name);
        assert_eq!(status, 0, "{name}: the generator always exits 0");
        assert_eq!(stdout, "", "{name}: the generator prints nothing on stdout");
        if name != "broken" {
            assert_eq!(stderr, "", "{name}");
        }
        expect(
            installation,
            &format!("{name}.tree"),
            &found.read(&format!("{name}.tree")),
        );
    }
    expect(installation, "broken.err", &found.step("broken").2);
    assert_eq!(
        found.read("ours.tree"),
        found.read("space.tree"),
        "commas and whitespace separate the same list"
    );

    // systemd-analyze verify accepts everything, and did read it.
    for name in ["verify", "verify-broken"] {
        found.says(name, "");
        let (_, _, canary) = found.step(&format!("{name}-canary"));
        assert!(
            canary.contains("99-canary.conf") && canary.contains("Canary"),
            "{name}: verify did not read the generator directory:\n{canary}"
        );
    }
    let (status, verified, complaints) = found.step("verify-generators");
    assert_eq!(status, 0, "verify --generators=yes:\n{complaints}");
    assert!(
        !format!("{verified}{complaints}").contains("postfix") && !complaints.contains("postmulti"),
        "verify --generators=yes:\n{verified}{complaints}"
    );
    let units = found.read("verify.units");
    assert!(units.contains("postmulti@"), "{units}");

    // No process: the wrapper's sh execs postmulti, and that is all.
    assert_eq!(
        found.read("strace"),
        "execve(\"/usr/lib/systemd/system-generators/postmulti-instance-generator\", \
         [\"/usr/lib/systemd/system-generato\"..., \"/run/gen/strace\"], ...) = 0\n\
         execve(\"/usr/sbin/postmulti\", [\"/usr/sbin/postmulti\", \"--systemd-generator\", \
         \"/run/gen/strace\"], ...) = 0\n"
    );

    // postmulti@.service's commands run exactly their instance.
    assert_eq!(
        found.read("commands"),
        "postfix -c /srv/postfix/relay check\n\
         postfix -c /srv/postfix/relay start\n\
         postfix -c /srv/postfix/relay stop\n"
    );
    for step in ["check", "start", "stop"] {
        found.succeeded(step);
    }
    assert_eq!(
        found.step("masters-started").1,
        "/var/spool/postfix stopped\n/var/spool/postfix-out stopped\n\
         /var/spool/postfix-mx-in stopped\n/var/spool/postfix-hold stopped\n\
         /var/spool/postfix-relay running\n"
    );
    assert!(
        found
            .step("masters-stopped")
            .1
            .lines()
            .all(|l| l.ends_with(" stopped")),
        "{}",
        found.step("masters-stopped").1
    );

    // systemd-escape -p of this root agrees with ours.
    for line in found.read("escape").lines() {
        let (path, theirs) = line.split_once('\t').expect("PATH\\tESCAPED");
        let ours = escape_path(path.as_bytes()).map(|e| String::from_utf8(e).unwrap());
        assert_eq!(
            ours.unwrap_or_default(),
            theirs,
            "systemd-escape -p {path:?}"
        );
    }

    if installation == "bookworm" {
        debian_12(&found);
    }
}

/// Debian 12: ours yields to Debian's generator until it is masked; then
/// both on the same configurations, side by side, with what Debian's gets
/// wrong asserted.
fn debian_12(found: &StepFiles) {
    let (status, _, stderr) = found.step("ours-unmasked");
    assert_eq!(status, 0);
    expect("bookworm", "ours-unmasked.err", &stderr);
    assert_eq!(
        found.read("ours-unmasked.tree"),
        "",
        "nothing while Debian's runs"
    );
    found.succeeded("mask");
    found.succeeded("configure-instance");
    for name in ["debian", "debian-space", "debian-broken"] {
        expect(
            "bookworm",
            &format!("{name}.tree"),
            &found.read(&format!("{name}.tree")),
        );
        expect("bookworm", &format!("{name}.err"), &found.step(name).2);
    }

    let cases = [
        ("commas", "debian", "ours"),
        ("whitespace", "debian-space", "space"),
        ("broken main.cf", "debian-broken", "broken"),
    ];
    let mut report = String::from(
        "\nbookworm: Debian 12's postfix-instance-generator | postmulti --systemd-generator\n",
    );
    for (case, theirs, ours) in cases {
        let (status, _, err) = found.step(theirs);
        let (a, b) = (
            wanted(&found.read(&format!("{theirs}.tree"))),
            wanted(&found.read(&format!("{ours}.tree"))),
        );
        report.push_str(&format!(
            "  {case}: Debian's exits {status}{}\n",
            if err.is_empty() {
                String::new()
            } else {
                format!(", says: {}", err.trim().replace('\n', " / "))
            }
        ));
        for i in 0..a.len().max(b.len()) {
            report.push_str(&format!(
                "    {:<44} | {}\n",
                a.get(i).map_or("", String::as_str),
                b.get(i).map_or("", String::as_str)
            ));
        }
        let orders = |tree: &str| tree.lines().filter(|l| l.starts_with("After=")).count();
        let ordering = |name: &str| {
            let count = orders(&found.read(&format!("{name}.tree")));
            format!("ordering: {count} After=")
        };
        report.push_str(&format!(
            "    {:<44} | {}\n",
            ordering(theirs),
            ordering(ours)
        ));
    }
    common::say(&report);

    // 1. A comma-separated list: Debian's takes "/etc/postfix-out,/etc/postfix-mx-in,"
    //    for one directory, runs postconf on it, and fails, wanting no secondary.
    let (status, _, err) = found.step("debian");
    assert_ne!(status, 0, "Debian's generator fails on a comma list");
    assert!(
        err.contains("postconf: fatal: open /etc/postfix-out,/etc/postfix-mx-in,/main.cf"),
        "{err}"
    );
    let debian: BTreeMap<&str, Vec<String>> = cases
        .iter()
        .map(|(_, theirs, _)| (*theirs, wanted(&found.read(&format!("{theirs}.tree")))))
        .collect();
    assert_eq!(debian["debian"], ["postfix@-.service", "postfix@.service"]);
    assert_eq!(
        wanted(&found.read("ours.tree")),
        [
            "postfix@-.service",
            "postmulti@etc-postfix\\x2dout.service",
            "postmulti@etc-postfix\\x2dmx\\x2din.service",
            "postmulti@srv-postfix-relay.service"
        ]
    );
    // 2. The disabled instance is wanted by Debian's, never by ours.
    assert!(debian["debian-space"].contains(&"postfix@postfix-hold.service".to_string()));
    for tree in ["ours.tree", "space.tree", "broken.tree"] {
        assert!(!found.read(tree).contains("hold"), "{tree}");
    }
    // 3. The nameless instance becomes "postfix@.service" (a template, no
    //    instance) in Debian's; ours names it after its directory.
    assert!(debian["debian-space"].contains(&"postfix@.service".to_string()));
    assert!(
        wanted(&found.read("space.tree"))
            .contains(&"postmulti@etc-postfix\\x2dmx\\x2din.service".to_string())
    );
    // 4. Units are named after multi_instance_name, which its postfix@.service
    //    then hands to postmulti -i: the instance depends on its name.
    assert!(debian["debian-space"].contains(&"postfix@postfix-out.service".to_string()));
    // 5. It runs postconf at boot (its errors are postconf's); ours runs nothing.
    assert!(
        found
            .step("debian-broken")
            .2
            .starts_with("postconf: fatal: ")
    );
    // 6. It orders nothing; ours orders every instance after the one before it.
    for name in ["debian", "debian-space", "debian-broken"] {
        assert!(!found.read(&format!("{name}.tree")).contains("After="));
    }
    assert_eq!(found.read("space.tree").matches("\nAfter=").count(), 3);
    // 7. A broken secondary main.cf: Debian's wants a unit for it anyway.
    assert_eq!(debian["debian-broken"], debian["debian-space"]);
}

/// The host's `systemd-escape -p` (Debian 12's) agrees with ours.
fn escape_agrees_with_the_hosts_systemd_escape() -> Result<(), libtest_mimic::Failed> {
    let paths = [
        "/etc/postfix-out",
        "/etc/postfix-mx-in",
        "/srv/postfix/relay",
        "/etc/postfix-a.b/",
        "/.x",
        "/a//b",
        "/a/./b",
        "/",
        "/\u{e9} x:y_z\\%",
        "/a b@c+d=e~f",
        "/a/../b",
    ];
    for path in paths {
        let Ok(out) = std::process::Command::new("systemd-escape")
            .args(["-p", "--", path])
            .output()
        else {
            common::say("escape_agrees_with_the_hosts_systemd_escape: skipped: no systemd-escape");
            return Ok(());
        };
        let theirs = String::from_utf8_lossy(&out.stdout).trim_end().to_string();
        let ours = escape_path(path.as_bytes()).map(|e| String::from_utf8(e).unwrap());
        assert_eq!(
            ours.unwrap_or_default(),
            theirs,
            "systemd-escape -p {path:?}"
        );
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = vec![Trial::test(
        "escape_agrees_with_the_hosts_systemd_escape",
        escape_agrees_with_the_hosts_systemd_escape,
    )];
    for installation in common::installations() {
        let root = if args.list {
            None
        } else {
            common::prepare("systemd", installation).map(Arc::new)
        };
        let skipped = root.is_none() && !args.list;
        trials.push(
            Trial::test(format!("{installation}::generator"), move || match root {
                Some(root) => {
                    generator(&root, &generator_binary());
                    Ok(())
                }
                None => Err("this machine cannot run the harness (see above)".into()),
            })
            .with_kind("root")
            .with_ignored_flag(skipped),
        );
    }
    libtest_mimic::run(&args, trials).exit();
}
