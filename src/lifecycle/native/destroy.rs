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
use std::io::Write;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use super::applied::Applied;
use super::installation::Known;
use super::{Decline, Stop};
use crate::config::Params;
use crate::error::{Result, strerror};
use crate::instance::Instance;
use crate::instance::secondary::SilentMainCf;
use crate::lifecycle::changes::Changes;
use crate::lifecycle::checks::refuse_queued_mail;
use crate::lifecycle::environment::Environment;
use crate::lifecycle::plan::Plan;
use crate::lifecycle::registry::{Alternate, update_instance_directories};
use crate::lifecycle::voice::gnu_quote;
use crate::lifecycle::voice::{script_fatal, script_warning};
use crate::maincf::{MainCf, main_cf_path, path, split_list};
use crate::msg;

/// The queue sub-directories the script removes, in its order.
const QUEUE_SUBDIRS: [&str; 14] = [
    "active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "maildrop",
    "pid", "private", "public", "saved", "trace",
];

/// The journal's name in the primary's configuration directory.
const JOURNAL: &[u8] = b"/.postmulti-destroy";

/// What is left to remove once an instance is deregistered.
pub struct Removal {
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

/// Decides to destroy the plan's target, or declines (an installation or
/// configuration whose outcome we do not reproduce exactly).  Called once
/// the script's check that the primary is initialised has passed.
pub fn prepare(params: &Params, known: &Known, plan: &Plan) -> std::result::Result<Removal, Stop> {
    let target = &plan.target;
    let cf = SilentMainCf::read(&target.config_dir).ok_or(Decline::InstanceNotSilent)?;
    Ok(removal_if_postfix_runs(params, known, target, &cf)?)
}

impl Removal {
    /// The script's refusals (the instance still running), then D4 (its
    /// directories not its own) and D1 (queued mail); then deregisters the instance (the commit point) and
    /// removes its directories, journalled so that a killed run can be
    /// finished.
    pub fn carry_out(
        self,
        changes: &mut dyn Changes,
        params: &Params,
        plan: &Plan,
        env: &Environment,
    ) -> Result<()> {
        let target = &plan.target;
        if changes.instance_is_running(params, &target.config_dir, &target.queue_dir, env) {
            let text = msg!(b"Instance '", target.config_dir, b"' is not stopped");
            return Err(script_fatal(params, &text));
        }
        plan.surroundings.confine(target)?;
        refuse_queued_mail(params, target)?;
        let journal = path(&msg!(params.config_dir, JOURNAL));
        changes.write_journal(&journal, &self.encode())?;
        let directories = plan.new_directories.as_deref().unwrap_or_default();
        let dir = &self.config_dir;
        let deregistered =
            update_instance_directories(changes, params, directories, dir, Alternate::Forget);
        if deregistered.is_ok() {
            remove_files(changes, params, &self);
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
    let removal = Removal {
        config_dir: target.config_dir.clone(),
        queue_dir: expanded("queue_directory")?,
        data_dir: expanded("data_directory")?,
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

/// Completes a destroy that was killed after it deregistered its instance
/// (a journal is left and the instance is no longer listed); forgets one
/// killed before that.
pub fn finish_interrupted(params: &Params) {
    let journal = path(&msg!(params.config_dir, JOURNAL));
    if let Some(removal) = interrupted_removal(params) {
        let mut applied = Applied::default();
        remove_files(&mut applied, params, &removal);
        applied.commit();
    }
    let _ = fs::remove_file(&journal);
}

/// The configuration directory of an instance whose destroy was killed
/// after it deregistered the instance, if there is one.
pub fn interrupted(params: &Params) -> Option<Vec<u8>> {
    interrupted_removal(params).map(|removal| removal.config_dir)
}

fn interrupted_removal(params: &Params) -> Option<Removal> {
    let journal = path(&msg!(params.config_dir, JOURNAL));
    let removal = Removal::decode(&fs::read(&journal).ok()?)?;
    let primary = fs::read(main_cf_path(&params.config_dir)).unwrap_or_default();
    let listed = MainCf::parse(&primary, Path::new("main.cf"), &[], &mut |_| {})
        .ok()
        .and_then(|cf| cf.get(b"multi_instance_directories").map(<[u8]>::to_vec))
        .is_some_and(|dirs| split_list(&dirs).any(|d| d == removal.config_dir));
    (!listed).then_some(removal)
}

/// The script's removals after deregistering: the queue sub-directories
/// (named relative to the queue directory, as its loop runs there), the
/// data and queue directories, main.cf and master.cf, the configuration
/// directory.
fn remove_files(changes: &mut dyn Changes, params: &Params, removal: &Removal) {
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
        );
    }
    for dir in [&removal.data_dir, &removal.queue_dir] {
        remove_directory(changes, params, &path(dir), dir, dir, &removal.syslog_name);
    }
    for file in [b"/master.cf".as_slice(), b"/main.cf"] {
        let _ = changes.remove_file(&path(&msg!(removal.config_dir, file)));
    }
    let dir = &removal.config_dir;
    remove_directory(changes, params, &path(dir), dir, dir, &params.syslog_name);
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
) {
    let Err(err) = changes.remove_directory(dir) else {
        return;
    };
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
