//! The installed Postfix, as postmulti needs to know it before it can
//! evaluate main.cf: the defaults of the parameters that depend on how
//! Postfix was built and installed (directories, users, paths,
//! `mail_version`, whether SMTPUTF8 is on by default), and the names of
//! the parameters its postconf accepts without a word.
//!
//! They are what the installed `postconf -d` prints, asked once and kept
//! in a cache file, `/var/cache/postmulti/installation`, together with
//! the identity (device, inode, size, modification and change times) of
//! the postconf binary they came from.  Any upgrade of Postfix replaces
//! that binary, so the next run sees another identity and asks again; in
//! the steady state a run costs one stat and one small read, no process.
//! Only root writes the cache; others read it, or ask `postconf -d` each
//! time (and, not knowing the quiet names, read every secondary through
//! postconf, as the real postmulti does).
//!
//! A packager may pin values at build time (`POSTMULTI_DEFAULT_<NAME>`);
//! they are a hint, used only when there is no postconf to ask, and then
//! only the directories that exist.  Without either, upstream's defaults
//! stand.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::maincf::defaults::{self, INSTALLATION_PARAMETERS};
use crate::maincf::edit::Dialect;
use crate::maincf::fnv::FnvHashSet;
use crate::maincf::{self, MainCf, Syntax, path, split_list, split_name_value};
use crate::msg;

/// Where the answers of the installed postconf are kept.
const CACHE_DIRECTORY: &str = "/var/cache/postmulti";
const CACHE_FILE: &str = "/var/cache/postmulti/installation";
/// The first line of a cache file in this format.
const CACHE_MAGIC: &str = "postmulti installation cache 4";
/// The cache's last line: the quiet parameter names, most of its bytes,
/// taken whole without being scanned (the iterator path never needs them).
const QUIET_NAMES_LINE: &[u8] = b"quiet_parameter_names = ";

/// A message only a Postfix built with MYORIGIN_FROM_FILE (Debian's
/// build) has: such a Postfix reads `myorigin = /path` from the file.
const MYORIGIN_FROM_FILE_MARK: &[u8] = b"%s file %s is empty";

/// Build-time hints, one per installation parameter (`None`: not pinned).
const HINTS: [Option<&str>; 17] = [
    option_env!("POSTMULTI_DEFAULT_COMMAND_DIRECTORY"),
    option_env!("POSTMULTI_DEFAULT_DAEMON_DIRECTORY"),
    option_env!("POSTMULTI_DEFAULT_META_DIRECTORY"),
    option_env!("POSTMULTI_DEFAULT_SHLIB_DIRECTORY"),
    option_env!("POSTMULTI_DEFAULT_QUEUE_DIRECTORY"),
    option_env!("POSTMULTI_DEFAULT_DATA_DIRECTORY"),
    option_env!("POSTMULTI_DEFAULT_HTML_DIRECTORY"),
    option_env!("POSTMULTI_DEFAULT_MANPAGE_DIRECTORY"),
    option_env!("POSTMULTI_DEFAULT_README_DIRECTORY"),
    option_env!("POSTMULTI_DEFAULT_SAMPLE_DIRECTORY"),
    option_env!("POSTMULTI_DEFAULT_MAIL_OWNER"),
    option_env!("POSTMULTI_DEFAULT_SETGID_GROUP"),
    option_env!("POSTMULTI_DEFAULT_SENDMAIL_PATH"),
    option_env!("POSTMULTI_DEFAULT_MAILQ_PATH"),
    option_env!("POSTMULTI_DEFAULT_NEWALIASES_PATH"),
    option_env!("POSTMULTI_DEFAULT_MAIL_VERSION"),
    option_env!("POSTMULTI_DEFAULT_SMTPUTF8_ENABLE"),
];

/// Where the installation's defaults came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The cache, made from this very postconf binary.
    Cache,
    /// The installed postconf, asked now.
    Postconf,
    /// No postconf could be asked: the build-time hints that checked out,
    /// else upstream's defaults.
    Assumed,
}

