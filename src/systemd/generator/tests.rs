use super::*;

/// A throw-away root: `files` are (path under the root, content).
fn root(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let full = dir.path().join(path);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, content).unwrap();
    }
    dir
}

/// Lines of a unit file that make each flavour (what the distributions'
/// files say, reduced to the lines that matter).
const PER_DIRECTORY: &str =
    "[Service]\nEnvironment=MAIL_CONFIG=/etc/postfix-%I\nExecStart=postfix debian-systemd-start\n";
const BY_NAME: &str = "[Service]\nExecStartPre=/usr/lib/postfix/configure-instance.sh %i\nExecStart=/usr/sbin/postmulti -i %i -p start\n";

fn instance(name: Option<&str>, enable: &str, queue: &str) -> String {
    let mut text = format!("queue_directory = {queue}\ndata_directory = {queue}-data\n");
    if let Some(name) = name {
        text.push_str(&format!("multi_instance_name = {name}\n"));
    }
    text.push_str(&format!("multi_instance_enable = {enable}\n"));
    text
}

/// The four instances of docs/systemd.md's example, listed with commas,
/// a space and a tab; `unit` is the distribution's postfix@.service.
fn example(unit: Option<(&str, &str)>) -> tempfile::TempDir {
    let out = instance(Some("postfix-out"), "yes", "/var/spool/postfix-out");
    let mx = instance(None, "yes", "/var/spool/postfix-mx-in");
    let hold = instance(Some("postfix-hold"), "no", "/var/spool/postfix-hold");
    let relay = instance(Some("postfix-relay"), "yes", "/var/spool/postfix-relay");
    let mut files = vec![
        (
            "etc/postfix/main.cf",
            "multi_instance_enable = yes\nmulti_instance_directories = /etc/postfix-out,/etc/postfix-mx-in, ${config_directory}-hold\t/srv/postfix/relay\n",
        ),
        ("etc/postfix-out/main.cf", out.as_str()),
        ("etc/postfix-mx-in/main.cf", mx.as_str()),
        ("etc/postfix-hold/main.cf", hold.as_str()),
        ("srv/postfix/relay/main.cf", relay.as_str()),
    ];
    files.extend(unit);
    root(&files)
}

fn show(files: &[(PathBuf, Vec<u8>)]) -> String {
    files
        .iter()
        .map(|(p, c)| format!("== {}\n{}", p.display(), String::from_utf8_lossy(c)))
        .collect()
}

fn messages(out: &Output) -> Vec<String> {
    out.messages
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .collect()
}

const WANTS_HEADER: &str = "# Made by postmulti --systemd-generator: the enabled instances of\n\
                            # /etc/postfix/main.cf's multi_instance_directories, in list order.\n[Unit]\n";

#[test]
fn debian_13_units_for_etc_postfix_dash_ours_elsewhere() {
    let r = example(Some((
        "usr/lib/systemd/system/postfix@.service",
        PER_DIRECTORY,
    )));
    let out = plan(r.path());
    assert_eq!(messages(&out), Vec::<String>::new());
    assert_eq!(
        show(&out.files),
        format!(
            "== postfix@mx\\x2din.service.d/50-postmulti.conf\n\
             # Made by postmulti --systemd-generator: /etc/postfix-mx-in, instance 2 of 3 to start.\n\
             # Started after /etc/postfix-out, listed before it.\n\
             [Unit]\nAfter=postfix@out.service\n\
             == postmulti@srv-postfix-relay.service.d/50-postmulti.conf\n\
             # Made by postmulti --systemd-generator: /srv/postfix/relay, instance 3 of 3 to start.\n\
             # Started after /etc/postfix-mx-in, listed before it.\n\
             [Unit]\nAfter=postfix@mx\\x2din.service\n\
             == postfix.service.d/50-postmulti.conf\n{WANTS_HEADER}\
             Wants=postfix@out.service\nWants=postfix@mx\\x2din.service\n\
             Wants=postmulti@srv-postfix-relay.service\n"
        )
    );
}

