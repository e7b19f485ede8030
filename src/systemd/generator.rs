//! `postmulti --systemd-generator NORMAL_DIR [EARLY_DIR LATE_DIR]`: a
//! systemd generator (systemd.generator(7)) that makes boot start what
//! `postfix start` through postmulti would: every enabled secondary
//! instance, none that is disabled, in the order of the primary's
//! `multi_instance_directories`.
//!
//! It reads files only — the primary `/etc/postfix/main.cf`, each listed
//! instance's `main.cf`, the distribution's `postfix@.service` — with our
//! own main.cf reader, and runs no program (systemd runs generators very
//! early, and a generator must not wait for anything).
//!
//! Which unit runs an instance:
//! - `postfix@INST.service`, the distribution's, for `/etc/postfix-INST`
//!   where that unit runs the instance of that directory (Debian 13 and
//!   later: `MAIL_CONFIG=/etc/postfix-%I`).  INST is what Debian's own
//!   `postfix start` redirection uses: the `systemd-escape -p` of the
//!   directory less `etc-postfix\x2d`.
//! - `postmulti@<systemd-escape -p DIR>.service`, ours (systemd/ in the
//!   repository), for every other instance, and for every instance where
//!   the distribution's unit selects instances by name (Debian 12:
//!   `postmulti -i %i -p start`, which cannot start a nameless instance).
//!   On Debian 12 the primary is `postfix@-.service` (its `postfix.service`
//!   starts nothing), wanted first when the primary is enabled; ours get
//!   Debian 12's `configure-instance.sh` step, given the directory.
//!
//! What it writes, into NORMAL_DIR only:
//! - `<unit>.d/50-postmulti.conf` for each instance after the first:
//!   `After=` the one before it in the list (each unit is already
//!   `Before=postfix.service`), so sinks listed first start first;
//! - `postfix.service.d/50-postmulti.conf`: `Wants=` every instance unit,
//!   in list order.  This one file is the commit: it is renamed into
//!   place last, and without it the ordering drop-ins pull nothing in.
//!
//! Everything is made in a hidden temporary directory inside NORMAL_DIR
//! (systemd ignores hidden names; same file system, so renames are
//! atomic) and renamed into place; a failure removes what was placed.
//! Nothing stops the boot: a broken main.cf is reported on stderr (the
//! journal) and that instance skipped; the exit status is always 0.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::escape::{escape_path, is_normalized_absolute};
use crate::instance::{Claims, Instance};
use crate::maincf::defaults::{self, CONFIG_DIRECTORY};
use crate::maincf::{MainCf, expand, parse_bool, split_list};
use crate::msg;

/// The drop-in file name used for every unit.
pub const DROP_IN: &str = "50-postmulti.conf";
/// Our template unit (the repository's `systemd/postmulti@.service`).
pub const TEMPLATE: &str = "postmulti@";
/// Debian 12's generator, which ours replaces (it must be masked).
pub const DEBIAN_GENERATOR: &str = "postfix-instance-generator";
/// Longest valid unit name (systemd's limit, 256 with the final NUL).
const UNIT_NAME_MAX: usize = 255;
/// Where the distribution's units are (both, for roots without merged /usr).
const UNIT_DIRECTORIES: [&str; 2] = ["usr/lib/systemd/system", "lib/systemd/system"];
/// Generator directories that override the distribution's, by name.
const GENERATOR_OVERRIDES: [&str; 3] = [
    "run/systemd/system-generators",
    "etc/systemd/system-generators",
    "usr/local/lib/systemd/system-generators",
];
const GENERATOR_DIRECTORIES: [&str; 2] = [
    "usr/lib/systemd/system-generators",
    "lib/systemd/system-generators",
];