/// What we know of the installed Postfix.
pub struct Installation {
    pub source: Source,
    /// Defaults of [`defaults::installed_names`]: every installation
    /// parameter, and the table parameters the postconf knows.
    values: Vec<(&'static str, Vec<u8>)>,
    /// Whether its library reads a `myorigin` that is a path from that
    /// file (Debian's build does).
    myorigin_from_file: bool,
    /// The lookup table types it supports (`postconf -m`), space-separated;
    /// `None` when not known.
    dictionary_types: Option<Vec<u8>>,
    /// The parameter names postconf knows; `None` when not known.
    names: Option<ParameterNames>,
}

/// Every parameter name postconf knows, in two space-separated lists as
/// read: those a main.cf may set without a word, and those whose
/// assignment draws a warning (read-only and deprecated parameters),
/// which a value may still refer to quietly.
struct ParameterNames {
    quiet: Vec<u8>,
    noisy: Vec<u8>,
    quiet_set: OnceLock<FnvHashSet<Vec<u8>>>,
    noisy_set: OnceLock<FnvHashSet<Vec<u8>>>,
}

impl ParameterNames {
    fn new(quiet: Vec<u8>, noisy: Vec<u8>) -> ParameterNames {
        ParameterNames {
            quiet,
            noisy,
            quiet_set: OnceLock::new(),
            noisy_set: OnceLock::new(),
        }
    }
}

fn name_set<'a>(cell: &'a OnceLock<FnvHashSet<Vec<u8>>>, names: &[u8]) -> &'a FnvHashSet<Vec<u8>> {
    cell.get_or_init(|| split_list(names).map(<[u8]>::to_vec).collect())
}

static CURRENT: OnceLock<Installation> = OnceLock::new();

/// The installed Postfix, once [`discover`] ran.
pub fn current() -> Option<&'static Installation> {
    CURRENT.get()
}

/// Whether the installed Postfix reads an absolute `myorigin` from the
/// file it names.
pub fn myorigin_from_file() -> bool {
    current().is_some_and(|i| i.myorigin_from_file)
}

/// Whether the installed Postfix supports lookup tables of type `kind`;
/// `None` when that is not known.
pub fn supports_dictionary_type(kind: &[u8]) -> Option<bool> {
    let types = current()?.dictionary_types.as_ref()?;
    Some(split_list(types).any(|t| t == kind))
}

/// How the installed postconf edits main.cf (Postfix 3.11's way if the
/// release is not known).
pub fn postconf_dialect() -> Dialect {
    current()
        .and_then(Installation::release)
        .map_or(Dialect::CURRENT, |r| r.postconf_dialect())
}

/// Whether discovering the installation may write its cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheWrites {
    /// Root keeps what postconf said.
    Allowed,
    /// `--dry-run`: no file is written.
    Forbidden,
}

/// Finds out what the installed Postfix is (see the module header) and
/// makes its defaults the built-in ones.  `primary` is the primary
/// main.cf: it may say where postconf is.
pub fn discover(primary: &MainCf, cache: CacheWrites) -> &'static Installation {
    CURRENT.get_or_init(|| {
        let installation = find_out(&postconf_path(primary), cache);
        defaults::set_installed(installation.values.clone());
        if let Some(release) = installation.release() {
            maincf::set_installed_syntax(Syntax::of_release(release.major, release.minor));
        }
        installation
    })
}

/// `<command_directory>/postconf`: main.cf's `command_directory` if it
/// sets a literal one holding a postconf, else the pinned or upstream
/// default.
fn postconf_path(primary: &MainCf) -> PathBuf {
    let default = HINTS[0].unwrap_or(INSTALLATION_PARAMETERS[0].1).as_bytes();
    let configured = match primary.get(b"command_directory") {
        Some(dir) if !dir.contains(&b'$') && dir.first() == Some(&b'/') => Some(dir),
        _ => None,
    };
    let postconf_in = |dir: &[u8]| path(&msg!(dir, b"/postconf"));
    configured
        .map(postconf_in)
        .filter(|p| p.is_file())
        .unwrap_or_else(|| postconf_in(default))
}