#[test]
fn debian_12_primary_first_and_ours_for_every_secondary() {
    let r = example(Some(("lib/systemd/system/postfix@.service", BY_NAME)));
    let out = plan(r.path());
    assert_eq!(messages(&out), Vec::<String>::new());
    let hook = "# As Debian 12's postfix@.service does before it starts an instance.\n\
                [Service]\nExecStartPre=+/usr/lib/postfix/configure-instance.sh %f\n";
    assert_eq!(
        show(&out.files),
        format!(
            "== postmulti@etc-postfix\\x2dout.service.d/50-postmulti.conf\n\
             # Made by postmulti --systemd-generator: /etc/postfix-out, instance 2 of 4 to start.\n\
             # Started after the primary instance, listed before it.\n\
             [Unit]\nAfter=postfix@-.service\n{hook}\
             == postmulti@etc-postfix\\x2dmx\\x2din.service.d/50-postmulti.conf\n\
             # Made by postmulti --systemd-generator: /etc/postfix-mx-in, instance 3 of 4 to start.\n\
             # Started after /etc/postfix-out, listed before it.\n\
             [Unit]\nAfter=postmulti@etc-postfix\\x2dout.service\n{hook}\
             == postmulti@srv-postfix-relay.service.d/50-postmulti.conf\n\
             # Made by postmulti --systemd-generator: /srv/postfix/relay, instance 4 of 4 to start.\n\
             # Started after /etc/postfix-mx-in, listed before it.\n\
             [Unit]\nAfter=postmulti@etc-postfix\\x2dmx\\x2din.service\n{hook}\
             == postfix.service.d/50-postmulti.conf\n{WANTS_HEADER}\
             Wants=postfix@-.service\nWants=postmulti@etc-postfix\\x2dout.service\n\
             Wants=postmulti@etc-postfix\\x2dmx\\x2din.service\n\
             Wants=postmulti@srv-postfix-relay.service\n"
        )
    );
}

#[test]
fn without_a_distribution_unit_every_instance_is_ours() {
    let r = example(None);
    let out = plan(r.path());
    let names: Vec<String> = out
        .files
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "postmulti@etc-postfix\\x2dmx\\x2din.service.d/50-postmulti.conf",
            "postmulti@srv-postfix-relay.service.d/50-postmulti.conf",
            "postfix.service.d/50-postmulti.conf"
        ]
    );
    // A masked distribution unit is no unit.
    let r = example(None);
    fs::create_dir_all(r.path().join("etc/systemd/system")).unwrap();
    std::os::unix::fs::symlink(
        "/dev/null",
        r.path().join("etc/systemd/system/postfix@.service"),
    )
    .unwrap();
    fs::create_dir_all(r.path().join("usr/lib/systemd/system")).unwrap();
    fs::write(
        r.path().join("usr/lib/systemd/system/postfix@.service"),
        PER_DIRECTORY,
    )
    .unwrap();
    assert_eq!(flavour(r.path()), Flavour::Unknown);
}

#[test]
fn debian_12_primary_alone_or_disabled() {
    let unit = ("lib/systemd/system/postfix@.service", BY_NAME);
    let alone = root(&[("etc/postfix/main.cf", "myhostname = x\n"), unit]);
    assert_eq!(
        show(&plan(alone.path()).files),
        format!("== postfix.service.d/50-postmulti.conf\n{WANTS_HEADER}Wants=postfix@-.service\n")
    );
    let off = instance(Some("postfix-a"), "no", "/var/spool/postfix-a");
    let disabled = root(&[
        (
            "etc/postfix/main.cf",
            "multi_instance_directories = /etc/postfix-a\n",
        ),
        ("etc/postfix-a/main.cf", off.as_str()),
        unit,
    ]);
    assert_eq!(plan(disabled.path()), Output::default());
}