/// `postmulti --systemd-generator NORMAL_DIR [EARLY_DIR LATE_DIR]`, with
/// `args` the operands after the option.  Writes into NORMAL_DIR only;
/// reports on stderr; returns the exit status, always 0.
pub fn run(args: &[OsString]) -> u8 {
    let mut stderr = std::io::stderr().lock();
    let normal = match args {
        [normal] | [normal, _, _] => PathBuf::from(normal),
        _ => {
            let _ = stderr.write_all(
                b"postmulti: usage: postmulti --systemd-generator NORMAL_DIR [EARLY_DIR LATE_DIR]\n",
            );
            return 0;
        }
    };
    // systemd says so in the initrd, where there is no Postfix to start.
    if std::env::var_os("SYSTEMD_IN_INITRD").is_some_and(|v| v == "1") {
        return 0;
    }
    for line in generate(Path::new("/"), &normal) {
        let _ = stderr.write_all(&msg!(b"postmulti: warning: ", line, b"\n"));
    }
    0
}

/// Generates for the system under `root` (`/` at boot; every path the
/// configuration names is read under it) into `normal`; the messages to
/// report, one line each.
pub fn generate(root: &Path, normal: &Path) -> Vec<Vec<u8>> {
    let mut output = plan(root);
    if let Err(message) = install(normal, &output.files) {
        output.messages.push(message);
    }
    output.messages
}

/// What the generator decided: files (paths relative to NORMAL_DIR, in
/// the order they are placed) and messages.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Output {
    pub files: Vec<(PathBuf, Vec<u8>)>,
    pub messages: Vec<Vec<u8>>,
}

/// The distribution's `postfix@.service`, by what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Runs the instance in `/etc/postfix-%I` (Debian 13, sid).
    PerDirectory,
    /// Runs `postmulti -i %i -p start` (Debian 12); `configure_instance`:
    /// it first runs `/usr/lib/postfix/configure-instance.sh %i`.
    ByName { configure_instance: bool },
    /// None, or one we do not recognise: our units for every instance.
    Unknown,
}

/// One instance unit to start, in list order.
struct Unit {
    name: Vec<u8>,
    /// The configuration directory (None: Debian 12's primary).
    dir: Option<Vec<u8>>,
    ours: bool,
}

/// Decides what to generate for the system under `root`; reads files only.
pub fn plan(root: &Path) -> Output {
    let mut out = Output::default();
    if let Some(generator) = active_debian_generator(root) {
        out.messages.push(msg!(
            generator,
            b" also runs and would start every instance a second way; nothing generated: mask it with `ln -s /dev/null /etc/systemd/system-generators/",
            DEBIAN_GENERATOR,
            b"`"
        ));
        return out;
    }
    let flavour = flavour(root);
    let primary_dir = CONFIG_DIRECTORY;
    let primary = match read_main_cf(root, primary_dir) {
        Ok(cf) => cf,
        Err(Missing::NotThere) => return out,
        Err(Missing::Broken(why)) => {
            out.messages
                .push(msg!(why, b"; no instance started by postmulti's generator"));
            return out;
        }
    };
    let evaluated = (|| {
        let dirs = value(&primary, primary_dir, "multi_instance_directories")?;
        let enable = boolean(&primary, primary_dir, "multi_instance_enable")?;
        let queue = value(&primary, primary_dir, "queue_directory")?;
        let data = value(&primary, primary_dir, "data_directory")?;
        Ok::<_, Vec<u8>>((dirs, enable, queue, data))
    })();
    let (dirs, primary_enabled, queue, data) = match evaluated {
        Ok(values) => values,
        Err(why) => {
            out.messages
                .push(msg!(why, b"; no instance started by postmulti's generator"));
            return out;
        }
    };
    let dirs: Vec<&[u8]> = split_list(&dirs).collect();

    let mut units = Vec::new();
    if flavour == Flavour::PerDirectory && !primary_enabled && !dirs.is_empty() {
        out.messages.push(
            b"the primary instance is disabled (multi_instance_enable = no) but the distribution's postfix.service starts it at boot"
                .to_vec(),
        );
    }
    if matches!(flavour, Flavour::ByName { .. }) && (primary_enabled || dirs.is_empty()) {
        units.push(Unit {
            name: b"postfix@-.service".to_vec(),
            dir: None,
            ours: false,
        });
    }
    let mut claims = Claims::default();
    let primary_name = value(&primary, primary_dir, "multi_instance_name").unwrap_or_default();
    let _ = claim(&mut claims, primary_dir, &primary_name, &queue, &data);
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut disabled = Vec::new();
    for dir in dirs {
        if seen.contains(&dir) {
            continue; // listed twice: postmulti's list has it twice, boot starts it once
        }
        seen.push(dir);
        if dir == primary_dir {
            out.messages.push(msg!(
                b"multi_instance_directories lists ",
                dir,
                b", the primary instance's own directory: ignored"
            ));
            continue;
        }
        match secondary(root, dir, flavour, &mut claims) {
            Ok(Some(unit)) => units.push(unit),
            Ok(None) => disabled.push(dir.to_vec()),
            Err(why) => out
                .messages
                .push(msg!(why, b"; instance ", dir, b" not started at boot")),
        }
    }
    out.messages
        .extend(conflicting_enablements(root, flavour, &units, &disabled));
    out.files = render(&units, flavour);
    out
}