fn find_out(postconf: &Path, cache: CacheWrites) -> Installation {
    let Ok(binary) = fs::metadata(postconf) else {
        return assumed();
    };
    let identity = identity(postconf, &binary);
    if let Some(cached) = read_cache(&identity) {
        return cached;
    }
    // Only root keeps the answers; others need not learn the quiet names
    // (they go to postconf for every secondary, as the real postmulti).
    let root = nix::unistd::geteuid().is_root();
    match ask_postconf(postconf, root) {
        Some(asked) => {
            if root && cache == CacheWrites::Allowed {
                write_cache(&identity, &asked);
            }
            asked
        }
        None => assumed(),
    }
}

/// What identifies the postconf binary the answers came from.
fn identity(postconf: &Path, meta: &fs::Metadata) -> String {
    format!(
        "postconf {} dev={} ino={} size={} mtime={}.{} ctime={}.{}",
        postconf.display(),
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec()
    )
}

/// Hinted values whose directories exist (the others are not trusted),
/// upstream's defaults for the rest.
fn assumed() -> Installation {
    let values = INSTALLATION_PARAMETERS
        .iter()
        .zip(HINTS)
        .map(|(&(name, upstream), hint)| {
            let usable = hint.filter(|h| !name.ends_with("_directory") || Path::new(h).is_dir());
            (name, usable.unwrap_or(upstream).as_bytes().to_vec())
        })
        // An unknown release is no release: the tables' default stands.
        .filter(|(name, value)| *name != "mail_version" || !value.is_empty())
        .collect();
    Installation {
        source: Source::Assumed,
        values,
        myorigin_from_file: false,
        dictionary_types: None,
        names: None,
    }
}

/// A Postfix release, from `mail_version` (`major.minor.patch`; a
/// snapshot such as `3.12-20260506` is none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Release {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl Release {
    pub fn parse(version: &[u8]) -> Option<Release> {
        let text = std::str::from_utf8(version).ok()?;
        let mut parts = text.split('.').map(|p| {
            (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse::<u64>().ok())
                .flatten()
        });
        let release = Release {
            major: parts.next()??,
            minor: parts.next()??,
            patch: parts.next()??,
        };
        parts.next().is_none().then_some(release)
    }

    /// How its postconf edits main.cf.
    pub fn postconf_dialect(&self) -> Dialect {
        Dialect::of_release(self.major, self.minor, self.patch)
    }

    /// Whether postlog(1), and with it the Postfix scripts, writes to a
    /// stderr that is not a terminal (3.8 and later).
    pub fn postlog_writes_off_terminal(&self) -> bool {
        (self.major, self.minor) >= (3, 8)
    }

    /// The compatibility level below which postfix(1) says "Postfix is
    /// using backwards-compatible default settings": its LAST_COMPAT_LEVEL.
    pub fn last_compatibility_level(&self) -> (u64, u64, u64) {
        if (self.major, self.minor) >= (3, 11) {
            (3, 11, 0)
        } else {
            (3, 6, 0)
        }
    }
}

impl std::fmt::Display for Release {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Installation {
    /// The installed release, if `mail_version` names one.
    pub fn release(&self) -> Option<Release> {
        let (_, version) = self.values.iter().find(|(n, _)| *n == "mail_version")?;
        Release::parse(version)
    }

    /// Whether postconf reads a main.cf that sets `name` without a word;
    /// `None` if we do not know which names those are.
    pub fn accepts_quietly(&self, name: &[u8]) -> Option<bool> {
        let names = self.names.as_ref()?;
        Some(name_set(&names.quiet_set, &names.quiet).contains(name))
    }

