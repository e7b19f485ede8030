//! `-e destroy` done in-process, with postmulti-script's refusals, order
//! and words: the instance is taken out of the primary's
//! `multi_instance_directories`, then the directories Postfix made are
//! removed one `rmdir` at a time (never a recursive removal, never through
//! a symlink), and whatever will not go is reported, "please verify
//! contents and remove by hand", and left alone.
//!
//! Deregistering is the commit point; the removals after it are recorded
//! first in a journal beside the primary main.cf, so that a run killed
//! half-way is completed by the next life-cycle action
//! ([`finish_interrupted`]) instead of leaving an unregistered half.
//!
//! The journal is written atomically (a temporary file, synced and
//! renamed) and holds enough to verify it: the directories, what each was
//! (device and inode) when the destroy began, and a checksum of it all.
//! The next run acts on it only if it names a deregistered secondary whose
//! directories are still those it recorded and are its own (spec D4,
//! against the primary, the registered instances and Postfix's
//! directories); a journal naming a registered instance is what a destroy
//! killed before its commit leaves, and is dropped; anything else is one
//! warning, and the journal is set aside, never acted on.

use std::fs;
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::applied::Applied;
use super::digest::md5_hex;
use super::installation::Known;
use super::{Decline, Stop};
use crate::config::Params;
use crate::diag;
use crate::error::{Result, strerror};
use crate::instance::secondary::{self, SilentMainCf};
use crate::instance::{self, Instance};
use crate::lifecycle::changes::Changes;
use crate::lifecycle::checks::{StatusProbe, refuse_queued_mail};
use crate::lifecycle::confinement::Surroundings;
use crate::lifecycle::environment::Environment;
use crate::lifecycle::plan::Plan;
use crate::lifecycle::registry::{Alternate, update_instance_directories};
use crate::lifecycle::voice::gnu_quote;
use crate::lifecycle::voice::{script_fatal, script_warning};
use crate::maincf::{path, regular, split_list};
use crate::msg;

/// The queue sub-directories the script removes, in its order.
const QUEUE_SUBDIRS: [&str; 14] = [
    "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "maildrop",
    "pid", "private", "public", "saved", "trace",
];

/// The journal's name in the primary's configuration directory.
const JOURNAL: &[u8] = b"/.postmulti-destroy";

/// Where a journal that is not acted on is set aside.
const SET_ASIDE: &[u8] = b"/.postmulti-destroy.rejected";

/// A journal's first field: what it is, in which format.
const MAGIC: &[u8] = b"postmulti destroy journal 1";

/// A destroy decided on: what to remove, and how the script's `postfix
/// status` question is answered for the instance.
pub struct Destruction {
    removal: Removal,
    probe: StatusProbe,
}

/// What is left to remove once an instance is deregistered.
pub struct Removal {
    config_dir: Vec<u8>,
    queue_dir: Vec<u8>,
    data_dir: Vec<u8>,
    /// The instance's syslog_name (its postlog's name on stderr).
    syslog_name: Vec<u8>,
    /// What the configuration, queue and data directories were when the
    /// destroy was decided.
    found: [Found; 3],
}

/// What was at one of the instance's directories: the object (never
/// followed through a symbolic link), or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Object { device: u64, inode: u64 },
    Nothing,
}

impl Found {
    /// What is at `dir` now.
    fn at(dir: &[u8]) -> Found {
        match fs::symlink_metadata(path(dir)) {
            Ok(meta) => Found::Object {
                device: meta.dev(),
                inode: meta.ino(),
            },
            Err(_) => Found::Nothing,
        }
    }

    /// `<device>:<inode>` (as `stat -c %d:%i` prints it) or `-`.
    fn encode(self) -> Vec<u8> {
        match self {
            Found::Object { device, inode } => format!("{device}:{inode}").into_bytes(),
            Found::Nothing => b"-".to_vec(),
        }
    }

    fn decode(field: &[u8]) -> Option<Found> {
        if field == b"-" {
            return Some(Found::Nothing);
        }
        let (device, inode) = std::str::from_utf8(field).ok()?.split_once(':')?;
        Some(Found::Object {
            device: device.parse().ok()?,
            inode: inode.parse().ok()?,
        })
    }
}