/// The secondary in `dir`: its unit if enabled, None if disabled.
fn secondary(
    root: &Path,
    dir: &[u8],
    flavour: Flavour,
    claims: &mut Claims,
) -> Result<Option<Unit>, Vec<u8>> {
    if !is_normalized_absolute(dir) {
        let shown = escape_path(dir).map(|e| super::escape::unescape_path(&e));
        return Err(match shown {
            Some(normal) if dir.first() == Some(&b'/') => msg!(
                b"multi_instance_directories: ",
                dir,
                b" is not a normalised path (systemd would make it ",
                normal,
                b")"
            ),
            _ => msg!(
                b"multi_instance_directories: ",
                dir,
                b" is not a normalised absolute path"
            ),
        });
    }
    if dir.contains(&b'$') {
        return Err(msg!(
            b"multi_instance_directories: ",
            dir,
            b": a unit cannot name a directory with '$'"
        ));
    }
    let cf = match read_main_cf(root, dir) {
        Ok(cf) => cf,
        Err(Missing::NotThere) => {
            return Err(msg!(b"no ", dir, b"/main.cf"));
        }
        Err(Missing::Broken(why)) => return Err(why),
    };
    let enabled = boolean(&cf, dir, "multi_instance_enable")?;
    let queue = value(&cf, dir, "queue_directory")?;
    let data = value(&cf, dir, "data_directory")?;
    let instance_name = value(&cf, dir, "multi_instance_name")?;
    claim(claims, dir, &instance_name, &queue, &data)?;
    if !enabled {
        return Ok(None);
    }
    let name = unit_name(dir, flavour).unwrap_or_default();
    let ours = name.starts_with(TEMPLATE.as_bytes());
    if name.len() > UNIT_NAME_MAX {
        return Err(msg!(
            b"the unit name for ",
            dir,
            b" would be longer than systemd allows"
        ));
    }
    Ok(Some(Unit {
        name,
        dir: Some(dir.to_vec()),
        ours,
    }))
}

/// The instance string of Debian's `postfix@.service` for `/etc/postfix-INST`.
pub fn debian_instance(dir: &[u8]) -> Option<Vec<u8>> {
    if !is_normalized_absolute(dir) || !dir.starts_with(b"/etc/postfix-") {
        return None;
    }
    let escaped = escape_path(dir)?;
    let instance = escaped.strip_prefix(b"etc-postfix\\x2d")?;
    (!instance.is_empty()).then(|| instance.to_vec())
}

/// The unit that runs the secondary instance in `dir`, given the
/// distribution's flavour of `postfix@.service`.
pub fn unit_name(dir: &[u8], flavour: Flavour) -> Option<Vec<u8>> {
    match debian_instance(dir) {
        Some(instance) if flavour == Flavour::PerDirectory => {
            Some(msg!(b"postfix@", instance, b".service"))
        }
        _ => escape_path(dir).map(|e| msg!(TEMPLATE, e, b".service")),
    }
}

