//! Life-cycle actions done in-process, with the editor and postconf's
//! write protocol, where that leaves exactly what postmulti-script would:
//! `init` always; every other action only when the script's queries of
//! the primary main.cf (`postconf -h`, `-hx`) would print nothing, and
//! create, import and destroy only under their own further conditions.
//! Otherwise the action is declined, with a typed reason, and the script
//! does it.

mod applied;
mod create;
mod destroy;
mod digest;
mod files;
mod installation;
mod set_permissions;
mod simple;
mod undo;

pub use applied::Applied;
pub use destroy::{
    Journal, finish_interrupted as finish_interrupted_destroy, interrupted as interrupted_destroy,
};

use std::path::PathBuf;

use super::changes::Changes;
use super::checks;
use super::environment::Environment;
use super::plan::Plan;
use crate::cli::Action;
use crate::config::Params;
use crate::error::{Error, Result};
use crate::instance::secondary::{self, SilentMainCf};
use installation::Known;

/// Who does an action.
pub enum Route {
    /// We do, in-process, as this installation's scripts would: the work is
    /// decided, nothing is changed yet.
    Native(Work, Known),
    /// postmulti-script does; nothing was changed.
    Script(Decline),
}

/// An action decided for the in-process path.
pub enum Work {
    Init,
    SetEnable(bool),
    Assign,
    Deport,
    Create(Box<create::Creation>),
    Destroy(Box<destroy::Destruction>),
}

/// Why an action is left to postmulti-script: each is a case whose exact
/// outcome (output, log, files) we do not reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decline {
    /// Nothing is known of the installed Postfix (no postconf to ask).
    UnknownInstallation,
    /// A Postfix release whose scripts and programs we have not verified.
    UnverifiedRelease(Vec<u8>),
    /// A script of the postfix package that differs from the package's.
    ModifiedScript(PathBuf),
    /// A script that is not one of a verified release.
    UnverifiedScript(PathBuf),
    /// A distribution hook that post-install runs, unlike those we know.
    UnknownHook(PathBuf),
    /// One of the script's postconf runs would print a warning about the
    /// primary's main.cf or master.cf.
    PrimaryNotSilent,
    /// ... or about the instance's.
    InstanceNotSilent,
    /// A file the script copies or edits cannot be read: the script's
    /// tools say why.
    Unreadable(PathBuf),
    /// postconf would refuse one of the script's edits.
    EditRefused,
    /// postfix(1) would print something first (a compatibility note, a
    /// missing directory or program).
    PostfixNotQuiet,
    /// post-install would rewrite the install parameters into main.cf.
    InstallParametersRewritten,
    /// The queue directory postfix(1) changes into is missing.
    QueueDirectoryMissing,
    /// The instance's main.cf names other directories than postmulti
    /// loaded.
    DirectoriesDiffer,
    /// An entry of postfix-files that we do not model.
    UnmodelledPostfixFiles(Vec<u8>),
    /// A path of the instance is a symbolic link.
    SymlinkedPath(PathBuf),
    /// Debian's configure-instance.sh would do more than copy its /etc
    /// files.
    DebianConfiguration(&'static str),
}

/// Why an in-process action stops before changing anything: declined,
/// or failed (an error the script would report the same way).
enum Stop {
    Declined(Decline),
    Failed(Error),
}

impl From<Error> for Stop {
    fn from(err: Error) -> Stop {
        Stop::Failed(err)
    }
}

impl From<Decline> for Stop {
    fn from(reason: Decline) -> Stop {
        Stop::Declined(reason)
    }
}

