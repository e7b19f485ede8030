//! Handing an action over to Postfix's own `postmulti-script`, with the
//! environment made from the plan.  The script runs as our child, under
//! the life-cycle lock we hold (its descriptor is inherited); a create or
//! import it fails is rolled back (`rollback`).

use std::ffi::CString;

use super::environment::Environment;
use super::plan::Plan;
use super::rollback::Snapshot;
use crate::cli::Action;
use crate::config::Params;
use crate::diag;
use crate::error::{Error, Result, strerror};
use crate::sys::{self, ChildEnd};
use crate::{fatal, msg};

/// Runs `$daemon_directory/postmulti-script -e <action>` with `env` and
/// waits for it; its exit status is ours.
pub fn run(params: &Params, plan: &Plan, env: &Environment) -> Result<u8> {
    let script = msg!(params.daemon_directory, b"/postmulti-script");
    let to_c = |b: &[u8]| CString::new(b.to_vec());
    let (Ok(program), Ok(flag), Ok(action)) = (
        to_c(&script),
        to_c(b"-e"),
        to_c(plan.action.name().as_bytes()),
    ) else {
        fatal!(script, b": Invalid argument")
    };
    let envp: Vec<CString> = env
        .0
        .iter()
        .filter_map(|(n, v)| CString::new(msg!(n, b"=", v)).ok())
        .collect();
    let snapshot = matches!(plan.action, Action::Create { .. } | Action::Import { .. })
        .then(|| Snapshot::take(params, plan));
    let report = |err: nix::errno::Errno| {
        let cause = std::io::Error::from_raw_os_error(err as i32);
        diag::log(diag::Level::Fatal, &msg!(script, b": ", strerror(&cause)));
    };
    let argv = [program.clone(), flag, action];
    let status = match sys::run_program(&program, &argv, &envp, &report) {
        Ok(ChildEnd::Exited(code)) => u8::try_from(code).unwrap_or(1),
        Ok(ChildEnd::Killed) => 1,
        Err(err) => {
            let cause = std::io::Error::from_raw_os_error(err as i32);
            return Err(Error::with_errno(msg!(b"fork ", script), &cause));
        }
    };
    if status != 0 {
        if let Some(snapshot) = snapshot {
            snapshot.restore();
        }
        return Err(Error::Exit(status));
    }
    Ok(0)
}
