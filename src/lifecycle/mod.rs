//! Life-cycle mode (`-e action`): the plan (what the real postmulti decides
//! in C), then the action, done in-process where that leaves exactly what
//! postmulti-script would (`native`), else handed over to the script with
//! the environment it expects (`script`).
//!
//! Within this module, `native` and `script` may use the shared parts
//! (`plan`, `checks`, `registry`, `postconf`, `voice`, `lock`), never the
//! reverse; only [`perform`] chooses between them.
//!
//! One deliberate difference (spec D1): `-e destroy` refuses an instance
//! whose queue still holds mail, after every refusal the real one makes and
//! before anything is changed.

#![forbid(unsafe_code)]

mod checks;
mod environment;
pub mod lock;
mod native;
mod plan;
mod postconf;
mod registry;
mod rollback;
mod script;
mod voice;

use crate::cli::{Action, Selection};
use crate::config::{Params, Primary};
use crate::diag;
use crate::error::Result;
use crate::instance::Claims;
use native::Route;
use plan::{Plan, Planned};

/// Runs `-e action`; the exit status.  With
/// `verbose`, one line says who does the action and why.
pub fn perform(
    primary: &Primary,
    params: &Params,
    claims: Claims,
    selection: &Selection,
    action: &Action,
    verbose: bool,
) -> Result<u8> {
    native::finish_interrupted_destroy(params);
    let plan = match Plan::make(params, claims, selection, action)? {
        Planned::Act(plan) => plan,
        Planned::NothingToDo => return Ok(0),
    };
    let env = environment::environment(primary, params, &plan)?;
    let reason = match native::decide(params, &plan)? {
        Route::Native(work, known) => {
            if verbose {
                let text = format!("-e {}: in-process, as {}", action.name(), known.label);
                diag::info(text.as_bytes());
            }
            return work.carry_out(params, &plan, &env);
        }
        Route::Script(reason) => reason,
    };
    if verbose {
        let text = format!("-e {}: postmulti-script, because {reason}", action.name());
        diag::info(text.as_bytes());
    }
    if matches!(action, Action::Destroy)
        && checks::script_would_proceed_with_destroy(primary, &plan.target)
    {
        refuse_destroy_of_queued_mail(params, &plan, &env)?;
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
) -> Result<()> {
    let Some(refusal) = checks::queued_mail_refusal(&plan.target) else {
        return Ok(());
    };
    checks::postfix_status_says_running(params, &plan.target.config_dir, env);
    Err(voice::script_fatal(params, &refusal))
}