    /// Whether postconf knows `name` at all, so that a `$name` in a value
    /// draws no "undefined parameter" warning; `None` if not known.
    pub fn knows(&self, name: &[u8]) -> Option<bool> {
        let names = self.names.as_ref()?;
        Some(
            name_set(&names.quiet_set, &names.quiet).contains(name)
                || name_set(&names.noisy_set, &names.noisy).contains(name),
        )
    }
}

/// The cache, if it was made from the postconf with this identity, and
/// can be trusted: a regular file owned by root (or by us), in a directory
/// owned likewise, neither writable by others.
fn read_cache(identity: &str) -> Option<Installation> {
    let trusted = |meta: &fs::Metadata| {
        let owner = meta.uid();
        (owner == 0 || owner == nix::unistd::geteuid().as_raw()) && meta.mode() & 0o022 == 0
    };
    if !trusted(&fs::metadata(CACHE_DIRECTORY).ok()?) {
        return None;
    }
    let mut file = fs::File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(CACHE_FILE)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || !trusted(&meta) {
        return None;
    }
    let text = maincf::regular::read_sized(&mut file, meta.len()).ok()?;
    parse_cache(&text, identity)
}

fn parse_cache(text: &[u8], identity: &str) -> Option<Installation> {
    let header = msg!(CACHE_MAGIC, b"\n", identity, b"\n");
    let mut rest = text.strip_prefix(header.as_slice())?;
    let mut values = Vec::new();
    let mut quiet_names = None;
    let mut noisy_names = None;
    let mut myorigin_from_file = None;
    let mut dictionary_types = None;
    // The values are in this order (see write_cache).
    let mut expected = defaults::installed_names();
    while !rest.is_empty() {
        if let Some(names) = rest.strip_prefix(QUIET_NAMES_LINE) {
            quiet_names = Some(names.strip_suffix(b"\n")?.to_vec());
            break;
        }
        let end = rest.iter().position(|&b| b == b'\n')?;
        let line = &rest[..end];
        rest = &rest[end + 1..];
        let (name, value) = split_name_value(line).ok()?;
        match name {
            b"noisy_parameter_names" => noisy_names = Some(value.to_vec()),
            b"myorigin_from_file" => myorigin_from_file = crate::maincf::parse_bool(value),
            b"dictionary_types" => dictionary_types = Some(value.to_vec()),
            _ => {
                let known = expected.find(|n| n.as_bytes() == name)?;
                values.push((known, value.to_vec()));
            }
        }
    }
    let complete = INSTALLATION_PARAMETERS
        .iter()
        .all(|(n, _)| values.iter().any(|(v, _)| v == n));
    complete.then_some(Installation {
        source: Source::Cache,
        values,
        myorigin_from_file: myorigin_from_file?,
        dictionary_types,
        names: quiet_names
            .zip(noisy_names)
            .map(|(quiet, noisy)| ParameterNames::new(quiet, noisy)),
    })
}

/// Writes the cache: a temporary file renamed into place, so that a
/// reader sees the old cache or the new one.  Failing is harmless: the
/// next run asks again.
fn write_cache(identity: &str, installation: &Installation) {
    let mut text = format!("{CACHE_MAGIC}\n{identity}\n").into_bytes();
    // In the order of installed_names(), which the reader walks once.
    for name in defaults::installed_names() {
        if let Some((_, value)) = installation.values.iter().find(|(n, _)| *n == name) {
            text.extend_from_slice(&msg!(name, b" = ", value, b"\n"));
        }
    }
    let from_file = if installation.myorigin_from_file {
        "yes"
    } else {
        "no"
    };
    text.extend_from_slice(format!("myorigin_from_file = {from_file}\n").as_bytes());
    if let Some(types) = &installation.dictionary_types {
        text.extend_from_slice(&msg!(b"dictionary_types = ", types, b"\n"));
    }
    if let Some(names) = &installation.names {
        text.extend_from_slice(&msg!(b"noisy_parameter_names = ", &names.noisy, b"\n"));
        text.extend_from_slice(&msg!(QUIET_NAMES_LINE, &names.quiet, b"\n"));
    }
    let _ = fs::DirBuilder::new().mode(0o755).create(CACHE_DIRECTORY);
    let temp = format!("{CACHE_FILE}.{}", std::process::id());
    let written = fs::File::options()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&temp)
        .and_then(|mut f| f.write_all(&text).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&temp, CACHE_FILE));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
}

