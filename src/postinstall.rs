//! What `postfix -c <dir> set-permissions` does to a new secondary instance,
//! done in-process.  postfix(1) runs post-install, which walks
//! `$meta_directory/postfix-files` (then `postfix-files.d/*`) and, for the
//! instance's own entries, makes the missing directories and sets owner,
//! group and mode; Debian's post-install then runs configure-instance.sh,
//! which copies a few files of /etc into the queue directory.
//!
//! Doing this in-process is what spares a create Postfix's pause: every
//! Postfix program waits until a main.cf written in the last second or two
//! has "cooled down" before it reads it, and set-permissions would read the
//! instance's and the primary's, both just written.  It is only done where
//! the outcome is certain: the installation's scripts must be ones whose
//! every line we know ([`Installation::verified`]), and [`plan`] declines
//! (`None`) whatever it does not model exactly (symlinked instance
//! directories, chrooted services, leftovers of older Debian chroots, ...),
//! so that the real scripts run instead.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Result;
use nix::unistd::{Group, User};

use crate::config::{Settings, path};
use crate::fatal;
use crate::maincf::{self, LineEvent};
use crate::secondary::{self, SilentMainCf};
use crate::undo::Undo;
use crate::{ExitQuietly, msg};

/// Debian's hook at the end of post-install's create-missing step, and the
/// helper it copies files with.
const DEBIAN_CONFIGURE_INSTANCE: &str = "/usr/lib/postfix/configure-instance.sh";
const DEBIAN_SYNCFILES: &str = "/usr/lib/postfix/syncfiles.pl";
const DEBIAN_DEFAULTS: &str = "/etc/default/postfix";

/// The /etc files configure-instance.sh keeps in `<queue_directory>/etc`.
const DEBIAN_ETC_FILES: [&str; 7] = [
    "etc/localtime",
    "etc/services",
    "etc/resolv.conf",
    "etc/hosts",
    "etc/host.conf",
    "etc/nsswitch.conf",
    "etc/nss_mdns.config",
];

/// Fingerprints (FNV-1a, 64 bits) of the scripts whose behaviour the
/// in-process actions reproduce, per installation we verified it on.  Any
/// other version of any of them, and the real scripts run.
const VERIFIED: [(&str, [(&str, u64); 5]); 1] = [(
    "Debian postfix 3.11.7-1",
    [
        ("$daemon_directory/postmulti-script", 0x2167_afe9_d1d4_0ebd),
        ("$daemon_directory/postfix-script", 0xc5bd_6289_a4eb_6340),
        ("$daemon_directory/post-install", 0x6a7f_40ed_8e40_ad24),
        (DEBIAN_CONFIGURE_INSTANCE, 0xadc5_e79b_dd7a_a163),
        (DEBIAN_SYNCFILES, 0x062e_0bc3_3be5_7021),
    ],
)];

/// A Postfix installation whose life-cycle scripts we know line by line.
pub struct Installation;