#[test]
fn broken_instances_are_reported_and_skipped() {
    let good = instance(Some("postfix-a"), "yes", "/var/spool/postfix-a");
    let shares_queue = instance(Some("postfix-d"), "yes", "/var/spool/postfix-a");
    let bad_bool = instance(Some("postfix-e"), "maybe", "/var/spool/postfix-e");
    let r = root(&[
        (
            "etc/postfix/main.cf",
            "multi_instance_enable = yes\nmulti_instance_directories = /etc/postfix-a /etc/postfix-b /etc/postfix-c \
             /etc/postfix-d /etc/postfix-e /etc/postfix-a /etc/postfix-f/ /srv/$$x relative /etc/postfix\n",
        ),
        ("etc/postfix-a/main.cf", good.as_str()),
        (
            "etc/postfix-b/main.cf",
            "queue_directory = /q\nthis is not a parameter\n",
        ),
        ("etc/postfix-d/main.cf", shares_queue.as_str()),
        ("etc/postfix-e/main.cf", bad_bool.as_str()),
        ("usr/lib/systemd/system/postfix@.service", PER_DIRECTORY),
    ]);
    let out = plan(r.path());
    assert_eq!(
        messages(&out),
        [
            "/etc/postfix-b/main.cf, line 2: missing '=' after attribute name: \"this is not a parameter\"; instance /etc/postfix-b not started at boot",
            "no /etc/postfix-c/main.cf; instance /etc/postfix-c not started at boot",
            "instance /etc/postfix-d, queue_directory=/var/spool/postfix-a conflicts with instance /etc/postfix-a, queue_directory=/var/spool/postfix-a; instance /etc/postfix-d not started at boot",
            "/etc/postfix-e/main.cf: bad boolean multi_instance_enable = maybe; instance /etc/postfix-e not started at boot",
            "multi_instance_directories: /etc/postfix-f/ is not a normalised path (systemd would make it /etc/postfix-f); instance /etc/postfix-f/ not started at boot",
            "multi_instance_directories: /srv/$x: a unit cannot name a directory with '$'; instance /srv/$x not started at boot",
            "multi_instance_directories: relative is not a normalised absolute path; instance relative not started at boot",
            "multi_instance_directories lists /etc/postfix, the primary instance's own directory: ignored",
        ]
    );
    assert_eq!(
        show(&out.files),
        format!("== postfix.service.d/50-postmulti.conf\n{WANTS_HEADER}Wants=postfix@a.service\n")
    );
}

#[test]
fn a_broken_or_missing_primary_generates_nothing() {
    let none = root(&[]);
    assert_eq!(plan(none.path()), Output::default());
    let broken = root(&[("etc/postfix/main.cf", "multi_instance_directories\n")]);
    let out = plan(broken.path());
    assert!(out.files.is_empty());
    assert_eq!(
        messages(&out),
        [
            "/etc/postfix/main.cf, line 1: missing '=' after attribute name: \"multi_instance_directories\"; no instance started by postmulti's generator"
        ]
    );
    let bad = root(&[("etc/postfix/main.cf", "multi_instance_directories = ${x\n")]);
    let out = plan(bad.path());
    assert!(out.files.is_empty());
    assert_eq!(out.messages.len(), 1, "{:?}", messages(&out));
}

#[test]
fn debian_12_generator_must_be_masked() {
    let r = example(Some(("lib/systemd/system/postfix@.service", BY_NAME)));
    let generators = r.path().join("lib/systemd/system-generators");
    fs::create_dir_all(&generators).unwrap();
    fs::write(generators.join(DEBIAN_GENERATOR), "#!/bin/sh\n").unwrap();
    let out = plan(r.path());
    assert!(out.files.is_empty());
    assert_eq!(
        messages(&out),
        [
            "/lib/systemd/system-generators/postfix-instance-generator also runs and would start every instance a second way; nothing generated: mask it with `ln -s /dev/null /etc/systemd/system-generators/postfix-instance-generator`"
        ]
    );
    let masks = r.path().join("etc/systemd/system-generators");
    fs::create_dir_all(&masks).unwrap();
    std::os::unix::fs::symlink("/dev/null", masks.join(DEBIAN_GENERATOR)).unwrap();
    let out = plan(r.path());
    assert!(out.messages.is_empty());
    assert_eq!(out.files.len(), 4);
}

#[test]
fn a_disabled_primary_that_debian_13_starts_is_reported() {
    let on = instance(Some("postfix-a"), "yes", "/var/spool/postfix-a");
    let r = root(&[
        (
            "etc/postfix/main.cf",
            "multi_instance_directories = /etc/postfix-a\n",
        ),
        ("etc/postfix-a/main.cf", on.as_str()),
        ("usr/lib/systemd/system/postfix@.service", PER_DIRECTORY),
    ]);
    let out = plan(r.path());
    assert_eq!(
        messages(&out),
        [
            "the primary instance is disabled (multi_instance_enable = no) but the distribution's postfix.service starts it at boot"
        ]
    );
    assert_eq!(out.files.len(), 1);
}

#[test]
fn systemctl_enablements_that_contradict_postmulti_are_reported() {
    let r = example(Some((
        "usr/lib/systemd/system/postfix@.service",
        PER_DIRECTORY,
    )));
    let wants = r.path().join("etc/systemd/system/multi-user.target.wants");
    fs::create_dir_all(&wants).unwrap();
    for unit in [
        "postfix@hold.service",
        "postfix@out.service",
        "postfix.service",
    ] {
        std::os::unix::fs::symlink("/usr/lib/systemd/system/postfix@.service", wants.join(unit))
            .unwrap();
    }
    assert_eq!(
        messages(&plan(r.path())),
        [
            "postfix@hold.service is enabled in /etc/systemd/system/multi-user.target.wants: its instance is disabled (multi_instance_enable = no) but it still starts at boot; systemctl disable postfix@hold.service"
        ]
    );
}

