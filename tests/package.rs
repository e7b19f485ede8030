//! The Debian package (`scripts/package`, docs/packaging.md) through its
//! life, on Debian sid and Debian 12 (`tests/common::INSTALLATIONS`, as
//! `POSTMULTI_INSTALLATIONS` picks): `tests/package/package.sh` runs
//! beside a throw-away copy of the installation's root
//! (`tests/harness/package-root`), installs the package there with dpkg,
//! and leaves what it found in files that this test checks:
//!
//! - the diversions: Postfix's postmulti and manual page moved to
//!   `*.postfix`, and on Debian 12 its systemd generator out of systemd's
//!   way; ours at their paths (md5sums: Postfix's against its package's,
//!   ours against ours); the same after installing ours a second time;
//! - `postmulti -l`, then `postfix start` and `postfix stop` through the
//!   wrapper `postmulti -e init` sets, on two instances made with ours;
//! - `man -w` finds ours, and Postfix's as postmulti.postfix; `man
//!   --warnings` has nothing to say; our page shares no sentence with
//!   Postfix's;
//! - each completion script loads in its shell (zsh and fish where this
//!   machine or the root has them), and bash's, driven through
//!   `COMP_WORDS`/`COMP_CWORD`, offers the instances after `-i`, the groups
//!   after `-g` and `-G`, the actions after `-e`, the postfix commands after
//!   `-p`;
//! - our generator is the only instance generator, and generates;
//! - `apt-get install --reinstall postfix` (from the root's postfix .deb,
//!   offline) leaves ours in place;
//! - `dpkg -r` puts Postfix's files back byte for byte (`dpkg --verify
//!   postfix` as before), and its own postmulti lists the same instances;
//!   `dpkg -P` leaves no path of ours.
//!
//! The package is `POSTMULTI_DEB`, or `scripts/package` builds it once.
//! Same skip/CI rules as the other root suites (see `tests/common`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use common::{Root, StepFiles};
use libtest_mimic::{Arguments, Failed, Trial};
use postmulti::cli::flags::{ACTIONS, POSTFIX_COMMANDS};

/// The installations the package is tried on: the newest Postfix and the
/// only release whose postfix has a generator of its own.
const ON: [&str; 2] = ["sid", "bookworm"];

/// The paths package.sh watches (its WATCHED), relative to `/`.
const POSTMULTI: &str = "/usr/sbin/postmulti";
const POSTMULTI_DIVERTED: &str = "/usr/sbin/postmulti.postfix";
const PAGE: &str = "/usr/share/man/man1/postmulti.1.gz";
const PAGE_DIVERTED: &str = "/usr/share/man/man1/postmulti.postfix.1.gz";
const GENERATOR: &str = "/lib/systemd/system-generators/postfix-instance-generator";
const GENERATOR_DIVERTED: &str = "/lib/systemd/postfix-instance-generator.postfix";