/// Asks the installed postconf, in a scratch configuration directory so
/// that neither the primary's main.cf nor its master.cf services colour
/// the answer: `postconf -d` for the defaults and every parameter name,
/// then `postconf -n` over a main.cf that sets each of those names, whose
/// warnings tell which names postconf does not accept quietly (read-only
/// and deprecated parameters).
fn ask_postconf(postconf: &Path, probe: bool) -> Option<Installation> {
    let scratch = tempfile::Builder::new()
        .prefix("postmulti-installation.")
        .tempdir()
        .ok()?;
    let dir = scratch.path();
    write_cold(&dir.join("master.cf"), b"")?;
    write_cold(&dir.join("main.cf"), b"")?;
    let defaults = run_postconf(postconf, dir, "-d")?;
    let mut names: Vec<&[u8]> = Vec::new();
    let mut values = Vec::new();
    for line in defaults.stdout.split(|&b| b == b'\n') {
        let Ok((name, value)) = split_name_value(line) else {
            continue;
        };
        names.push(name);
        if let Some(known) = defaults::installed_name(name) {
            values.push((known, value.to_vec()));
        }
    }
    let complete = INSTALLATION_PARAMETERS
        .iter()
        .all(|(n, _)| values.iter().any(|(v, _)| v == n));
    if !complete {
        return None;
    }
    // Before the probe below rewrites the scratch main.cf.
    let dictionary_types = run_postconf(postconf, dir, "-m").map(|types| {
        let names: Vec<&[u8]> = split_list(&types.stdout).collect();
        names.join(&b' ')
    });
    let parameter_names = if probe {
        let every_name: Vec<u8> = names
            .iter()
            .flat_map(|n| n.iter().copied().chain(*b" =\n"))
            .collect();
        write_cold(&dir.join("main.cf"), &every_name)?;
        let warnings = run_postconf(postconf, dir, "-n")?.stderr;
        let noisy = names_in_warnings(&warnings, &names);
        let (noisy, quiet): (Vec<&[u8]>, Vec<&[u8]>) =
            names.iter().copied().partition(|n| noisy.contains(n));
        Some(ParameterNames::new(quiet.join(&b' '), noisy.join(&b' ')))
    } else {
        None
    };
    let myorigin_from_file = reads_myorigin_from_file(postconf, &values);
    Some(Installation {
        source: Source::Postconf,
        values,
        myorigin_from_file,
        dictionary_types,
        names: parameter_names,
    })
}