/// Decides who does `plan`: in-process where that is exact, else the
/// script.  Refusals both would make before that decision are errors.
pub fn decide(params: &Params, plan: &Plan) -> Result<Route> {
    let decided = (|| -> std::result::Result<(Work, Known), Stop> {
        if let Action::Init = plan.action {
            return Ok((Work::Init, Known::recognise(params)?));
        }
        // The script's first check for every other action; it reads the
        // primary's main.cf as postconf, which must have nothing to say
        // (and must not wait on a FIFO for master.cf).
        secondary::refuse_special_files(&params.config_dir)?;
        let primary = SilentMainCf::read(&params.config_dir).ok_or(Decline::PrimaryNotSilent)?;
        let (Some(wrapper), Some(enable)) = (
            primary.expanded("multi_instance_wrapper"),
            primary.expanded("multi_instance_enable"),
        ) else {
            return Err(Decline::PrimaryNotSilent.into());
        };
        let known = Known::recognise(params)?;
        checks::check_initialised(params, &wrapper, &enable)?;
        let work = match &plan.action {
            Action::Create { .. } | Action::Import { .. } => {
                Work::Create(Box::new(create::prepare(params, &known, &primary, plan)?))
            }
            Action::Destroy => Work::Destroy(Box::new(destroy::prepare(params, &known, plan)?)),
            Action::Enable => Work::SetEnable(true),
            Action::Disable => Work::SetEnable(false),
            Action::Assign(_) => Work::Assign,
            Action::Deport => Work::Deport,
            Action::Init => Work::Init,
        };
        Ok((work, known))
    })();
    match decided {
        Ok((work, known)) => Ok(Route::Native(work, known)),
        Err(Stop::Declined(reason)) => Ok(Route::Script(reason)),
        Err(Stop::Failed(err)) => Err(err),
    }
}

impl Work {
    /// Does the decided work through `changes` (made, or previewed).
    /// `env` is what the script would have been given: the Postfix
    /// commands we run get it too.
    pub fn carry_out(
        self,
        changes: &mut dyn Changes,
        params: &Params,
        plan: &Plan,
        env: &Environment,
    ) -> Result<()> {
        match self {
            Work::Init => simple::init(changes, params),
            Work::SetEnable(enable) => simple::set_enable(changes, plan, enable),
            Work::Assign => simple::assign(changes, plan),
            Work::Deport => simple::deport(changes, params, plan, env),
            Work::Create(creation) => creation.carry_out(changes, params, plan),
            Work::Destroy(destruction) => destruction.carry_out(changes, params, plan, env),
        }
    }
}

impl std::fmt::Display for Decline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Decline::UnknownInstallation => f.write_str("the installed Postfix is not known"),
            Decline::UnverifiedRelease(version) => write!(
                f,
                "Postfix {} is not a release whose scripts we reproduce",
                String::from_utf8_lossy(version)
            ),
            Decline::ModifiedScript(file) => {
                write!(f, "{} differs from the package's", file.display())
            }
            Decline::UnverifiedScript(file) => {
                write!(f, "{} is not one of a release we verified", file.display())
            }
            Decline::UnknownHook(file) => {
                write!(f, "{} is not a flavour we know", file.display())
            }
            Decline::PrimaryNotSilent => {
                f.write_str("postconf would warn about the primary main.cf or master.cf")
            }
            Decline::InstanceNotSilent => {
                f.write_str("postconf would warn about the instance's main.cf or master.cf")
            }
            Decline::Unreadable(file) => write!(f, "cannot read {}", file.display()),
            Decline::EditRefused => f.write_str("postconf would refuse one of the edits"),
            Decline::PostfixNotQuiet => f.write_str(
                "postfix(1) would print a note first (compatibility level, missing directory or program)",
            ),
            Decline::InstallParametersRewritten => {
                f.write_str("post-install would rewrite the installation parameters into main.cf")
            }
            Decline::QueueDirectoryMissing => f.write_str("the queue directory is missing"),
            Decline::DirectoriesDiffer => f.write_str(
                "the instance's main.cf names other directories than the instance list",
            ),
            Decline::UnmodelledPostfixFiles(entry) => write!(
                f,
                "a postfix-files entry we do not model: {}",
                String::from_utf8_lossy(entry)
            ),
            Decline::SymlinkedPath(file) => write!(f, "{} is a symbolic link", file.display()),
            Decline::DebianConfiguration(why) => {
                write!(f, "configure-instance.sh would do more than copy files: {why}")
            }
        }
    }
}