/// What a destroy journal left by an earlier run calls for.
pub enum Journal {
    /// There is none.
    Absent,
    /// It names a registered instance: the destroy was killed before it
    /// deregistered it, nothing was removed, the journal is void.
    Uncommitted,
    /// The destroy was killed after it deregistered its instance: the
    /// removals are to be finished.
    Unfinished(Removal),
    /// Not a journal to act on: set aside, with one warning.
    Rejected(Rejection),
}

/// Why a journal is not acted on.
pub enum Rejection {
    /// It cannot be read (it is not a regular file, say).
    Unreadable(std::io::Error),
    /// It is not in the format this program writes.
    Malformed,
    /// Its checksum is not that of its content.
    ChecksumMismatch,
    /// One of the directories it names is not the instance's own (D4).
    NotTheInstances(Vec<u8>),
    /// One of the directories it names is not what it recorded.
    Replaced { param: &'static str, dir: Vec<u8> },
    /// A registered instance's directories, to check it against, cannot
    /// be read.
    Unverifiable(Vec<u8>),
}

impl Removal {
    /// The journal: each field NUL-terminated, the last one the MD5 of
    /// everything before it (hexadecimal), then a newline.
    fn encode(&self) -> Vec<u8> {
        let [config, queue, data] = self.found.map(Found::encode);
        let fields = [
            MAGIC,
            &self.config_dir,
            &self.queue_dir,
            &self.data_dir,
            &self.syslog_name,
            &config,
            &queue,
            &data,
        ];
        let mut journal: Vec<u8> = fields
            .iter()
            .flat_map(|f| f.iter().chain(b"\0"))
            .copied()
            .collect();
        let checksum = md5_hex(&journal);
        journal.extend(msg!(checksum, b"\n"));
        journal
    }

    fn decode(journal: &[u8]) -> std::result::Result<Removal, Rejection> {
        let body_end = journal
            .strip_suffix(b"\n")
            .and_then(|j| j.iter().rposition(|&b| b == 0))
            .ok_or(Rejection::Malformed)?
            + 1;
        let (body, checksum) = journal.split_at(body_end);
        let fields: Vec<&[u8]> = body[..body.len() - 1].split(|&b| b == 0).collect();
        let [
            magic,
            config_dir,
            queue_dir,
            data_dir,
            syslog_name,
            config,
            queue,
            data,
        ] = fields[..]
        else {
            return Err(Rejection::Malformed);
        };
        if magic != MAGIC {
            return Err(Rejection::Malformed);
        }
        if checksum.strip_suffix(b"\n") != Some(md5_hex(body).as_bytes()) {
            return Err(Rejection::ChecksumMismatch);
        }
        let found = |field| Found::decode(field).ok_or(Rejection::Malformed);
        Ok(Removal {
            config_dir: config_dir.to_vec(),
            queue_dir: queue_dir.to_vec(),
            data_dir: data_dir.to_vec(),
            syslog_name: syslog_name.to_vec(),
            found: [found(config)?, found(queue)?, found(data)?],
        })
    }

    /// The configuration directory of the instance destroyed.
    pub fn config_dir(&self) -> &[u8] {
        &self.config_dir
    }

    /// The instance as far as D4 is concerned.
    fn instance(&self) -> Instance {
        Instance {
            config_dir: self.config_dir.clone(),
            queue_dir: self.queue_dir.clone(),
            data_dir: self.data_dir.clone(),
            name: None,
            group: None,
            enabled: false,
            primary: false,
        }
    }

