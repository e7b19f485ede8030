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

use std::fs;
use std::io::{IsTerminal, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use anyhow::Result;

use crate::config::{self, Settings, path};
use crate::fatal::{self, Fatal};
use crate::instances::Instance;
use crate::maincf::MainCf;
use crate::postinstall::{Installation, gnu_quote};
use crate::script::{self, Environment};
use crate::secondary::SilentMainCf;
use crate::{diag, direct, msg, queue};

/// The queue sub-directories the script removes, in its order.
const QUEUE_SUBDIRS: [&str; 14] = [
    "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "maildrop",
    "pid", "private", "public", "saved", "trace",
];

/// The journal's name in the primary's configuration directory.
const JOURNAL: &[u8] = b"/.postmulti-destroy";

/// What is left to remove once an instance is deregistered.
struct Removal {
    config_dir: Vec<u8>,
    queue_dir: Vec<u8>,
    data_dir: Vec<u8>,
    /// The instance's syslog_name (its postlog's name on stderr).
    syslog_name: Vec<u8>,
}

impl Removal {
    fn encode(&self) -> Vec<u8> {
        let fields = [
            &self.config_dir,
            &self.queue_dir,
            &self.data_dir,
            &self.syslog_name,
        ];
        fields
            .iter()
            .flat_map(|f| f.iter().chain(b"\0"))
            .copied()
            .collect()
    }

    fn decode(bytes: &[u8]) -> Option<Removal> {
        let fields: Vec<&[u8]> = bytes.strip_suffix(b"\0")?.split(|&b| b == 0).collect();
        let [config_dir, queue_dir, data_dir, syslog_name] = fields[..] else {
            return None;
        };
        Some(Removal {
            config_dir: config_dir.to_vec(),
            queue_dir: queue_dir.to_vec(),
            data_dir: data_dir.to_vec(),
            syslog_name: syslog_name.to_vec(),
        })
    }
}

/// Destroys `target`, or returns `None` if the script must (an
/// installation or configuration whose outcome we do not reproduce
/// exactly).  Called once the script's check that the primary is
/// initialised has passed; refusals are the script's, plus D1 (queued
/// mail).
pub fn run(settings: &Settings, target: &Instance, env: &Environment) -> Result<Option<u8>> {
    if Installation::verified(settings).is_none() {
        return Ok(None);
    }
    let dir = &target.config_dir;
    let Some(cf) = SilentMainCf::read(dir) else {
        return Ok(None);
    };
    let Some(removal) = removal_if_postfix_runs(settings, target, &cf) else {
        return Ok(None);
    };
    if script::postfix_status_says_running(settings, dir, env) {
        let text = msg!(b"Instance '", dir, b"' is not stopped");
        return Err(script::script_fatal(settings, &text));
    }
    refuse_queued_mail(settings, target)?;

    let journal = path(&msg!(settings.config_dir, JOURNAL));
    write_journal(&journal, &removal.encode())?;
    let directories = env.get(b"multi_instance_directories").unwrap_or_default();
    if let Err(err) = direct::update_instance_directories(settings, directories, dir, false) {
        let _ = fs::remove_file(&journal);
        return Err(err);
    }
    remove_files(settings, &removal);
    let _ = fs::remove_file(&journal);
    Ok(Some(0))
}

/// The instance's directories as postfix(1) would see them, if
/// postfix-script would agree to run the script's removal loops at all.
fn removal_if_postfix_runs(
    settings: &Settings,
    target: &Instance,
    cf: &SilentMainCf,
) -> Option<Removal> {
    let runs = crate::postinstall::postfix_runs_quietly(settings, cf)
        && cf
            .expanded("queue_directory")
            .is_some_and(|q| path(&q).is_dir())
        && path(&target.config_dir).is_dir();
    let removal = Removal {
        config_dir: target.config_dir.clone(),
        queue_dir: cf.expanded("queue_directory")?,
        data_dir: cf.expanded("data_directory")?,
        syslog_name: cf.expanded("syslog_name")?,
    };
    (runs && removal.queue_dir == target.queue_dir && removal.data_dir == target.data_dir)
        .then_some(removal)
}

/// Spec D1: no destroy while a queue holds a message.
fn refuse_queued_mail(settings: &Settings, target: &Instance) -> Result<()> {
    match queued_mail_refusal(target) {
        Some(refusal) => Err(script::script_fatal(settings, &refusal)),
        None => Ok(()),
    }
}

/// Spec D1's refusal of `target`, if one of its queues holds a message
/// (or cannot be read).
pub fn queued_mail_refusal(target: &Instance) -> Option<Vec<u8>> {
    match queue::first_nonempty_queue(&path(&target.queue_dir)) {
        Ok(None) => None,
        Ok(Some(queue)) => Some(msg!(
            b"Instance '",
            target.config_dir,
            b"' ",
            queue,
            b" queue is not empty"
        )),
        Err((at, err)) => {
            Some(Fatal::io(msg!(b"open directory ", at.as_os_str().as_bytes()), &err).0)
        }
    }
}

fn write_journal(journal: &Path, content: &[u8]) -> Result<()> {
    let fail = |e: std::io::Error| Fatal::io(msg!(b"write ", journal.as_os_str().as_bytes()), &e);
    let mut file = fs::File::create(journal).map_err(fail)?;
    file.write_all(content).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    Ok(())
}

/// Completes a destroy that was killed after it deregistered its instance
/// (a journal is left and the instance is no longer listed); forgets one
/// killed before that.
pub fn finish_interrupted(settings: &Settings) {
    let journal = path(&msg!(settings.config_dir, JOURNAL));
    let Ok(bytes) = fs::read(&journal) else {
        return;
    };
    if let Some(removal) = Removal::decode(&bytes) {
        let primary = fs::read(config::main_cf_path(&settings.config_dir)).unwrap_or_default();
        let listed = MainCf::parse(&primary, Path::new("main.cf"), &[], &mut |_| {})
            .ok()
            .and_then(|cf| cf.get(b"multi_instance_directories").map(<[u8]>::to_vec))
            .is_some_and(|dirs| config::split_list(&dirs).any(|d| d == removal.config_dir));
        if !listed {
            remove_files(settings, &removal);
        }
    }
    let _ = fs::remove_file(&journal);
}

/// The script's removals after deregistering: the queue sub-directories
/// (named relative to the queue directory, as its loop runs there), the
/// data and queue directories, main.cf and master.cf, the configuration
/// directory.
fn remove_files(settings: &Settings, removal: &Removal) {
    let queue = path(&removal.queue_dir);
    let cwd = fs::canonicalize(&queue)
        .map(|p| p.into_os_string().into_vec())
        .unwrap_or_else(|_| removal.queue_dir.clone());
    let instance_postlog = msg!(removal.syslog_name, b"/postlog");
    for q in QUEUE_SUBDIRS {
        remove_directory(
            settings,
            &queue.join(q),
            q.as_bytes(),
            &msg!(cwd, b"/", q),
            &instance_postlog,
        );
    }
    for dir in [&removal.data_dir, &removal.queue_dir] {
        remove_directory(settings, &path(dir), dir, dir, &instance_postlog);
    }
    for file in [b"/master.cf".as_slice(), b"/main.cf"] {
        let _ = fs::remove_file(path(&msg!(removal.config_dir, file)));
    }
    let primary_postlog = msg!(settings.syslog_name, b"/postlog");
    let dir = &removal.config_dir;
    remove_directory(settings, &path(dir), dir, dir, &primary_postlog);
}

/// `rmdir -- <operand> || postlog -p warn ... <shown>: please verify
/// contents and remove by hand`.
fn remove_directory(
    settings: &Settings,
    dir: &Path,
    operand: &[u8],
    shown: &[u8],
    postlog_name: &[u8],
) {
    let Err(err) = fs::remove_dir(dir) else {
        return;
    };
    let line = msg!(
        b"rmdir: failed to remove ",
        gnu_quote(operand),
        b": ",
        fatal::strerror(&err),
        b"\n"
    );
    let _ = std::io::stderr().write_all(&line);
    let tag = msg!(settings.syslog_name, b"/postmulti-script");
    let stderr_name = if std::io::stderr().is_terminal() {
        tag.clone()
    } else {
        postlog_name.to_vec()
    };
    diag::log_as(
        &tag,
        &stderr_name,
        diag::Level::Warning,
        &msg!(shown, b": please verify contents and remove by hand"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_round_trip() {
        let removal = Removal {
            config_dir: b"/etc/postfix-a".to_vec(),
            queue_dir: b"/var/spool/postfix-a".to_vec(),
            data_dir: b"/var/lib/postfix-a".to_vec(),
            syslog_name: b"postfix-a".to_vec(),
        };
        let back = Removal::decode(&removal.encode()).unwrap();
        assert_eq!(back.config_dir, removal.config_dir);
        assert_eq!(back.syslog_name, removal.syslog_name);
        assert!(Removal::decode(b"/etc/postfix-a\0").is_none());
    }
}
