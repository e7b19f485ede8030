//! Handing an action over to Postfix's own `postmulti-script`, with the
//! environment made from the plan.

use std::ffi::CString;

use super::environment::Environment;
use crate::config::Params;
use crate::error::{Error, Result};
use crate::{fatal, msg};

/// Replaces this process by `$daemon_directory/postmulti-script -e action`,
/// which inherits the life-cycle lock.
pub fn hand_over(params: &Params, action: &str, env: &Environment) -> Result<u8> {
    let script = msg!(params.daemon_directory, b"/postmulti-script");
    let to_c = |b: &[u8]| CString::new(b.to_vec());
    let argv = [to_c(&script), to_c(b"-e"), to_c(action.as_bytes())];
    let envp: Vec<CString> = env
        .0
        .iter()
        .filter_map(|(n, v)| CString::new(msg!(n, b"=", v)).ok())
        .collect();
    let (Ok(path), Ok(e), Ok(a)) = (&argv[0], &argv[1], &argv[2]) else {
        fatal!(script, b": Invalid argument")
    };
    let err = nix::unistd::execve(path, &[path, e, a], &envp).unwrap_err();
    Err(Error::with_errno(
        script,
        &std::io::Error::from_raw_os_error(err as i32),
    ))
}