/// Claims the instance's name, configuration, queue and data directory
/// as postmulti does (no two instances may share one); the text of
/// postmulti's refusal otherwise.
fn claim(
    claims: &mut Claims,
    dir: &[u8],
    name: &[u8],
    queue: &[u8],
    data: &[u8],
) -> Result<(), Vec<u8>> {
    let instance = Instance {
        config_dir: dir.to_vec(),
        queue_dir: queue.to_vec(),
        data_dir: data.to_vec(),
        name: (!name.is_empty()).then(|| name.to_vec()),
        group: None,
        enabled: false,
        primary: dir == CONFIG_DIRECTORY,
    };
    claims
        .claim_instance(&instance)
        .map_err(|e| e.fatal_text().unwrap_or_default())
}

enum Missing {
    NotThere,
    Broken(Vec<u8>),
}

/// `<dir>/main.cf` under `root`, parsed as Postfix does (warnings dropped).
fn read_main_cf(root: &Path, dir: &[u8]) -> Result<MainCf, Missing> {
    let shown = msg!(dir, b"/main.cf");
    let content = match fs::read(under(root, &shown)) {
        Ok(content) => content,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Missing::NotThere),
        Err(e) => {
            return Err(Missing::Broken(msg!(
                b"read ",
                shown,
                b": ",
                crate::error::strerror(&e)
            )));
        }
    };
    let seed: [(&[u8], &[u8]); 1] = [(b"config_directory", dir)];
    MainCf::parse(
        &content,
        Path::new(OsStr::from_bytes(&shown)),
        &seed,
        &mut |_| {},
    )
    .map_err(|e| Missing::Broken(e.0))
}

/// `name`'s value in `cf` (of the instance in `dir`), `$name` expanded
/// with the built-in defaults; undefined names expand to nothing.
fn value(cf: &MainCf, dir: &[u8], name: &str) -> Result<Vec<u8>, Vec<u8>> {
    let raw = defaults::setting(cf, name.as_bytes()).unwrap_or_default();
    let mut lookup = |n: &[u8]| defaults::setting(cf, n).map(<[u8]>::to_vec);
    match expand::expand(raw, &mut lookup, true) {
        Ok(expanded) => Ok(expanded.value),
        Err(e) => {
            let mut text = msg!(dir, b"/main.cf: ", name, b": cannot expand");
            for warning in e.warnings {
                text.extend_from_slice(b": ");
                text.extend_from_slice(&warning);
            }
            Err(text)
        }
    }
}

fn boolean(cf: &MainCf, dir: &[u8], name: &str) -> Result<bool, Vec<u8>> {
    let text = value(cf, dir, name)?;
    parse_bool(&text).ok_or_else(|| msg!(dir, b"/main.cf: bad boolean ", name, b" = ", text))
}

/// `path` (absolute, or relative to `root`) under `root`.
fn under(root: &Path, path: &[u8]) -> PathBuf {
    let relative = path.strip_prefix(b"/").unwrap_or(path);
    root.join(OsStr::from_bytes(relative))
}

/// What the distribution's `postfix@.service` does (an administrator's
/// copy in /etc counts; a masked one is none).
pub fn flavour(root: &Path) -> Flavour {
    let mut candidates = vec![root.join("etc/systemd/system/postfix@.service")];
    candidates.extend(
        UNIT_DIRECTORIES
            .iter()
            .map(|d| root.join(d).join("postfix@.service")),
    );
    for path in candidates {
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink()
            && fs::read_link(&path).is_ok_and(|target| target == Path::new("/dev/null"))
        {
            return Flavour::Unknown;
        }
        let Ok(text) = fs::read(&path) else {
            continue;
        };
        return classify(&text);
    }
    Flavour::Unknown
}

