//! The actions that only edit main.cf files, done as the script does them
//! (its `postconf -e` runs): init, enable, disable, assign, and deport,
//! which first asks `postfix status`.

use crate::config::Params;
use crate::error::Result;
use crate::lifecycle::changes::Changes;
use crate::lifecycle::checks::{StatusProbe, is_regular_file};
use crate::lifecycle::environment::Environment;
use crate::lifecycle::plan::Plan;
use crate::lifecycle::registry::{Alternate, update_instance_directories};
use crate::lifecycle::voice::script_fatal;
use crate::maincf::main_cf_path;
use crate::msg;

/// `init`: the wrapper and `multi_instance_enable = yes` in the primary.
pub fn init(changes: &mut dyn Changes, params: &Params) -> Result<()> {
    changes.set_parameters(&params.config_dir, &|_| {
        vec![
            b"multi_instance_wrapper = ${command_directory}/postmulti -p --".to_vec(),
            b"multi_instance_enable = yes".to_vec(),
        ]
    })
}

/// `enable` / `disable`.
pub fn set_enable(changes: &mut dyn Changes, plan: &Plan, enable: bool) -> Result<()> {
    let value: &[u8] = if enable { b"yes" } else { b"no" };
    changes.set_parameters(&plan.target.config_dir, &|_| {
        vec![msg!(b"multi_instance_enable = ", value)]
    })
}

/// `assign`: the new name and group.
pub fn assign(changes: &mut dyn Changes, plan: &Plan) -> Result<()> {
    let edits = plan.name_edits();
    changes.set_parameters(&plan.target.config_dir, &|_| edits.clone())
}

/// `deport`: deregister a stopped instance and remember its directory in
/// `alternate_config_directories`; no file of the instance is touched.
pub fn deport(
    changes: &mut dyn Changes,
    params: &Params,
    plan: &Plan,
    env: &Environment,
) -> Result<()> {
    let target = &plan.target;
    let directories = plan.new_directories.as_deref().unwrap_or_default();
    if !is_regular_file(&main_cf_path(&target.config_dir)) {
        return update_instance_directories(
            changes,
            params,
            directories,
            &target.config_dir,
            Alternate::Forget,
        );
    }
    if changes.instance_is_running(
        params,
        &target.config_dir,
        &target.queue_dir,
        &StatusProbe::AskPostfix,
        env,
    ) {
        return Err(script_fatal(
            params,
            &msg!(b"Instance '", target.config_dir, b"' is not stopped"),
        ));
    }
    update_instance_directories(
        changes,
        params,
        directories,
        &target.config_dir,
        Alternate::Remember,
    )
}