    /// The first directory that is no longer what the journal recorded
    /// (one removed since is as expected).
    fn replaced(&self) -> Option<Rejection> {
        let dirs = [
            ("config_directory", &self.config_dir),
            ("queue_directory", &self.queue_dir),
            ("data_directory", &self.data_dir),
        ];
        dirs.into_iter()
            .zip(self.found)
            .find(|((_, dir), recorded)| {
                let now = Found::at(dir);
                now != Found::Nothing && now != *recorded
            })
            .map(|((param, dir), _)| Rejection::Replaced {
                param,
                dir: dir.clone(),
            })
    }
}

impl Rejection {
    /// Why, in words.
    pub fn text(&self) -> Vec<u8> {
        match self {
            Rejection::Unreadable(err) => msg!(b"it cannot be read: ", strerror(err)),
            Rejection::Malformed => b"it is not in the format this postmulti writes".to_vec(),
            Rejection::ChecksumMismatch => b"its checksum does not match its content".to_vec(),
            Rejection::NotTheInstances(why) => why.clone(),
            Rejection::Replaced { param, dir } => {
                msg!(param, b"=", dir, b" is no longer the directory it recorded")
            }
            Rejection::Unverifiable(dir) => msg!(
                b"the directories of instance ",
                dir,
                b" cannot be read to check it against"
            ),
        }
    }
}

/// Decides to destroy the plan's target, or declines (an installation or
/// configuration whose outcome we do not reproduce exactly).  Called once
/// the script's check that the primary is initialised has passed.
pub fn prepare(
    params: &Params,
    known: &Known,
    plan: &Plan,
) -> std::result::Result<Destruction, Stop> {
    let target = &plan.target;
    let cf = SilentMainCf::read(&target.config_dir).ok_or(Decline::InstanceNotSilent)?;
    let removal = removal_if_postfix_runs(params, known, target, &cf)?;
    let expanded = |name| cf.expanded(name).unwrap_or_default();
    let probe = StatusProbe::quiet_instance(
        &removal.syslog_name,
        &expanded("syslog_facility"),
        &expanded("maillog_file"),
    );
    Ok(Destruction { removal, probe })
}

impl Destruction {
    /// The script's refusals (the instance still running), then D4 (its
    /// directories not its own) and D1 (queued mail); then deregisters the
    /// instance (the commit point) and removes its directories, journalled
    /// so that a killed run can be finished.
    pub fn carry_out(
        self,
        changes: &mut dyn Changes,
        params: &Params,
        plan: &Plan,
        env: &Environment,
    ) -> Result<()> {
        let target = &plan.target;
        let removal = self.removal;
        let (config_dir, queue_dir) = (&target.config_dir, &target.queue_dir);
        if changes.instance_is_running(params, config_dir, queue_dir, &self.probe, env) {
            let text = msg!(b"Instance '", target.config_dir, b"' is not stopped");
            return Err(script_fatal(params, &text));
        }
        plan.surroundings.confine(target)?;
        refuse_queued_mail(params, target)?;
        let journal = journal_path(params, JOURNAL);
        changes.write_journal(&journal, &removal.encode())?;
        let directories = plan.new_directories.as_deref().unwrap_or_default();
        let dir = &removal.config_dir;
        let deregistered =
            update_instance_directories(changes, params, directories, dir, Alternate::Forget);
        if deregistered.is_ok() {
            remove_files(changes, params, &removal, Gone::Reported);
        }
        changes.remove_journal(&journal);
        deregistered
    }
}

/// The instance's directories as postfix(1) would see them, if
/// postfix-script would agree to run the script's removal loops at all.
fn removal_if_postfix_runs(
    params: &Params,
    known: &Known,
    target: &Instance,
    cf: &SilentMainCf,
) -> std::result::Result<Removal, Decline> {
    let expanded = |name| cf.expanded(name).ok_or(Decline::InstanceNotSilent);
    let queue_dir = expanded("queue_directory")?;
    let data_dir = expanded("data_directory")?;
    let removal = Removal {
        found: [&target.config_dir, &queue_dir, &data_dir].map(|d| Found::at(d)),
        config_dir: target.config_dir.clone(),
        queue_dir,
        data_dir,
        syslog_name: expanded("syslog_name")?,
    };
    if !known.postfix_runs_quietly(params, cf) || !path(&target.config_dir).is_dir() {
        return Err(Decline::PostfixNotQuiet);
    }
    if !path(&removal.queue_dir).is_dir() {
        return Err(Decline::QueueDirectoryMissing);
    }
    if removal.queue_dir != target.queue_dir || removal.data_dir != target.data_dir {
        return Err(Decline::DirectoriesDiffer);
    }
    Ok(removal)
}

/// Completes a destroy that was killed after it deregistered its
/// instance; drops the journal of one killed before that; sets aside, with
/// one warning, a journal that is neither.
pub fn finish_interrupted(params: &Params) {
    let journal = journal_path(params, JOURNAL);
    match interrupted(params) {
        Journal::Absent => return,
        Journal::Uncommitted => {}
        Journal::Unfinished(removal) => {
            let mut applied = Applied::default();
            remove_files(&mut applied, params, &removal, Gone::Expected);
            applied.commit();
        }
        Journal::Rejected(why) => {
            let set_aside = journal_path(params, SET_ASIDE);
            let shown = |p: &Path| p.as_os_str().as_bytes().to_vec();
            let text = match fs::rename(&journal, &set_aside) {
                Ok(()) => msg!(
                    b"destroy journal ",
                    shown(&journal),
                    b" set aside as ",
                    shown(&set_aside),
                    b", not acted on: ",
                    why.text()
                ),
                Err(err) => msg!(
                    b"destroy journal ",
                    shown(&journal),
                    b" not acted on: ",
                    why.text(),
                    b" (and it cannot be set aside: ",
                    strerror(&err),
                    b")"
                ),
            };
            diag::warn(&text);
            return;
        }
    }
    let _ = fs::remove_file(&journal);
}

/// What the journal an earlier destroy left calls for, decided without
/// changing anything.
pub fn interrupted(params: &Params) -> Journal {
    let journal = journal_path(params, JOURNAL);
    let content = match regular::read(&journal) {
        Ok(content) => content,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Journal::Absent,
        Err(err) => return Journal::Rejected(Rejection::Unreadable(err)),
    };
    let removal = match Removal::decode(&content) {
        Ok(removal) => removal,
        Err(why) => return Journal::Rejected(why),
    };
    let registered: Vec<&[u8]> = split_list(&params.multi_instance_directories).collect();
    if registered.contains(&removal.config_dir.as_slice()) {
        return Journal::Uncommitted;
    }
    let mut others = vec![instance::primary(params)];
    for dir in registered {
        let Some((queue_dir, data_dir)) = secondary::directories(dir) else {
            return Journal::Rejected(Rejection::Unverifiable(dir.to_vec()));
        };
        others.push(Instance {
            config_dir: dir.to_vec(),
            queue_dir,
            data_dir,
            name: None,
            group: None,
            enabled: false,
            primary: false,
        });
    }
    let surroundings = Surroundings::new(params, others);
    if let Err(escape) = surroundings.escape(&removal.instance()) {
        return Journal::Rejected(Rejection::NotTheInstances(escape.text()));
    }
    match removal.replaced() {
        Some(why) => Journal::Rejected(why),
        None => Journal::Unfinished(removal),
    }
}

/// `<primary config_directory><name>`.
fn journal_path(params: &Params, name: &[u8]) -> std::path::PathBuf {
    path(&msg!(params.config_dir, name))
}

/// The script's removals after deregistering: the queue sub-directories
/// (named relative to the queue directory, as its loop runs there), the
/// data and queue directories, main.cf and master.cf, the configuration
/// directory.
fn remove_files(changes: &mut dyn Changes, params: &Params, removal: &Removal, gone: Gone) {
    let queue = path(&removal.queue_dir);
    let cwd = fs::canonicalize(&queue)
        .map(|p| p.into_os_string().into_vec())
        .unwrap_or_else(|_| removal.queue_dir.clone());
    for q in QUEUE_SUBDIRS {
        remove_directory(
            changes,
            params,
            &queue.join(q),
            q.as_bytes(),
            &msg!(cwd, b"/", q),
            &removal.syslog_name,
            gone,
        );
    }
    for dir in [&removal.data_dir, &removal.queue_dir] {
        let syslog_name = &removal.syslog_name;
        remove_directory(changes, params, &path(dir), dir, dir, syslog_name, gone);
    }
    for file in [b"/master.cf".as_slice(), b"/main.cf"] {
        let _ = changes.remove_file(&path(&msg!(removal.config_dir, file)));
    }
    let dir = &removal.config_dir;
    remove_directory(
        changes,
        params,
        &path(dir),
        dir,
        dir,
        &params.syslog_name,
        gone,
    );
}

/// What a directory already gone means to the removals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gone {
    /// The script's run: rmdir says so, and the script warns.
    Reported,
    /// Finishing a killed run, which removed it: nothing to say.
    Expected,
}