/// Whether the installed mail library was built with MYORIGIN_FROM_FILE:
/// its message for an empty myorigin file is in the shared library
/// (Debian's build) or, for a static build, in postconf itself.
fn reads_myorigin_from_file(postconf: &Path, values: &[(&str, Vec<u8>)]) -> bool {
    let has_mark = |file: &Path| {
        fs::read(file).is_ok_and(|bytes| {
            bytes
                .windows(MYORIGIN_FROM_FILE_MARK.len())
                .any(|w| w == MYORIGIN_FROM_FILE_MARK)
        })
    };
    let shlib = values
        .iter()
        .find(|(name, _)| *name == "shlib_directory")
        .map(|(_, dir)| path(dir));
    let libraries: Vec<PathBuf> = shlib
        .and_then(|dir| fs::read_dir(dir).ok())
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| {
                    e.file_name()
                        .as_encoded_bytes()
                        .starts_with(b"libpostfix-global.so")
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    if libraries.is_empty() {
        has_mark(postconf)
    } else {
        libraries.iter().any(|library| has_mark(library))
    }
}

/// `postconf -c <dir> <flag>`, its output if it succeeded.
fn run_postconf(postconf: &Path, dir: &Path, flag: &str) -> Option<std::process::Output> {
    let output = Command::new(postconf)
        .arg("-c")
        .arg(dir)
        .arg(flag)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    output.status.success().then_some(output)
}

/// Writes a file with a modification time in the past: Postfix pauses
/// before it reads a main.cf written in the last seconds.
fn write_cold(file: &Path, content: &[u8]) -> Option<()> {
    fs::write(file, content).ok()?;
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    fs::File::options()
        .write(true)
        .open(file)
        .and_then(|f| f.set_modified(past))
        .ok()
}

/// The parameter names postconf's warnings are about.  Warnings it words
/// in a known way name one parameter; any other warning counts against
/// every known name it mentions.  "overriding earlier entry" is about the
/// probe itself (config_directory is set before main.cf is read).
fn names_in_warnings<'a>(stderr: &[u8], names: &[&'a [u8]]) -> HashSet<&'a [u8]> {
    let mut noisy = HashSet::new();
    for line in stderr.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        if position(line, b"overriding earlier entry").is_some() {
            continue;
        }
        let named = after(line, b"support for parameter \"")
            .or_else(|| after(line, b"parameter \""))
            .map(|rest| &rest[..position(rest, b"\"").unwrap_or(rest.len())])
            .or_else(|| {
                after(line, b"parameter assignment: ")
                    .map(|rest| &rest[..position(rest, b"=").unwrap_or(rest.len())])
            });
        match named {
            Some(name) => noisy.extend(names.iter().copied().filter(|n| *n == name)),
            None => {
                let words: HashSet<&[u8]> = line
                    .split(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                    .collect();
                noisy.extend(names.iter().copied().filter(|n| words.contains(n)));
            }
        }
    }
    noisy
}

fn position(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The text after the first `marker` in `line`.
fn after<'a>(line: &'a [u8], marker: &[u8]) -> Option<&'a [u8]> {
    position(line, marker).map(|i| &line[i + marker.len()..])
}

/// Sets the installation for unit tests: Postfix 3.11's parameter names.
#[cfg(test)]
pub fn for_tests() -> &'static Installation {
    CURRENT.get_or_init(|| Installation {
        source: Source::Assumed,
        values: INSTALLATION_PARAMETERS
            .iter()
            .map(|&(n, v)| (n, v.as_bytes().to_vec()))
            .collect(),
        myorigin_from_file: false,
        dictionary_types: None,
        names: Some(ParameterNames::new(
            include_str!("../data/parameters-3.11.txt")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .into_bytes(),
            b"process_id process_name".to_vec(),
        )),
    })
}

