//! What `postfix -c <dir> set-permissions` does to a new secondary instance,
//! done in-process.  postfix(1) runs post-install, which walks
//! `$meta_directory/postfix-files` (then `postfix-files.d/*`) and, for the
//! instance's own entries, makes the missing directories and sets owner,
//! group and mode; Debian's post-install (trixie and later) then runs
//! configure-instance.sh, which copies a few files of /etc into the queue
//! directory and, for an instance with chrooted services, furnishes the
//! chroot.
//!
//! Doing this in-process is what spares a create Postfix's pause: every
//! Postfix program waits until a main.cf written in the last second or two
//! has "cooled down" before it reads it, and set-permissions would read the
//! instance's and the primary's, both just written.  It is only done where
//! the outcome is certain: the installation's scripts must be ones whose
//! every line we know (see `installation`), and [`plan`] declines whatever
//! it does not model exactly (symlinked instance directories, chrooted
//! services, leftovers of older Debian chroots, ...), so that the real
//! scripts run instead.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::unistd::{Group, User};

use super::Decline;
use super::installation::{ConfigureInstance, Known, NssCopies};
use crate::config::Params;
use crate::error::{Result, strerror};
use crate::lifecycle::changes::{Changes, make_directories};
use crate::lifecycle::voice::{tool_error, tool_io_error};
use crate::maincf::mastercf::master_fields;
use crate::maincf::regular;
use crate::maincf::{LineEvent, path, scan_logical_lines};
use crate::msg;

/// What configure-instance.sh reads its settings from.
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
    /// `postconf -hx smtp_tls_CApath smtpd_tls_CApath`.
    pub ca_paths: [Vec<u8>; 2],
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
    /// What Debian's configure-instance.sh does after the entries, if
    /// post-install runs it.
    configure: Option<Configure>,
}

/// Debian's configure-instance.sh for one instance: the /etc copies and,
/// if services run chrooted, `<queue>/usr/lib/sasl2`.
struct Configure {
    chroot: bool,
}

/// Decides what set-permissions would do, or why we cannot be sure of
/// doing exactly that (then the real one must run).
pub fn plan(
    params: &Params,
    known: &Known,
    facts: &InstanceFacts,
) -> std::result::Result<SetPermissions, Decline> {
    let install_cf = path(&msg!(facts.config_dir, b"/install.cf"));
    if install_cf.exists() {
        return Err(Decline::UnmodelledPostfixFiles(msg!(
            install_cf.as_os_str().as_bytes(),
            b" exists"
        )));
    }
    let configure = match &known.configure_instance {
        Some(hook) => Some(debian_configuration(hook, facts)?),
        None => None,
    };
    let variables: [(&[u8], &[u8]); 5] = [
        (b"config_directory", &facts.config_dir),
        (b"queue_directory", &facts.queue_dir),
        (b"data_directory", &facts.data_dir),
        (b"mail_owner", &facts.mail_owner),
        (b"setgid_group", &facts.setgid_group),
    ];
    let mut entries = Vec::new();
    for list in postfix_files(&params.meta_directory)? {
        let text = regular::read(&list).map_err(|_| Decline::Unreadable(list.clone()))?;
        for line in text.split(|&b| b == b'\n') {
            if let Some(entry) = instance_entry(line, &variables)? {
                entries.push(entry);
            }
        }
    }
    Ok(SetPermissions {
        entries,
        queue_dir: path(&facts.queue_dir),
        configure,
    })
}