/// The package under test: POSTMULTI_DEB, or what scripts/package makes
/// (once, for every installation).
fn deb() -> Result<PathBuf, String> {
    static DEB: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DEB.get_or_init(|| {
        if let Some(deb) = std::env::var_os("POSTMULTI_DEB") {
            return Ok(PathBuf::from(deb));
        }
        common::say("package: building the package with scripts/package");
        let out = std::process::Command::new(common::repo().join("scripts/package"))
            .output()
            .map_err(|e| format!("cannot run scripts/package: {e}"))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        match stdout.lines().last() {
            Some(path) if out.status.success() => Ok(PathBuf::from(path)),
            _ => Err(format!(
                "scripts/package failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )),
        }
    })
    .clone()
}

/// package.sh's own files in its OUTDIR.
impl StepFiles {
    /// The md5 of each watched path at one moment (None: no such file).
    fn md5s(&self, moment: &str) -> BTreeMap<String, Option<String>> {
        self.read(&format!("{moment}.md5"))
            .lines()
            .map(|line| {
                let (sum, path) = line.split_once("  ").expect("MD5  PATH");
                (path.to_string(), (sum != "-").then(|| sum.to_string()))
            })
            .collect()
    }

    /// The diversions dpkg-divert --list shows that are ours, as
    /// "FROM to TO", sorted.
    fn our_diversions(&self, name: &str) -> Vec<String> {
        let mut ours: Vec<String> = self
            .succeeded(name)
            .lines()
            .filter_map(|l| l.strip_suffix(" by postmulti-rs"))
            .filter_map(|l| l.strip_prefix("diversion of "))
            .map(str::to_string)
            .collect();
        ours.sort();
        ours
    }

    fn paths(&self, moment: &str) -> BTreeSet<String> {
        self.read(&format!("{moment}.paths"))
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// An md5sums file (`MD5  PATH`, paths without the leading `/`), by path.
fn md5sums(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(sum, path)| (format!("/{path}"), sum.to_string()))
        .collect()
}

/// The longest run of words two texts share.
fn longest_shared_run(a: &str, b: &str) -> Vec<String> {
    let words = |t: &str| -> Vec<String> {
        t.split(|c: char| c.is_whitespace())
            .map(|w| {
                w.trim_matches(|c: char| c.is_ascii_punctuation())
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect()
    };
    let (a, b) = (words(a), words(b));
    // Dynamic programming over suffixes, one row at a time.
    let mut best = (0, 0);
    let mut previous = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        let mut row = vec![0usize; b.len() + 1];
        for j in 1..=b.len() {
            if a[i - 1] == b[j - 1] {
                row[j] = previous[j - 1] + 1;
                if row[j] > best.0 {
                    best = (row[j], i);
                }
            }
        }
        previous = row;
    }
    a[best.1 - best.0..best.1].to_vec()
}

fn package(root: &Root, deb: &Path) {
    let installation = root.installation;
    let work = tempfile::Builder::new()
        .prefix(&format!("postmulti-package.{installation}."))
        .tempdir()
        .expect("tempdir");
    let run = std::process::Command::new(common::harness("package-root"))
        .arg(installation)
        .arg(deb)
        .arg(common::repo().join("tests/package/package.sh"))
        .arg(work.path())
        .env("POSTMULTI_ROOTS", root.dir.parent().unwrap())
        .output()
        .expect("cannot run tests/harness/package-root");
    assert!(
        run.status.success(),
        "package-root failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let found = StepFiles {
        dir: work.path().to_path_buf(),
    };
    assert_eq!(
        found.read("status").trim(),
        "0",
        "package.sh: {}",
        found.read("stderr")
    );

    // What is whose: Postfix's files by its md5sums, ours by ours.
    let postfix = md5sums(&found.read("postfix.md5sums"));
    let ours = md5sums(&found.read("ours.md5sums"));
    let has_generator = postfix.contains_key(GENERATOR);
    assert_eq!(
        has_generator,
        installation == "bookworm",
        "only Debian 12's postfix has an instance generator"
    );
    let postfix_file = |path: &str| Some(postfix[path].clone());
    let before = BTreeMap::from([
        (POSTMULTI.to_string(), postfix_file(POSTMULTI)),
        (POSTMULTI_DIVERTED.to_string(), None),
        (PAGE.to_string(), postfix_file(PAGE)),
        (PAGE_DIVERTED.to_string(), None),
        (
            GENERATOR.to_string(),
            has_generator.then(|| postfix[GENERATOR].clone()),
        ),
        (GENERATOR_DIVERTED.to_string(), None),
    ]);
    let installed = BTreeMap::from([
        (POSTMULTI.to_string(), Some(ours[POSTMULTI].clone())),
        (POSTMULTI_DIVERTED.to_string(), postfix_file(POSTMULTI)),
        (PAGE.to_string(), Some(ours[PAGE].clone())),
        (PAGE_DIVERTED.to_string(), postfix_file(PAGE)),
        (GENERATOR.to_string(), None),
        (
            GENERATOR_DIVERTED.to_string(),
            has_generator.then(|| postfix[GENERATOR].clone()),
        ),
    ]);
    assert_eq!(found.md5s("before"), before, "before the install");

    // Installed: the diversions, ours in place.
    let install = found.succeeded("install");
    assert!(install.contains("Setting up postmulti-rs"), "{install}");
    let mut diversions = vec![
        format!("{POSTMULTI} to {POSTMULTI_DIVERTED}"),
        format!("{PAGE} to {PAGE_DIVERTED}"),
    ];
    if has_generator {
        diversions.push(format!("{GENERATOR} to {GENERATOR_DIVERTED}"));
    }
    diversions.sort();
    assert_eq!(found.our_diversions("diversions"), diversions);
    assert_eq!(found.md5s("installed"), installed, "installed");
    // Installed again, as an upgrade of ours would be: nothing moves.
    found.succeeded("install-again");
    assert_eq!(found.our_diversions("diversions-again"), diversions);
    assert_eq!(found.md5s("installed-again"), installed, "installed again");
    let version = found.succeeded("version");
    assert!(version.starts_with("postmulti (Rust) "), "{version}");
    found.says(
        "list-empty",
        "-               -               y         /etc/postfix\n",
    );

    // postfix start and stop through the wrapper, that is through ours.
    for step in ["init", "create-a", "create-b", "enable-a"] {
        found.succeeded(step);
    }
    let list = "-               -               y         /etc/postfix\n\
                postfix-a       -               y         /etc/postfix-a\n\
                postfix-b       mta             n         /etc/postfix-b\n";
    found.says("list", list);
    found.says(
        "wrapper",
        "${command_directory}/postmulti -p --\n/usr/sbin\n",
    );
    found.succeeded("start");
    let states = |name: &str| -> Vec<String> {
        found
            .succeeded(name)
            .lines()
            .map(|l| {
                let fields: Vec<&str> = l.split_whitespace().collect();
                format!("{} {}", fields[3], fields[4])
            })
            .collect()
    };
    assert_eq!(
        states("started"),
        [
            "/etc/postfix running",
            "/etc/postfix-a running",
            "/etc/postfix-b stopped"
        ]
    );
    found.succeeded("stop");
    assert_eq!(
        states("stopped"),
        [
            "/etc/postfix stopped",
            "/etc/postfix-a stopped",
            "/etc/postfix-b stopped"
        ]
    );

    // The manual page.
    if found.ran("man-warnings") {
        found.says("man-where", &format!("{PAGE}\n"));
        found.says("man-where-postfix", &format!("{PAGE_DIVERTED}\n"));
        found.says("man-warnings", "");
        let (page, theirs) = (found.read("man-ours.txt"), found.read("man-postfix.txt"));
        assert!(page.contains("MULTIPLE INSTANCES UNDER SYSTEMD"), "{page}");
        assert!(
            theirs.contains("Wietse Venema"),
            "not Postfix's page:\n{theirs}"
        );
        let shared = longest_shared_run(&page, &theirs);
        assert!(
            shared.len() < 8,
            "our manual page shares {} words in a row with Postfix's: {}",
            shared.len(),
            shared.join(" ")
        );
    } else {
        common::say(&format!(
            "package::{installation}: no man here or in the root: the page checked by path and md5 only"
        ));
    }

    // The completions.
    found.says("bash-load", "complete -F _postmulti postmulti\n");
    if found.ran("zsh-load") {
        found.says("zsh-load", "_postmulti\n");
    }
    if found.ran("fish-load") {
        let actions = found.succeeded("fish-load");
        for action in ACTIONS {
            assert!(actions.contains(&format!("{action}\t")), "fish: {action}");
        }
    }
    let sorted = |words: &[&str]| {
        let mut words = words.to_vec();
        words.sort();
        words.iter().map(|w| format!("{w}\n")).collect::<String>()
    };
    found.says("complete-i", "-\npostfix-a\npostfix-b\n");
    found.says("complete-g", "mta\n");
    found.says("complete-G", "mta\n");
    found.says("complete-e", &sorted(&ACTIONS));
    found.says("complete-p", &sorted(&POSTFIX_COMMANDS));
    found.says("complete-long", "--status\n");

    // Ours is the only instance generator, and it does its work.
    let generators = found.succeeded("generators");
    let instance_generators: Vec<&str> = generators
        .lines()
        .filter(|g| g.contains("instance-generator"))
        .collect();
    assert_eq!(instance_generators, ["postmulti-instance-generator"]);
    let wants = if has_generator {
        "Wants=postfix@-.service\nWants=postmulti@etc-postfix\\x2da.service\n"
    } else {
        "Wants=postfix@a.service\n"
    };
    let (status, generated, complaints) = found.step("generate");
    assert_eq!((status, complaints.as_str()), (0, ""), "{generated}");
    assert!(generated.ends_with(wants), "{generated}");

    // Postfix reinstalled from its package: ours stays.
    let archives = found.read("archives");
    assert!(
        archives.lines().any(|a| a.starts_with("postfix_")),
        "no postfix .deb in the root's apt cache: {archives}"
    );
    let reinstall = found.succeeded("reinstall");
    assert!(reinstall.contains("Unpacking postfix ("), "{reinstall}");
    assert_eq!(found.md5s("reinstalled"), installed, "postfix reinstalled");
    assert_eq!(found.our_diversions("diversions-reinstalled"), diversions);
    assert_eq!(found.succeeded("version-reinstalled"), version);

    // Removed: Postfix's own files back, byte for byte.
    found.succeeded("remove");
    assert_eq!(
        found.our_diversions("diversions-removed"),
        Vec::<String>::new()
    );
    assert_eq!(found.md5s("removed"), before, "removed");
    assert_eq!(found.step("verify-removed"), found.step("verify-before"));
    found.says("list-removed", list);
    found.says("cache-removed", "installation\n");

    // Purged: nothing of ours is left.
    found.succeeded("purge");
    assert_ne!(found.step("query-purged").0, 0, "postmulti-rs still known");
    let (paths_before, purged) = (found.paths("before"), found.paths("purged"));
    let contents: BTreeSet<String> = found
        .read("contents")
        .lines()
        .map(|p| p.trim_end_matches('/').to_string())
        .filter(|p| !p.is_empty())
        .collect();
    for path in purged.difference(&paths_before) {
        let ours = contents.contains(path)
            || path.starts_with("/var/cache/postmulti")
            || path.starts_with("/var/lib/dpkg/info/postmulti-rs.")
            || [POSTMULTI_DIVERTED, PAGE_DIVERTED, GENERATOR_DIVERTED]
                .iter()
                // /lib is /usr/lib (merged /usr): find sees the latter.
                .any(|d| *path == *d || *path == format!("/usr{d}"));
        assert!(!ours, "left after the purge: {path}");
    }
    for path in &contents {
        assert_eq!(
            purged.contains(path),
            paths_before.contains(path),
            "{path} after the purge"
        );
    }

    // The README's way: apt brings Postfix along, apt-get purge undoes it.
    found.succeeded("purge-postfix");
    let apt = found.succeeded("apt-install");
    assert!(apt.contains("Setting up postfix ("), "{apt}");
    assert!(apt.contains("Setting up postmulti-rs ("), "{apt}");
    assert_eq!(found.our_diversions("diversions-apt"), diversions);
    assert_eq!(found.succeeded("version-apt"), version);
    // (What postfix's purge leaves of the configuration is its own
    // affair: sid's keeps /etc/postfix/main.cf, Debian 12's does not.)
    let listed = found.succeeded("list-apt");
    assert!(
        listed.starts_with("-               -               y         /etc/postfix\n"),
        "{listed}"
    );
    found.succeeded("apt-purge");
    assert_eq!(
        found.our_diversions("diversions-apt-purged"),
        Vec::<String>::new()
    );
    assert_eq!(found.md5s("apt-purged"), before, "apt-get purge");
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for installation in common::installations()
        .into_iter()
        .filter(|i| ON.contains(i))
    {
        let root = if args.list {
            None
        } else {
            common::prepare("package", installation).map(Arc::new)
        };
        let skipped = root.is_none() && !args.list;
        trials.push(
            Trial::test(format!("{installation}::package"), move || {
                let Some(root) = root else {
                    return Err("this machine cannot run the harness (see above)".into());
                };
                let deb = deb().map_err(Failed::from)?;
                package(&root, &deb);
                Ok(())
            })
            .with_kind("root")
            .with_ignored_flag(skipped),
        );
    }
    libtest_mimic::run(&args, trials).exit();
}