/// The fuzzers' random number generator, for the cache parser's fuzz test.
#[cfg(test)]
#[path = "../../tests/fuzzgen/rng.rs"]
mod fuzz_rng;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_name_the_noisy_parameters() {
        let names: Vec<&[u8]> = vec![
            b"process_name",
            b"smtp_use_tls",
            b"smtp_tls_security_level",
            b"config_directory",
            b"odd_one",
        ];
        let stderr = b"/usr/sbin/postconf: warning: /tmp/c/main.cf, line 66: overriding earlier entry: config_directory=/tmp/c\n\
/usr/sbin/postconf: warning: /tmp/c/main.cf: read-only parameter assignment: process_name=\n\
/usr/sbin/postconf: warning: /tmp/c/main.cf: support for parameter \"smtp_use_tls\" will be removed; instead, specify \"smtp_tls_security_level\"\n\
/usr/sbin/postconf: warning: something new about odd_one\n";
        let noisy = names_in_warnings(stderr, &names);
        let mut noisy: Vec<&[u8]> = noisy.into_iter().collect();
        noisy.sort();
        assert_eq!(
            noisy,
            vec![&b"odd_one"[..], b"process_name", b"smtp_use_tls"]
        );
    }

    #[test]
    fn releases() {
        let r = Release::parse(b"3.10.13").unwrap();
        assert_eq!((r.major, r.minor, r.patch), (3, 10, 13));
        assert_eq!(r.last_compatibility_level(), (3, 6, 0));
        assert!(r.postlog_writes_off_terminal());
        let old = Release::parse(b"3.7.11").unwrap();
        assert!(!old.postlog_writes_off_terminal());
        assert_eq!(
            Release::parse(b"3.11.7")
                .unwrap()
                .last_compatibility_level(),
            (3, 11, 0)
        );
        for bad in [
            &b"3.12-20260506"[..],
            b"3.10",
            b"3.10.1.2",
            b"",
            b"3..1",
            b"3.a.1",
        ] {
            assert_eq!(Release::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_cache_answers_only_for_its_own_postconf() {
        let installation = Installation {
            source: Source::Postconf,
            values: INSTALLATION_PARAMETERS
                .iter()
                .map(|&(n, v)| (n, v.as_bytes().to_vec()))
                .collect(),
            myorigin_from_file: true,
            dictionary_types: None,
            names: Some(ParameterNames::new(b"a b".to_vec(), b"d".to_vec())),
        };
        let mut text = format!("{CACHE_MAGIC}\nID\n").into_bytes();
        for (name, value) in &installation.values {
            text.extend_from_slice(&msg!(name, b" = ", value, b"\n"));
        }
        text.extend_from_slice(
            b"myorigin_from_file = yes\nnoisy_parameter_names = d\nquiet_parameter_names = a b\n",
        );
        let read = parse_cache(&text, "ID").unwrap();
        assert_eq!(read.values, installation.values);
        assert_eq!(read.accepts_quietly(b"b"), Some(true));
        assert_eq!(read.accepts_quietly(b"c"), Some(false));
        assert_eq!(read.accepts_quietly(b"d"), Some(false));
        assert_eq!(read.knows(b"d"), Some(true));
        assert_eq!(read.knows(b"c"), Some(false));
        assert!(parse_cache(&text, "OTHER").is_none());
        assert!(parse_cache(&text[..text.len() / 2], "ID").is_none());
    }

    /// Panic fuzzing of the cache parser (docs/fuzzing.md; the other
    /// parsers' is tests/fuzz_panic.rs, which cannot reach this private
    /// one): well-formed caches, mutated, truncated and shuffled.
    /// `POSTMULTI_FUZZ_INPUTS` inputs (default 100000), from
    /// `POSTMULTI_FUZZ_SEED`.  A panic fails with the seed and the index.
    #[test]
    fn the_cache_parser_never_panics() {
        use super::fuzz_rng::{Rng, count_from_env, seed_from_env};
        let seed = seed_from_env("POSTMULTI_FUZZ_SEED", 20_260_601);
        let inputs = count_from_env("POSTMULTI_FUZZ_INPUTS", 100_000);
        let mut good = format!("{CACHE_MAGIC}\nID\n").into_bytes();
        for (name, value) in INSTALLATION_PARAMETERS {
            good.extend_from_slice(&msg!(name, b" = ", value, b"\n"));
        }
        good.extend_from_slice(b"quiet_parameter_names = a b c\n");
        for index in 0..inputs {
            let mut rng = Rng::for_case(seed, index);
            let mut text = good.clone();
            if rng.chance(1, 4) {
                let mut lines: Vec<Vec<u8>> =
                    text.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                for _ in 0..1 + rng.below(3) {
                    let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                    lines.swap(a, b);
                }
                text = lines.join(&b'\n');
            }
            for _ in 0..rng.below(6) {
                let at = rng.below(text.len() + 1);
                match rng.below(4) {
                    0 if at < text.len() => text[at] = rng.byte(),
                    1 if at < text.len() => {
                        text.remove(at);
                    }
                    2 => text.truncate(at),
                    _ => text.insert(at, *rng.pick(b"= \n\0\xffa")),
                }
            }
            let result = std::panic::catch_unwind(|| {
                if let Some(installation) = parse_cache(&text, "ID") {
                    let _ = installation.release();
                    let _ = installation.accepts_quietly(b"a");
                }
            });
            assert!(
                result.is_ok(),
                "seed {seed} input {index}: parse_cache panicked on {:?}",
                String::from_utf8_lossy(&text)
            );
        }
    }
}