#[test]
fn unit_names() {
    let per = Flavour::PerDirectory;
    let name = |d: &str, f| unit_name(d.as_bytes(), f).map(|n| String::from_utf8(n).unwrap());
    assert_eq!(
        name("/etc/postfix-a.b", per).as_deref(),
        Some("postfix@a.b.service")
    );
    assert_eq!(
        name("/etc/postfix-.x", per).as_deref(),
        Some("postfix@.x.service")
    );
    assert_eq!(
        name("/etc/postfix-x/y", per).as_deref(),
        Some("postfix@x-y.service")
    );
    assert_eq!(
        name("/etc/postfix-", per).as_deref(),
        Some("postmulti@etc-postfix\\x2d.service")
    );
    assert_eq!(
        name("/etc/postfix-out", Flavour::Unknown).as_deref(),
        Some("postmulti@etc-postfix\\x2dout.service")
    );
    assert_eq!(
        name("/etc/postfixout", per).as_deref(),
        Some("postmulti@etc-postfixout.service")
    );
}

#[test]
fn flavours_of_the_distribution_unit() {
    assert_eq!(classify(PER_DIRECTORY.as_bytes()), Flavour::PerDirectory);
    assert_eq!(
        classify(BY_NAME.as_bytes()),
        Flavour::ByName {
            configure_instance: true
        }
    );
    assert_eq!(
        classify(b"ExecStart=/usr/sbin/postmulti -i %i -p start\n"),
        Flavour::ByName {
            configure_instance: false
        }
    );
    assert_eq!(
        classify(b"#Environment=MAIL_CONFIG=/etc/postfix-%I\n"),
        Flavour::Unknown
    );
}

#[test]
fn install_places_everything_and_leaves_no_scratch() {
    let r = example(Some((
        "usr/lib/systemd/system/postfix@.service",
        PER_DIRECTORY,
    )));
    let normal = tempfile::tempdir().unwrap();
    // Another generator's drop-in directory for postfix.service.
    fs::create_dir(normal.path().join("postfix.service.d")).unwrap();
    fs::write(normal.path().join("postfix.service.d/other.conf"), "x").unwrap();
    assert!(generate(r.path(), normal.path()).is_empty());
    let mut found: Vec<String> = walkdir::WalkDir::new(normal.path())
        .min_depth(1)
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            e.path()
                .strip_prefix(normal.path())
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "postfix.service.d",
            "postfix.service.d/50-postmulti.conf",
            "postfix.service.d/other.conf",
            "postfix@mx\\x2din.service.d",
            "postfix@mx\\x2din.service.d/50-postmulti.conf",
            "postmulti@srv-postfix-relay.service.d",
            "postmulti@srv-postfix-relay.service.d/50-postmulti.conf",
        ]
    );
    let wants = fs::read(normal.path().join("postfix.service.d/50-postmulti.conf")).unwrap();
    assert!(wants.ends_with(b"Wants=postmulti@srv-postfix-relay.service\n"));
}

#[test]
fn a_failed_install_removes_what_it_placed() {
    let r = example(Some((
        "usr/lib/systemd/system/postfix@.service",
        PER_DIRECTORY,
    )));
    let normal = tempfile::tempdir().unwrap();
    // A file where the last directory must go: the commit fails.
    fs::write(normal.path().join("postfix.service.d"), "in the way").unwrap();
    let messages = generate(r.path(), normal.path());
    assert_eq!(messages.len(), 1);
    let text = String::from_utf8_lossy(&messages[0]);
    assert!(text.starts_with("rename into "), "{text}");
    assert!(text.ends_with("; nothing generated"), "{text}");
    let left: Vec<_> = fs::read_dir(normal.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["postfix.service.d"]);
}

#[test]
fn run_always_exits_zero() {
    assert_eq!(run(&[]), 0);
    let normal = tempfile::tempdir().unwrap();
    let args: Vec<OsString> = vec![normal.path().into(), "/e".into(), "/l".into()];
    assert_eq!(run(&args), 0);
}
