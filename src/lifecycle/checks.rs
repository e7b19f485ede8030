//! The checks both ways of doing an action make, in the words of the
//! script that makes them: the primary must be initialised, an instance
//! must be stopped, and (spec D1) a destroyed instance's queue must hold
//! no mail.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use super::environment::Environment;
use super::voice::script_fatal;
use crate::cli::Action;
use crate::config::Params;
use crate::diag::{self, Level};
use crate::error::{Result, strerror};
use crate::instance::status::{self, Master, MasterTest};
use crate::instance::{Instance, queue};
use crate::maincf::{main_cf_path, path};
use crate::msg;

/// The script's first check for every action but init: `postmulti -e
/// init` must have set the wrapper and `multi_instance_enable = yes`
/// (exactly `yes`: the script compares case-sensitively).  The values are
/// the two as `postconf -hx` prints them.
pub fn check_initialised(params: &Params, wrapper: &[u8], enable: &[u8]) -> Result<()> {
    if wrapper.is_empty() {
        return Err(script_fatal(
            params,
            b"multi_instance_wrapper is empty, run 'postmulti -e init' first.",
        ));
    }
    if enable != b"yes" {
        return Err(script_fatal(
            params,
            b"multi_instance_enable!=yes, run 'postmulti -e init' first.",
        ));
    }
    Ok(())
}

/// Whether the script's refusals of `destroy` (not initialised, no
/// main.cf, still running) would all pass.
pub fn script_would_proceed_with_destroy(params: &Params, target: &Instance) -> bool {
    script_finds_initialised(params)
        && !target.config_dir.is_empty()
        && is_regular_file(&main_cf_path(&target.config_dir))
        && status::master(&path(&target.queue_dir)) == Master::Stopped
}

/// Whether the script's refusals of `create` and `import` (not
/// initialised; an import's missing main.cf or master.cf; a create's
/// missing prototypes, where it does not adopt the files it finds) would
/// all pass.
pub fn script_would_proceed_with_create(
    params: &Params,
    action: &Action,
    target: &Instance,
) -> bool {
    let file = |dir: &[u8], name: &[u8]| is_regular_file(&path(&msg!(dir, b"/", name)));
    let dir = &target.config_dir;
    let adopted = file(dir, b"main.cf") && file(dir, b"master.cf");
    let meta = &params.meta_directory;
    let prototypes = || file(meta, b"main.cf.proto") && file(meta, b"master.cf.proto");
    script_finds_initialised(params)
        && !dir.is_empty()
        && (adopted || (matches!(action, Action::Create { .. }) && prototypes()))
}

/// The script's first check, as [`check_initialised`] makes it.
fn script_finds_initialised(params: &Params) -> bool {
    let wrapper = params.eval("multi_instance_wrapper").unwrap_or_default();
    let enable = params.eval("multi_instance_enable").unwrap_or_default();
    !wrapper.is_empty() && enable == b"yes"
}

/// How the script's `postfix -c <dir> status` is answered for an
/// instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusProbe {
    /// postfix(1) and postfix-script are known to run without a word for
    /// the instance, and postlog(1) sends postfix-script's records to
    /// syslog under `tag` (`<syslog_name>/postfix-script`) with
    /// `facility`: when the pid file tells, the answer and the record are
    /// made here, saving the nine processes of the real call.
    Known { tag: Vec<u8>, facility: libc::c_int },
    /// Run `postfix -c <dir> status` itself.
    AskPostfix,
}

impl StatusProbe {
    /// The probe for an instance that postfix(1) runs quietly for, whose
    /// main.cf gives `syslog_name`, `syslog_facility` and `maillog_file`:
    /// [`StatusProbe::AskPostfix`] where postlog would write to a file or
    /// refuse the facility.
    pub fn quiet_instance(
        syslog_name: &[u8],
        syslog_facility: &[u8],
        maillog_file: &[u8],
    ) -> StatusProbe {
        match diag::facility_named(syslog_facility) {
            Some(facility) if maillog_file.is_empty() => StatusProbe::Known {
                tag: msg!(syslog_name, b"/postfix-script"),
                facility,
            },
            _ => StatusProbe::AskPostfix,
        }
    }
}

/// `postfix -c <dir> status`, as the script asks it before `deport` and
/// `destroy`: whether the instance runs, and postfix-script's record in
/// the log.  Answered here when `probe` allows and master -t would find
/// no master (it refuses to run for anyone but root); otherwise by
/// running the command quietly.
pub fn postfix_status_says_running(
    params: &Params,
    config_dir: &[u8],
    queue_dir: &[u8],
    probe: &StatusProbe,
    env: &Environment,
) -> bool {
    if let StatusProbe::Known { tag, facility } = probe {
        let not_running = nix::unistd::getuid().is_root()
            && status::master_test(&path(queue_dir)) == MasterTest::NotRunning;
        if not_running {
            let text = b"the Postfix mail system is not running";
            diag::postlog_to_syslog(tag, *facility, Level::Info, text);
            return false;
        }
    }
    // argv[0] as the script's PATH lookup gives it.
    Command::new(params.command_path("postfix"))
        .arg0("postfix")
        .arg("-c")
        .arg(OsStr::from_bytes(config_dir))
        .arg("status")
        .env_clear()
        .envs(
            env.0
                .iter()
                .map(|(n, v)| (OsStr::from_bytes(n), OsStr::from_bytes(v))),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether `path` is a regular file (following symlinks, as `test -f`).
pub fn is_regular_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Spec D1's refusal of `target`, if one of its queues holds a message
/// (or cannot be read): the script's fatal error, status 1.
pub fn refuse_queued_mail(params: &Params, target: &Instance) -> Result<()> {
    match queued_mail_refusal(target) {
        Some(refusal) => Err(script_fatal(params, &refusal)),
        None => Ok(()),
    }
}

/// The text of spec D1's refusal of `target`, if it is refused.
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
        Err((at, err)) => Some(msg!(
            b"open directory ",
            at.as_os_str().as_bytes(),
            b": ",
            strerror(&err)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_record_is_made_here_only_where_postlog_writes_to_syslog() {
        assert_eq!(
            StatusProbe::quiet_instance(b"postfix-a", b"local3", b""),
            StatusProbe::Known {
                tag: b"postfix-a/postfix-script".to_vec(),
                facility: libc::LOG_LOCAL3,
            }
        );
        let to_file = StatusProbe::quiet_instance(b"postfix-a", b"mail", b"/var/log/a.log");
        assert_eq!(to_file, StatusProbe::AskPostfix);
        let refused = StatusProbe::quiet_instance(b"postfix-a", b"bogus", b"");
        assert_eq!(refused, StatusProbe::AskPostfix);
    }
}