/// Classifies the text of a `postfix@.service`.
pub fn classify(unit: &[u8]) -> Flavour {
    let lines: Vec<&[u8]> = unit
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .filter(|l| !l.starts_with(b"#") && !l.starts_with(b";"))
        .collect();
    let has = |wanted: &[u8]| lines.contains(&wanted);
    let has_exec = |key: &[u8], wanted: &[u8]| {
        lines.iter().any(|l| {
            l.strip_prefix(key)
                .is_some_and(|rest| rest.windows(wanted.len()).any(|w| w == wanted))
        })
    };
    if has(b"Environment=MAIL_CONFIG=/etc/postfix-%I") {
        Flavour::PerDirectory
    } else if has_exec(b"ExecStart=", b"postmulti -i %i -p start") {
        Flavour::ByName {
            configure_instance: has(b"ExecStartPre=/usr/lib/postfix/configure-instance.sh %i"),
        }
    } else {
        Flavour::Unknown
    }
}

/// Debian 12's generator, if it would run at boot (not overridden by a
/// file of the same name in a directory systemd prefers).
fn active_debian_generator(root: &Path) -> Option<Vec<u8>> {
    let overridden = GENERATOR_OVERRIDES
        .iter()
        .any(|d| fs::symlink_metadata(root.join(d).join(DEBIAN_GENERATOR)).is_ok());
    if overridden {
        return None;
    }
    GENERATOR_DIRECTORIES.iter().find_map(|d| {
        let path = root.join(d).join(DEBIAN_GENERATOR);
        fs::metadata(&path)
            .is_ok()
            .then(|| msg!(b"/", d.as_bytes(), b"/", DEBIAN_GENERATOR))
    })
}

/// Instances that `systemctl enable` makes boot start against postmulti's
/// word: on Debian 13 and later a `postfix@INST.service` enabled for a
/// disabled instance; on Debian 12 any `postfix@NAME.service` but the
/// primary's (ours start those instances already).
fn conflicting_enablements(
    root: &Path,
    flavour: Flavour,
    units: &[Unit],
    disabled: &[Vec<u8>],
) -> Vec<Vec<u8>> {
    let wants = root.join("etc/systemd/system/multi-user.target.wants");
    let Ok(entries) = fs::read_dir(&wants) else {
        return Vec::new();
    };
    let mut names: Vec<Vec<u8>> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().as_bytes().to_vec())
        .filter(|n| n.starts_with(b"postfix@") && n.ends_with(b".service"))
        .collect();
    names.sort();
    let mut messages = Vec::new();
    for name in names {
        let complaint: Option<&[u8]> = match flavour {
            Flavour::PerDirectory => disabled
                .iter()
                .any(|dir| unit_name(dir, flavour).as_deref() == Some(name.as_slice()))
                .then_some(b"its instance is disabled (multi_instance_enable = no) but it still starts at boot"),
            Flavour::ByName { .. } if name != b"postfix@-.service" => {
                let ours = units.iter().any(|u| u.ours);
                ours.then_some(b"it starts an instance by name through postmulti, beside the units of postmulti's generator")
            }
            _ => None,
        };
        if let Some(complaint) = complaint {
            messages.push(msg!(
                name,
                b" is enabled in /etc/systemd/system/multi-user.target.wants: ",
                complaint,
                b"; systemctl disable ",
                name
            ));
        }
    }
    messages
}

/// The drop-ins for `units`, in the order they are placed: the ordering
/// ones first, `postfix.service`'s `Wants=` last.
fn render(units: &[Unit], flavour: Flavour) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    if units.is_empty() {
        return files;
    }
    let configure_instance = matches!(
        flavour,
        Flavour::ByName {
            configure_instance: true
        }
    );
    for (i, unit) in units.iter().enumerate() {
        let previous = i.checked_sub(1).map(|p| &units[p]);
        let hook = unit.ours && configure_instance;
        if previous.is_none() && !hook {
            continue;
        }
        let what = describe(unit);
        let mut text = msg!(
            b"# Made by postmulti --systemd-generator: ",
            what,
            format!(", instance {} of {} to start.\n", i + 1, units.len())
        );
        if let Some(previous) = previous {
            text.extend_from_slice(&msg!(
                b"# Started after ",
                describe(previous),
                b", listed before it.\n[Unit]\nAfter=",
                previous.name,
                b"\n"
            ));
        }
        if hook {
            text.extend_from_slice(
                b"# As Debian 12's postfix@.service does before it starts an instance.\n\
                  [Service]\nExecStartPre=+/usr/lib/postfix/configure-instance.sh %f\n",
            );
        }
        files.push((drop_in(&unit.name), text));
    }
    let mut wants = b"# Made by postmulti --systemd-generator: the enabled instances of\n\
                      # /etc/postfix/main.cf's multi_instance_directories, in list order.\n\
                      [Unit]\n"
        .to_vec();
    for unit in units {
        wants.extend_from_slice(&msg!(b"Wants=", unit.name, b"\n"));
    }
    files.push((drop_in(b"postfix.service"), wants));
    files
}

