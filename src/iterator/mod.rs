//! Iterator mode: `-l` lists the selected instances, `-p` runs a postfix(1)
//! command and `-x` any command for each of them, one at a time, with 0
//! as the exit status only if every one succeeded.

#![forbid(unsafe_code)]

mod capture;
mod command;
mod list;
mod parallel;
mod postfix;

pub use command::run_command;
pub use list::{ListFormat, json_line, list, text_line};
pub use postfix::{CommandClass, run_postfix_command};

use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::error::Result;
use crate::instance::Instance;
use crate::sys::{self, ChildEnd};
use crate::{diag, fatal, msg};

fn bytes(value: &[u8]) -> OsString {
    OsString::from_vec(value.to_vec())
}

/// A child to run: its argv and the variables set in its environment.
struct Child {
    argv: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
}

/// Runs the child `child_for` gives for each instance, waiting for each
/// before the next; failures never stop the loop.  Exit status 0 or 1.
fn run_each<'a>(
    instances: impl Iterator<Item = &'a Instance>,
    child_for: impl Fn(&Instance) -> Child,
) -> Result<u8> {
    let mut matched = false;
    let mut status = 0;
    for instance in instances {
        matched = true;
        if !succeeded(&child_for(instance)) {
            status = 1;
        }
    }
    if !matched {
        fatal!(b"No matching instances");
    }
    Ok(status)
}

/// Runs one child to its end; whether it exited 0.  A program that cannot
/// be executed is reported by the child, in postmulti's voice.
fn succeeded(child: &Child) -> bool {
    let program = child.argv[0].as_bytes();
    let Ok(argv) = child
        .argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<std::result::Result<Vec<_>, _>>()
    else {
        return false;
    };
    let report = |err: nix::errno::Errno| {
        diag::log(
            diag::Level::Fatal,
            &msg!(b"execvp ", program, b": ", err.desc()),
        );
    };
    match sys::run_child(&argv, &child.env, &report) {
        Ok(ChildEnd::Exited(code)) => code == 0,
        Ok(ChildEnd::Killed) => false,
        Err(err) => {
            diag::warn(&msg!(b"fork ", program, b": ", err.desc()));
            false
        }
    }
}