/// `postfix-files`, then the regular files of `postfix-files.d` in byte
/// order (post-install's `find ... -type f | sort`, which descends).
fn postfix_files(meta_directory: &[u8]) -> std::result::Result<Vec<PathBuf>, Decline> {
    let meta = path(meta_directory);
    let main = meta.join("postfix-files");
    if !main.is_file() {
        return Err(Decline::Unreadable(main));
    }
    let mut extra: Vec<PathBuf> = walkdir::WalkDir::new(meta.join("postfix-files.d"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    extra.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    Ok(std::iter::once(main).chain(extra).collect())
}

/// Resolves one postfix-files line: `None` if post-install skips it for a
/// secondary instance, `Err` if it is anything we do not model.
fn instance_entry(
    line: &[u8],
    variables: &[(&[u8], &[u8])],
) -> std::result::Result<Option<Entry>, Decline> {
    let unmodelled = || Decline::UnmodelledPostfixFiles(line.to_vec());
    let fields: Vec<&[u8]> = line.splitn(7, |&b| b == b':').collect();
    let path = fields[0];
    // Comments, blank lines, absolute paths: not instance entries.
    if path.first() != Some(&b'$') {
        return Ok(None);
    }
    if !["config_directory", "queue_directory", "data_directory"]
        .iter()
        .any(|n| path[1..].starts_with(n.as_bytes()))
    {
        return Ok(None);
    }
    if line.contains(&b'\\') || fields.len() < 5 {
        return Err(unmodelled());
    }
    let (kind, owner, group, mode) = (fields[1], fields[2], fields[3], fields[4]);
    let flags = fields.get(5).copied().unwrap_or_default();
    let directory = match kind {
        b"h" | b"l" => return Ok(None),
        b"d" => true,
        b"f" => false,
        _ => return Err(unmodelled()),
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
    let path = expand(path).ok_or_else(unmodelled)?;
    let owner = expand(owner).ok_or_else(unmodelled)?;
    let group = expand(group).ok_or_else(unmodelled)?;
    if path == b"no" || path.starts_with(b"no/") {
        return Ok(None);
    }
    let has = |c: u8| flags.contains(&c);
    // Obsolete files: post-install only lists them, for upgrades.
    if has(b'o') {
        return Ok(None);
    }
    let path = PathBuf::from(OsString::from_vec(path));
    let present = fs::symlink_metadata(&path);
    if present.as_ref().is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Decline::SymlinkedPath(path));
    }
    if (has(b'1') || has(b'i')) && present.is_err() {
        return Ok(None);
    }
    let mode = std::str::from_utf8(mode)
        .ok()
        .filter(|m| !m.is_empty() && m.bytes().all(|b| (b'0'..=b'7').contains(&b)))
        .and_then(|m| u32::from_str_radix(m, 8).ok())
        .ok_or_else(unmodelled)?;
    Ok(Some(Entry {
        path,
        directory,
        uid: user_id(&owner).ok_or_else(unmodelled)?,
        gid: if group.is_empty() {
            None
        } else {
            Some(group_id(&group).ok_or_else(unmodelled)?)
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

/// What configure-instance.sh would do to the instance, if it is what
/// we model: the /etc copies, and for chrooted services only
/// `usr/lib/sasl2` (no NSS module or CA directory to copy).  Declined: an
/// `/etc/default/postfix` to change its settings, a `$myorigin` it
/// refuses, leftovers of older chroots it would clean up.
fn debian_configuration(
    hook: &ConfigureInstance,
    facts: &InstanceFacts,
) -> std::result::Result<Configure, Decline> {
    let unusual = |why| Err(Decline::DebianConfiguration(why));
    if Path::new(DEBIAN_DEFAULTS).exists() {
        return unusual("/etc/default/postfix exists");
    }
    let queue = path(&facts.queue_dir);
    let multiarch = msg!(b"usr/lib/", hook.multiarch);
    let leftovers: [&[u8]; 5] = [b"usr/lib/zoneinfo", b"lib", b"dev", b"etc/ssl", &multiarch];
    if leftovers
        .iter()
        .any(|p| fs::symlink_metadata(queue.join(path(p))).is_ok())
    {
        return unusual("the queue directory holds an old chroot");
    }
    for dir in ["etc", "usr", "usr/lib", "usr/lib/sasl2"] {
        if let Ok(found) = fs::symlink_metadata(queue.join(dir))
            && !found.is_dir()
        {
            return unusual("a directory it makes in the queue directory is something else");
        }
    }
    if DEBIAN_ETC_FILES
        .iter()
        .any(|f| fs::symlink_metadata(queue.join(f)).is_ok_and(|m| !m.is_file()))
    {
        return unusual("a copy in <queue_directory>/etc is not a regular file");
    }
    let myorigin = &facts.myorigin;
    let lower = myorigin.to_ascii_lowercase();
    if myorigin.first() == Some(&b'/')
        || lower.ends_with(b"ubuntu.com")
        || lower.ends_with(b"debian.org")
    {
        return unusual("myorigin is a file or a domain it refuses");
    }
    let chroot = needs_chroot(&facts.master_cf, &facts.compatibility_level);
    if chroot {
        if !nss_modules(&hook.multiarch).is_empty() {
            return unusual(match hook.nss {
                NssCopies::IntoLib => "NSS modules to copy into <queue_directory>/lib",
                NssCopies::Synced => "NSS modules to copy into <queue_directory>/usr/lib",
            });
        }
        if facts.ca_paths.iter().any(|p| !p.is_empty()) {
            return unusual("CA directories to copy into the chroot");
        }
    }
    Ok(Configure { chroot })
}

/// The NSS modules configure-instance.sh copies into a chroot: regular
/// files (symlinks followed) `/usr/lib/<multiarch>/libnss_*.so.2`, but for
/// those built into glibc (compat, dns, files, hesiod).
fn nss_modules(multiarch: &[u8]) -> Vec<PathBuf> {
    let dir = path(&msg!(b"/usr/lib/", multiarch));
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let built_in: [&[u8]; 4] = [b"compat", b"dns", b"files", b"hesiod"];
    entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let name = e.file_name();
            let Some(module) = name
                .as_bytes()
                .strip_prefix(b"libnss_")
                .and_then(|n| n.strip_suffix(b".so.2"))
            else {
                return false;
            };
            !built_in.contains(&module) && e.path().is_file()
        })
        .map(|e| e.path())
        .collect()
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
    scan_logical_lines(master_cf, b"master.cf", &mut |event| {
        if let LineEvent::Line(line) = event {
            let fields = master_fields(&line.text).unwrap_or_default();
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
    /// Does it.
    pub fn apply(&self, changes: &mut dyn Changes) -> Result<()> {
        for entry in &self.entries {
            entry.apply(changes)?;
        }
        match &self.configure {
            Some(configure) => self.configure_instance(configure, changes),
            None => Ok(()),
        }
    }

    /// Debian's configure-instance.sh as [`debian_configuration`] decided
    /// it: `<queue>/etc` made, and each of the /etc files that exists
    /// copied there (announced on stdout, as syncfiles.pl does) unless the
    /// copy has the same size and time; those that do not exist are
    /// removed; then, for chrooted services, `usr/lib/sasl2`.
    fn configure_instance(&self, configure: &Configure, changes: &mut dyn Changes) -> Result<()> {
        let etc = self.queue_dir.join("etc");
        if !changes.is_directory(&etc) {
            changes.make_directory(&etc, 0o755)?;
        }
        let (present, absent): (Vec<&str>, Vec<&str>) = DEBIAN_ETC_FILES
            .iter()
            .partition(|f| Path::new("/").join(f).is_file());
        for file in absent {
            let copy = self.queue_dir.join(file);
            if changes.exists(&copy) {
                changes
                    .remove_file(&copy)
                    .map_err(|e| tool_io_error(b"rm: cannot remove", &copy, &e))?;
            }
        }
        for file in present {
            let source = Path::new("/").join(file);
            let source_meta = fs::metadata(&source).map_err(|e| {
                tool_error(&msg!(
                    b"unable to open ",
                    source.as_os_str().as_bytes(),
                    b": ",
                    strerror(&e)
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
            let line = msg!(
                b"updating ",
                source.as_os_str().as_bytes(),
                b" => ",
                copy.as_os_str().as_bytes(),
                b"\n"
            );
            changes.print(&|| {
                let _ = std::io::stdout().write_all(&line);
            });
            changes.copy_file(&source, &source_meta, &copy)?;
        }
        if configure.chroot {
            make_directories(changes, &self.queue_dir.join("usr/lib/sasl2"), 0o755)?;
        }
        Ok(())
    }
}

impl Entry {
    fn apply(&self, changes: &mut dyn Changes) -> Result<()> {
        if self.directory && self.create && !changes.is_directory(&self.path) {
            changes.make_directory(&self.path, 0o755)?;
        }
        if self.recursive {
            let tree = changes
                .tree(&self.path)
                .map_err(|(at, e)| tool_io_error(b"chown: cannot access", &at, &e))?;
            for (found, directory) in tree {
                let mode = directory.then_some(self.mode);
                changes.set_ownership(&found, self.uid, self.gid, mode, false)?;
            }
            Ok(())
        } else {
            changes.set_ownership(&self.path, self.uid, self.gid, Some(self.mode), true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(entry("$config_directory/x:q:root:-:644").is_err());
        assert!(entry("$config_directory/x:f:$other:-:644").is_err());
        assert!(entry("$config_directory/x:f:root:-:64x").is_err());
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
}