/// `rmdir -- <operand> || postlog -p warn ... <shown>: please verify
/// contents and remove by hand`, the postlog running with the
/// environment of the instance whose syslog name is `postlog_syslog_name`.
fn remove_directory(
    changes: &mut dyn Changes,
    params: &Params,
    dir: &Path,
    operand: &[u8],
    shown: &[u8],
    postlog_syslog_name: &[u8],
    gone: Gone,
) {
    let Err(err) = changes.remove_directory(dir) else {
        return;
    };
    if gone == Gone::Expected && err.kind() == std::io::ErrorKind::NotFound {
        return;
    }
    let line = msg!(
        b"rmdir: failed to remove ",
        gnu_quote(operand),
        b": ",
        strerror(&err),
        b"\n"
    );
    changes.print(&|| {
        let _ = std::io::stderr().write_all(&line);
        script_warning(
            params,
            postlog_syslog_name,
            &msg!(shown, b": please verify contents and remove by hand"),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removal() -> Removal {
        Removal {
            config_dir: b"/etc/postfix-a".to_vec(),
            queue_dir: b"/var/spool/postfix-a".to_vec(),
            data_dir: b"/var/lib/postfix-a".to_vec(),
            syslog_name: b"postfix-a".to_vec(),
            found: [
                Found::Object {
                    device: 2049,
                    inode: 131,
                },
                Found::Object {
                    device: 2050,
                    inode: 7,
                },
                Found::Nothing,
            ],
        }
    }

    fn rejection(journal: &[u8]) -> String {
        match Removal::decode(journal) {
            Ok(_) => "accepted".to_string(),
            Err(why) => String::from_utf8(why.text()).unwrap(),
        }
    }

    #[test]
    fn a_journal_reads_back_as_written() {
        let journal = removal().encode();
        let back = Removal::decode(&journal).ok().unwrap();
        assert_eq!(back.config_dir, b"/etc/postfix-a");
        assert_eq!(back.queue_dir, b"/var/spool/postfix-a");
        assert_eq!(back.data_dir, b"/var/lib/postfix-a");
        assert_eq!(back.syslog_name, b"postfix-a");
        assert_eq!(back.found, removal().found);
        // The layout a shell can write: NUL-terminated fields, the MD5.
        let body = b"postmulti destroy journal 1\x00/etc/postfix-a\x00/var/spool/postfix-a\x00\
            /var/lib/postfix-a\x00postfix-a\x002049:131\x002050:7\x00-\x00";
        assert_eq!(journal, msg!(body, md5_hex(body), b"\n"));
    }

    #[test]
    fn a_forged_truncated_or_altered_journal_is_rejected() {
        let forged = b"/etc/postfix\0/var/spool/postfix\0/var/lib/postfix\0postfix\0";
        let format = "it is not in the format this postmulti writes";
        assert_eq!(rejection(forged), format);
        let journal = removal().encode();
        assert_eq!(rejection(&journal[..journal.len() - 1]), format);
        assert_eq!(rejection(&journal[..40]), format);
        let altered = String::from_utf8(journal.clone())
            .unwrap()
            .replace("postfix-a\0/var/lib", "postfix\0/var/lib");
        assert_eq!(
            rejection(altered.as_bytes()),
            "its checksum does not match its content"
        );
        let unknown = String::from_utf8(journal)
            .unwrap()
            .replace("2049:131", "2049:x")
            .into_bytes();
        let checksum_at = unknown.len() - 33;
        let resummed = msg!(
            &unknown[..checksum_at],
            md5_hex(&unknown[..checksum_at]),
            b"\n"
        );
        assert_eq!(rejection(&resummed), format);
    }
}