fn describe(unit: &Unit) -> Vec<u8> {
    match &unit.dir {
        Some(dir) => dir.clone(),
        None => b"the primary instance".to_vec(),
    }
}

fn drop_in(unit: &[u8]) -> PathBuf {
    let mut dir = unit.to_vec();
    dir.extend_from_slice(b".d");
    Path::new(OsStr::from_bytes(&dir)).join(DROP_IN)
}

/// Something placed in NORMAL_DIR, to remove if a later step fails.
enum Placed {
    Directory(PathBuf),
    File(PathBuf),
}

/// Writes `files` (each `<dir>/<file>`) into `normal`: all of them in a
/// hidden temporary directory there, then each directory renamed into
/// place (or, where a directory of that name exists, the file into it),
/// in order.  On failure, what was placed is removed again.
pub fn install(normal: &Path, files: &[(PathBuf, Vec<u8>)]) -> Result<(), Vec<u8>> {
    if files.is_empty() {
        return Ok(());
    }
    let fail = |doing: &str, path: &Path, e: std::io::Error| {
        msg!(
            doing,
            b" ",
            path.as_os_str().as_bytes(),
            b": ",
            crate::error::strerror(&e),
            b"; nothing generated"
        )
    };
    if !normal.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(normal)
            .map_err(|e| fail("mkdir", normal, e))?;
    }
    let scratch = tempfile::Builder::new()
        .prefix(".postmulti-generator.")
        .tempdir_in(normal)
        .map_err(|e| fail("make a temporary directory in", normal, e))?;
    for (path, content) in files {
        let full = scratch.path().join(path);
        if let Some(parent) = full.parent()
            && !parent.exists()
        {
            fs::DirBuilder::new()
                .mode(0o755)
                .create(parent)
                .map_err(|e| fail("mkdir", parent, e))?;
        }
        fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&full)
            .and_then(|mut f| f.write_all(content))
            .map_err(|e| fail("write", &full, e))?;
    }
    let mut placed: Vec<Placed> = Vec::new();
    let result = (|| {
        for (path, _) in files {
            let Some(dir) = path.parent() else { continue };
            let (from_dir, to_dir) = (scratch.path().join(dir), normal.join(dir));
            if !from_dir.exists() {
                continue; // placed with an earlier file of the same directory
            }
            match fs::rename(&from_dir, &to_dir) {
                Ok(()) => placed.push(Placed::Directory(to_dir)),
                Err(e) if to_dir.is_dir() && e.raw_os_error() != Some(libc::EXDEV) => {
                    for entry in fs::read_dir(&from_dir).map_err(|e| fail("read", &from_dir, e))? {
                        let entry = entry.map_err(|e| fail("read", &from_dir, e))?;
                        let target = to_dir.join(entry.file_name());
                        fs::rename(entry.path(), &target)
                            .map_err(|e| fail("rename into", &to_dir, e))?;
                        placed.push(Placed::File(target));
                    }
                }
                Err(e) => return Err(fail("rename into", &to_dir, e)),
            }
        }
        Ok(())
    })();
    if result.is_err() {
        for thing in placed.iter().rev() {
            let _ = match thing {
                Placed::Directory(d) => fs::remove_dir_all(d),
                Placed::File(f) => fs::remove_file(f),
            };
        }
    }
    result
}

#[cfg(test)]
mod tests;