impl Installation {
    /// `Some` if every script of one verified installation is present,
    /// unchanged.
    pub fn verified(settings: &Settings) -> Option<Installation> {
        let matches = |path: &str, fingerprint: u64| {
            let path = match path.strip_prefix("$daemon_directory") {
                Some(rest) => msg!(settings.daemon_directory, rest),
                None => path.as_bytes().to_vec(),
            };
            fs::read(OsStr::from_bytes(&path)).is_ok_and(|text| fnv1a(&text) == fingerprint)
        };
        VERIFIED
            .iter()
            .any(|(_, scripts)| scripts.iter().all(|&(p, f)| matches(p, f)))
            .then_some(Installation)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Whether postfix(1) runs without its note "Postfix is using
/// backwards-compatible default settings": `compatibility_level` (as
/// evaluated) is at least the level of this Postfix, 3.11.
pub fn is_current_compatibility_level(level: &[u8]) -> bool {
    let parts: Option<Vec<u64>> = std::str::from_utf8(level)
        .ok()
        .and_then(|l| l.split('.').map(|p| p.parse().ok()).collect());
    parts
        .filter(|v| (1..=3).contains(&v.len()))
        .is_some_and(|mut v| {
            v.resize(3, 0);
            (v[0], v[1], v[2]) >= (3, 11, 0)
        })
}

/// Whether `postfix -c <dir> ...` would run postfix-script for the
/// instance `cf` without a word: postfix(1) changes into the command,
/// daemon and queue directories and notes "backwards-compatible default
/// settings" below level 3.11; postfix-script checks the directories and
/// the master program.  (The queue directory is the caller's: create makes
/// it first.)
pub fn postfix_runs_quietly(settings: &Settings, cf: &SilentMainCf) -> bool {
    let is_dir = |name: &str| cf.expanded(name).is_some_and(|v| path(&v).is_dir());
    cf.expanded("compatibility_level")
        .is_some_and(|level| is_current_compatibility_level(&level))
        && ["command_directory", "daemon_directory", "meta_directory"]
            .iter()
            .all(|n| is_dir(n))
        && cf
            .expanded("shlib_directory")
            .is_some_and(|v| v == b"no" || path(&v).is_dir())
        && path(&msg!(settings.daemon_directory, b"/master")).is_file()
}

/// What set-permissions needs to know of the new instance, as postfix(1)
/// would evaluate its main.cf.
pub struct InstanceFacts {
    pub config_dir: Vec<u8>,
    pub queue_dir: Vec<u8>,
    pub data_dir: Vec<u8>,
    pub mail_owner: Vec<u8>,
    pub setgid_group: Vec<u8>,
    /// `postconf -h compatibility_level` (unexpanded).
    pub compatibility_level: Vec<u8>,
    /// `postconf -hx myorigin`.
    pub myorigin: Vec<u8>,
    pub master_cf: Vec<u8>,
}

/// One postfix-files entry of the instance, resolved.
struct Entry {
    path: PathBuf,
    directory: bool,
    uid: u32,
    gid: Option<u32>,
    mode: u32,
    create: bool,
    recursive: bool,
}

/// The work of set-permissions for one instance, decided in advance.
pub struct SetPermissions {
    entries: Vec<Entry>,
    queue_dir: PathBuf,
}

/// Decides what set-permissions would do; `None` where we cannot be sure
/// of doing exactly that (then the real one must run).
pub fn plan(
    settings: &Settings,
    _: &Installation,
    facts: &InstanceFacts,
) -> Option<SetPermissions> {
    if path(&msg!(facts.config_dir, b"/install.cf")).exists()
        || !debian_configuration_is_plain(facts)
    {
        return None;
    }
    let variables: [(&[u8], &[u8]); 5] = [
        (b"config_directory", &facts.config_dir),
        (b"queue_directory", &facts.queue_dir),
        (b"data_directory", &facts.data_dir),
        (b"mail_owner", &facts.mail_owner),
        (b"setgid_group", &facts.setgid_group),
    ];
    let mut entries = Vec::new();
    for list in postfix_files(&settings.meta_directory)? {
        for line in fs::read(&list).ok()?.split(|&b| b == b'\n') {
            if let Some(entry) = instance_entry(line, &variables)? {
                entries.push(entry);
            }
        }
    }
    Some(SetPermissions {
        entries,
        queue_dir: path(&facts.queue_dir),
    })
}

/// `postfix-files`, then the regular files of `postfix-files.d` in byte
/// order (post-install's `find ... -type f | sort`, which descends).
fn postfix_files(meta_directory: &[u8]) -> Option<Vec<PathBuf>> {
    let meta = path(meta_directory);
    let main = meta.join("postfix-files");
    if !main.is_file() {
        return None;
    }
    let mut extra: Vec<PathBuf> = walkdir::WalkDir::new(meta.join("postfix-files.d"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    extra.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    Some(std::iter::once(main).chain(extra).collect())
}

/// Resolves one postfix-files line: `Some(None)` if post-install skips it
/// for a secondary instance, `None` if it is anything we do not model.
fn instance_entry(line: &[u8], variables: &[(&[u8], &[u8])]) -> Option<Option<Entry>> {
    let fields: Vec<&[u8]> = line.splitn(7, |&b| b == b':').collect();
    let path = fields[0];
    // Comments, blank lines, absolute paths: not instance entries.
    if path.first() != Some(&b'$') {
        return Some(None);
    }
    if !["config_directory", "queue_directory", "data_directory"]
        .iter()
        .any(|n| path[1..].starts_with(n.as_bytes()))
    {
        return Some(None);
    }
    if line.contains(&b'\\') || fields.len() < 5 {
        return None;
    }
    let (kind, owner, group, mode) = (fields[1], fields[2], fields[3], fields[4]);
    let flags = fields.get(5).copied().unwrap_or_default();
    let directory = match kind {
        b"h" | b"l" => return Some(None),
        b"d" => true,
        b"f" => false,
        _ => return None,
    };
    let expand = |field: &[u8]| -> Option<Vec<u8>> {
        match field {
            b"-" => Some(Vec::new()),
            f if f.first() == Some(&b'$') => {
                let (name, rest) = variables.iter().find_map(|(n, v)| {
                    let rest = f[1..].strip_prefix(*n)?;
                    (rest.is_empty() || rest[0] == b'/').then_some((v, rest))
                })?;
                (!rest.contains(&b'$')).then(|| msg!(name, rest))
            }
            f if f.contains(&b'$') => None,
            f => Some(f.to_vec()),
        }
    };
    let path = expand(path)?;
    let owner = expand(owner)?;
    let group = expand(group)?;
    if path == b"no" || path.starts_with(b"no/") {
        return Some(None);
    }
    let has = |c: u8| flags.contains(&c);
    if has(b'o') {
        return None;
    }
    let path = PathBuf::from(OsString::from_vec(path));
    let present = fs::symlink_metadata(&path);
    if present.as_ref().is_ok_and(|m| m.file_type().is_symlink()) {
        return None;
    }
    if (has(b'1') || has(b'i')) && present.is_err() {
        return Some(None);
    }
    let mode = std::str::from_utf8(mode)
        .ok()
        .filter(|m| !m.is_empty() && m.bytes().all(|b| (b'0'..=b'7').contains(&b)))
        .and_then(|m| u32::from_str_radix(m, 8).ok())?;
    Some(Some(Entry {
        path,
        directory,
        uid: user_id(&owner)?,
        gid: if group.is_empty() {
            None
        } else {
            Some(group_id(&group)?)
        },
        mode,
        create: has(b'c'),
        recursive: has(b'r'),
    }))
}

/// chown's reading of an owner: a user name, else a number.
fn user_id(owner: &[u8]) -> Option<u32> {
    let name = std::str::from_utf8(owner).ok()?;
    match User::from_name(name).ok()? {
        Some(user) => Some(user.uid.as_raw()),
        None => name.parse().ok(),
    }
}

fn group_id(group: &[u8]) -> Option<u32> {
    let name = std::str::from_utf8(group).ok()?;
    match Group::from_name(name).ok()? {
        Some(group) => Some(group.gid.as_raw()),
        None => name.parse().ok(),
    }
}

/// Whether configure-instance.sh would only copy the /etc files: no
/// `/etc/default/postfix` to change its settings, no `$myorigin` it
/// refuses, no chrooted service to furnish, no old chroot to clean up.
fn debian_configuration_is_plain(facts: &InstanceFacts) -> bool {
    if Path::new(DEBIAN_DEFAULTS).exists() {
        return false;
    }
    let queue = path(&facts.queue_dir);
    if ["usr", "lib", "dev", "etc/ssl"]
        .iter()
        .any(|p| fs::symlink_metadata(queue.join(p)).is_ok())
    {
        return false;
    }
    if let Ok(etc) = fs::symlink_metadata(queue.join("etc"))
        && !etc.is_dir()
    {
        return false;
    }
    if DEBIAN_ETC_FILES
        .iter()
        .any(|f| fs::symlink_metadata(queue.join(f)).is_ok_and(|m| !m.is_file()))
    {
        return false;
    }
    let myorigin = &facts.myorigin;
    let lower = myorigin.to_ascii_lowercase();
    if myorigin.first() == Some(&b'/')
        || lower.ends_with(b"ubuntu.com")
        || lower.ends_with(b"debian.org")
    {
        return false;
    }
    !needs_chroot(&facts.master_cf, &facts.compatibility_level)
}

/// `postfix-script chroot -n -Sc off` says something: a service other than
/// the simple and the unchrootable ones runs chrooted.
fn needs_chroot(master_cf: &[u8], compatibility_level: &[u8]) -> bool {
    let digits: Vec<u8> = compatibility_level
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    let Some(level) = std::str::from_utf8(&digits)
        .ok()
        .and_then(|d| d.parse::<u64>().ok())
    else {
        return true;
    };
    let mut chrooted = false;
    maincf::scan_logical_lines(master_cf, b"master.cf", &mut |event| {
        if let LineEvent::Line(line) = event {
            let fields = secondary::master_fields(&line.text).unwrap_or_default();
            let (chroot, command) = (fields.get(4), fields.get(7));
            let simple_or_unchrootable = command.is_some_and(|c| {
                matches!(
                    *c,
                    b"local"
                        | b"pipe"
                        | b"postlogd"
                        | b"proxymap"
                        | b"spawn"
                        | b"virtual"
                        | b"anvil"
                        | b"bounce"
                        | b"cleanup"
                        | b"discard"
                        | b"dnsblog"
                        | b"error"
                        | b"flush"
                        | b"pickup"
                        | b"postscreen"
                        | b"scache"
                        | b"showq"
                        | b"tlsmgr"
                        | b"tlsproxy"
                        | b"trivial-rewrite"
                        | b"verify"
                        | b"nqmgr"
                        | b"oqmgr"
                        | b"qmgr"
                        | b"qmqpd"
                )
            });
            let off = match chroot {
                Some(&b"n") => true,
                Some(&b"-") => level >= 3,
                _ => false,
            };
            chrooted |= !simple_or_unchrootable && !off;
        }
        true
    });
    chrooted
}

impl SetPermissions {
    /// Does it, recording every change in `undo`.
    pub fn apply(&self, undo: &mut Undo) -> Result<()> {
        for entry in &self.entries {
            entry.apply(undo)?;
        }
        self.configure_instance(undo)
    }

    /// Debian's configure-instance.sh when [`debian_configuration_is_plain`]:
    /// `<queue>/etc` made, and each of the /etc files that exists copied
    /// there (announced on stdout, as syncfiles.pl does) unless the copy
    /// has the same size and time; those that do not exist are removed.
    fn configure_instance(&self, undo: &mut Undo) -> Result<()> {
        let etc = self.queue_dir.join("etc");
        if !etc.is_dir() {
            make_directory(&etc, 0o755, undo)?;
        }
        let (present, absent): (Vec<&str>, Vec<&str>) = DEBIAN_ETC_FILES
            .iter()
            .partition(|f| Path::new("/").join(f).is_file());
        for file in absent {
            let copy = self.queue_dir.join(file);
            if copy.exists() {
                undo.will_replace(&copy)?;
                fs::remove_file(&copy).map_err(|e| io_error(b"rm: cannot remove", &copy, &e))?;
            }
        }
        let mut stdout = std::io::stdout().lock();
        for file in present {
            let source = Path::new("/").join(file);
            let source_meta = fs::metadata(&source).map_err(|e| {
                tool_error(&msg!(
                    b"unable to open ",
                    source.as_os_str().as_bytes(),
                    b": ",
                    fatal::strerror(&e)
                ))
            })?;
            // syncfiles.pl names the copy "$dest/$source": a doubled slash.
            let copy = PathBuf::from(OsString::from_vec(msg!(
                self.queue_dir.as_os_str().as_bytes(),
                b"/",
                source.as_os_str().as_bytes()
            )));
            if let Ok(old) = fs::metadata(&copy)
                && old.size() == source_meta.size()
                && old.mtime() == source_meta.mtime()
            {
                continue;
            }
            let _ = stdout.write_all(&msg!(
                b"updating ",
                source.as_os_str().as_bytes(),
                b" => ",
                copy.as_os_str().as_bytes(),
                b"\n"
            ));
            copy_file(&source, &source_meta, &copy, undo)?;
        }
        let _ = stdout.flush();
        Ok(())
    }
}

impl Entry {
    fn apply(&self, undo: &mut Undo) -> Result<()> {
        if self.directory && self.create && !self.path.is_dir() {
            make_directory(&self.path, 0o755, undo)?;
        }
        if self.recursive {
            for found in walkdir::WalkDir::new(&self.path).follow_links(false) {
                let found = found.map_err(|e| {
                    let path = e.path().unwrap_or(&self.path).to_path_buf();
                    io_error(b"chown: cannot access", &path, &e.into())
                })?;
                let directory = found.file_type().is_dir();
                self.set(found.path(), directory, false, undo)?;
            }
            Ok(())
        } else {
            self.set(&self.path, true, true, undo)
        }
    }

    /// chown, chgrp and (for directories, or the entry itself) chmod.
    fn set(&self, path: &Path, set_mode: bool, follow: bool, undo: &mut Undo) -> Result<()> {
        undo.will_change_metadata(path)
            .map_err(|e| io_error(b"chown: cannot access", path, &e))?;
        let chown = |uid, gid| {
            if follow {
                std::os::unix::fs::chown(path, uid, gid)
            } else {
                std::os::unix::fs::lchown(path, uid, gid)
            }
        };
        chown(Some(self.uid), None)
            .map_err(|e| io_error(b"chown: changing ownership of", path, &e))?;
        if let Some(gid) = self.gid {
            chown(None, Some(gid)).map_err(|e| io_error(b"chgrp: changing group of", path, &e))?;
        }
        if set_mode {
            fs::set_permissions(path, fs::Permissions::from_mode(self.mode))
                .map_err(|e| io_error(b"chmod: changing permissions of", path, &e))?;
        }
        Ok(())
    }
}

/// mkdir(2) with `mode` (before the umask), recorded for undo.
pub fn make_directory(path: &Path, mode: u32, undo: &mut Undo) -> Result<()> {
    fs::DirBuilder::new()
        .mode(mode)
        .create(path)
        .map_err(|e| io_error(b"mkdir: cannot create directory", path, &e))?;
    undo.made_directory(path);
    Ok(())
}

/// `mkdir -p`: each missing component made with `mode`, recorded for undo.
pub fn make_directories(path: &Path, mode: u32, undo: &mut Undo) -> Result<()> {
    let mut missing = Vec::new();
    let mut at = Some(path);
    while let Some(p) = at {
        if p.as_os_str().is_empty() || p.is_dir() {
            break;
        }
        missing.push(p);
        at = p.parent();
    }
    for p in missing.into_iter().rev() {
        // GNU mkdir -p's words for a component that exists but is no
        // directory: "File exists" for the last, "Not a directory" above it.
        if fs::metadata(p).is_ok() && p != path {
            let not_a_directory = std::io::Error::from_raw_os_error(libc::ENOTDIR);
            return Err(io_error(
                b"mkdir: cannot create directory",
                p,
                &not_a_directory,
            ));
        }
        make_directory(p, mode, undo)?;
    }
    Ok(())
}

/// syncfiles.pl's copy: a `.tmp` file beside the copy, with the source's
/// times, mode and owner, renamed into place.
fn copy_file(source: &Path, meta: &fs::Metadata, copy: &Path, undo: &mut Undo) -> Result<()> {
    let temp = PathBuf::from(OsString::from_vec(msg!(
        copy.as_os_str().as_bytes(),
        b".tmp"
    )));
    if fs::symlink_metadata(&temp).is_ok() {
        undo.will_replace(&temp)?;
        let _ = fs::remove_file(&temp);
    }
    let fail = |what: &[u8], e: std::io::Error| {
        tool_error(&msg!(
            what,
            b" ",
            temp.as_os_str().as_bytes(),
            b": ",
            fatal::strerror(&e)
        ))
    };
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .map_err(|e| fail(b"unable to create", e))?;
    undo.made_file(&temp);
    let content = fs::read(source).map_err(|e| fail(b"error reading for", e))?;
    out.write_all(&content)
        .map_err(|e| fail(b"error writing to", e))?;
    let mtime = meta
        .modified()
        .map_err(|e| fail(b"error reading times for", e))?;
    out.set_times(fs::FileTimes::new().set_accessed(mtime).set_modified(mtime))
        .map_err(|e| fail(b"error setting times of", e))?;
    out.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))
        .map_err(|e| fail(b"error setting mode of", e))?;
    std::os::unix::fs::fchown(&out, Some(meta.uid()), Some(meta.gid()))
        .map_err(|e| fail(b"error setting owner of", e))?;
    out.sync_all().map_err(|e| fail(b"error writing to", e))?;
    if copy.exists() {
        undo.will_replace(copy)?;
    } else {
        undo.made_file(copy);
    }
    fs::rename(&temp, copy).map_err(|e| fail(b"error renaming", e))?;
    Ok(())
}

/// `<what> '<path>': <strerror>` on stderr, as coreutils words it; the
/// action then fails with status 1, as the script would.
fn io_error(what: &[u8], path: &Path, err: &std::io::Error) -> anyhow::Error {
    tool_error(&msg!(
        what,
        b" ",
        gnu_quote(path.as_os_str().as_bytes()),
        b": ",
        fatal::strerror(err)
    ))
}

/// A helper program's own error line on stderr; the action fails with
/// status 1.
pub fn tool_error(line: &[u8]) -> anyhow::Error {
    let _ = std::io::stderr().write_all(&msg!(line, b"\n"));
    ExitQuietly(1).into()
}

/// A file name as coreutils quotes it in messages in the C locale: in
/// apostrophes, with backslash escapes for apostrophes, backslashes and
/// unprintable bytes.
pub fn gnu_quote(name: &[u8]) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &b in name {
        match b {
            b'\'' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
        }
    }
    out.push(b'\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_fnv1a_64() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn postfix_files_entries() {
        let vars: [(&[u8], &[u8]); 5] = [
            (b"config_directory", b"/etc/postfix-a"),
            (b"queue_directory", b"/var/spool/postfix-a"),
            (b"data_directory", b"/var/lib/postfix-a"),
            (b"mail_owner", b"root"),
            (b"setgid_group", b"root"),
        ];
        let entry = |line: &str| instance_entry(line.as_bytes(), &vars);
        let e = entry("$queue_directory/maildrop:d:$mail_owner:$setgid_group:730:uc")
            .unwrap()
            .unwrap();
        assert_eq!(e.path, Path::new("/var/spool/postfix-a/maildrop"));
        assert_eq!(
            (e.uid, e.gid, e.mode, e.create, e.recursive),
            (0, Some(0), 0o730, true, false)
        );
        let e = entry("$queue_directory/active:d:$mail_owner:-:700:ucr")
            .unwrap()
            .unwrap();
        assert_eq!((e.gid, e.recursive), (None, true));
        assert!(
            entry("$command_directory/postfix:f:root:-:755")
                .unwrap()
                .is_none()
        );
        assert!(entry("# comment").unwrap().is_none());
        assert!(entry("$config_directory/x:l:root:-:644").unwrap().is_none());
        assert!(entry("$config_directory/x:q:root:-:644").is_none());
        assert!(entry("$config_directory/x:f:$other:-:644").is_none());
        assert!(entry("$config_directory/x:f:root:-:64x").is_none());
    }

    #[test]
    fn chrooted_services() {
        let master = |chroot: &str, cmd: &str| {
            format!("smtp inet n - {chroot} - - {cmd}\npickup unix n - y 60 1 pickup\n")
        };
        assert!(!needs_chroot(master("n", "smtpd").as_bytes(), b"3.11"));
        assert!(!needs_chroot(master("-", "smtpd").as_bytes(), b"3.11"));
        assert!(needs_chroot(master("-", "smtpd").as_bytes(), b"2"));
        assert!(needs_chroot(master("y", "smtpd").as_bytes(), b"3.11"));
        assert!(needs_chroot(master("y", "custom").as_bytes(), b"3.11"));
        assert!(!needs_chroot(master("y", "proxymap").as_bytes(), b"3.11"));
        assert!(needs_chroot(b"", b"${level}"));
    }

    #[test]
    fn compatibility_levels() {
        for (level, current) in [
            ("3.11", true),
            ("3.11.1", true),
            ("4", true),
            ("3.10", false),
            ("3.9.9", false),
            ("0", false),
            ("", false),
            ("3.11.x", false),
            ("${x}", false),
        ] {
            assert_eq!(
                is_current_compatibility_level(level.as_bytes()),
                current,
                "{level}"
            );
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(gnu_quote(b"/var/spool/x"), b"'/var/spool/x'");
        assert_eq!(gnu_quote(b"a'b\\c\nd\xc3"), b"'a\\'b\\\\c\\nd\\303'");
    }
}
