//! Life-cycle mode (`-e action`): the plan (what the real postmulti decides
//! in C), then the action, done in-process where that leaves exactly what
//! postmulti-script would (`native`), else handed over to the script with
//! the environment it expects (`script`).
//!
//! Within this module, `native` and `script` may use the shared parts
//! (`plan`, `checks`, `registry`, `postconf`, `voice`, `lock`), never the
//! reverse; only [`perform`] chooses between them.
//!
//! Two deliberate differences: `-e destroy` refuses an instance whose
//! queue still holds mail (spec D1), and create, import and destroy refuse
//! an instance whose directories are not its own (D4, `confinement`), each
//! after every refusal the real one makes and before anything is changed;
//! D4 before D1, which looks into the directories D4 vouches for.

#![forbid(unsafe_code)]

mod changes;
mod checks;
mod confinement;
mod environment;
pub mod lock;
mod native;
mod plan;
mod postconf;
mod preview;
mod registry;
mod rollback;
mod script;
mod voice;

use crate::cli::{Action, Selection};
use crate::config::Params;
use crate::diag;
use crate::error::Result;
use crate::instance::Claims;
use native::{Journal, Route};
use plan::{Plan, Planned, Unchanged};

/// How `-e action` is run: the long options that change it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `-v`: one line says who does the action and why.
    pub verbose: bool,
    /// `--dry-run`: every check, nothing changed, the changes shown.
    pub dry_run: bool,
    /// `--exist-ok`: an instance registered as requested is no error.
    pub exist_ok: bool,
}

/// Runs `-e action`; the exit status.
pub fn perform(
    params: &Params,
    claims: Claims,
    selection: &Selection,
    action: &Action,
    options: Options,
) -> Result<u8> {
    let name = action.name();
    if options.dry_run {
        match native::interrupted_destroy(params) {
            Journal::Unfinished(removal) => {
                let dir = String::from_utf8_lossy(removal.config_dir());
                println!("first: finish the interrupted destroy of {dir}");
            }
            Journal::Rejected(why) => {
                let why = String::from_utf8_lossy(&why.text()).into_owned();
                println!("first: set aside the destroy journal, not acted on: {why}");
            }
            Journal::Absent | Journal::Uncommitted => {}
        }
    } else {
        native::finish_interrupted_destroy(params);
    }
    let plan = match Plan::make(params, claims, selection, action, options.exist_ok)? {
        Planned::Act(plan) => plan,
        Planned::NothingToDo(why) => {
            let text = match why {
                Unchanged::SameNames => format!("-e {name}: the names are already as requested"),
                Unchanged::AlreadyRegistered => {
                    format!("-e {name}: the instance is already registered as requested")
                }
            };
            if options.dry_run {
                preview::print_nothing_to_do(&text);
            } else if options.verbose && why == Unchanged::AlreadyRegistered {
                diag::info(text.as_bytes());
            }
            return Ok(0);
        }
    };
    let env = environment::environment(params, &plan)?;
    let reason = match native::decide(params, &plan)? {
        Route::Native(work, known) => {
            let route = format!("-e {name}: in-process, as {}", known.label);
            if options.verbose {
                diag::info(route.as_bytes());
            }
            // D4 after the refusals `decide` made; destroy's come in its
            // work, after the instance is found stopped.
            if matches!(action, Action::Create { .. } | Action::Import { .. }) {
                plan.surroundings.confine(&plan.target)?;
            }
            if options.dry_run {
                let mut preview = preview::Preview::default();
                work.carry_out(&mut preview, params, &plan, &env)?;
                preview.print(&route);
                return Ok(0);
            }
            let mut applied = native::Applied::default();
            work.carry_out(&mut applied, params, &plan, &env)?;
            applied.commit();
            return Ok(0);
        }
        Route::Script(reason) => reason,
    };
    let route = format!("-e {name}: postmulti-script, because {reason}");
    if options.verbose {
        diag::info(route.as_bytes());
    }
    match action {
        Action::Create { .. } | Action::Import { .. }
            if checks::script_would_proceed_with_create(params, action, &plan.target) =>
        {
            plan.surroundings.confine(&plan.target)?;
        }
        Action::Destroy if checks::script_would_proceed_with_destroy(params, &plan.target) => {
            plan.surroundings.confine(&plan.target)?;
            refuse_destroy_of_queued_mail(params, &plan, &env, options.dry_run)?;
        }
        _ => {}
    }
    if options.dry_run {
        preview::print_handover(&route, params, &plan, &env);
        return Ok(0);
    }
    script::run(params, &plan, &env)
}

/// Spec D1 on the script's path: the script asks `postfix status` before
/// the point where the refusal comes, and that leaves a "not running"
/// record in the log; so does the refusal.
fn refuse_destroy_of_queued_mail(
    params: &Params,
    plan: &Plan,
    env: &environment::Environment,
    dry_run: bool,
) -> Result<()> {
    let Some(refusal) = checks::queued_mail_refusal(&plan.target) else {
        return Ok(());
    };
    if !dry_run {
        let target = &plan.target;
        let probe = checks::StatusProbe::AskPostfix;
        checks::postfix_status_says_running(
            params,
            &target.config_dir,
            &target.queue_dir,
            &probe,
            env,
        );
    }
    Err(voice::script_fatal(params, &refusal))
}
