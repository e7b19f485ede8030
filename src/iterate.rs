//! Iterator modes `-p` and `-x`: run one command per selected instance,
//! one at a time, and report 0 only if every one of them succeeded.
//!
//! Each child is made with fork, its environment changed with setenv, and
//! then execvp, as postmulti does: a variable that already exists keeps its
//! place in the environment block and new ones are appended (std's Command
//! would sort them), and `-x` searches the PATH it just set.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use anyhow::Result;
use nix::errno::Errno;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, execvp, fork};

use crate::cli::Selection;
use crate::config::{self, Settings};
use crate::instances::Instance;
use crate::{diag, fatal, msg};

/// How `-p` treats a postfix(1) command, from the three command lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandClass {
    /// `postmulti_start_commands`: disabled instances run `check` instead.
    Start,
    /// `postmulti_stop_commands`: reverse order, disabled ones skipped.
    Stop,
    /// `postmulti_control_commands`: disabled ones skipped.
    Control,
    /// Everything else: every selected instance, in order.
    Other,
}

impl CommandClass {
    pub fn of(command: &[u8], settings: &Settings) -> CommandClass {
        let listed = |list: &[u8]| config::split_list(list).any(|word| word == command);
        if listed(&settings.start_commands) {
            CommandClass::Start
        } else if listed(&settings.stop_commands) {
            CommandClass::Stop
        } else if listed(&settings.control_commands) {
            CommandClass::Control
        } else {
            CommandClass::Other
        }
    }
}

/// `-p command...`: `postfix -- command...` per instance, selected only
/// through `MAIL_CONFIG`.
pub fn postfix(
    settings: &Settings,
    instances: &[Instance],
    selection: &Selection,
    command: &[OsString],
) -> Result<u8> {
    let class = CommandClass::of(command[0].as_bytes(), settings);
    let skip_disabled = matches!(class, CommandClass::Stop | CommandClass::Control);
    let order: Box<dyn Iterator<Item = &Instance>> = if class == CommandClass::Stop {
        Box::new(instances.iter().rev())
    } else {
        Box::new(instances.iter())
    };
    let postfix = settings.command_path("postfix");
    let selected = order.filter(|i| (i.enabled || !skip_disabled) && i.matches(selection));
    run_each(selected, |instance| {
        let mut argv = vec![postfix.clone().into_os_string(), OsString::from("--")];
        argv.extend(command.iter().cloned());
        if class == CommandClass::Start && !instance.enabled {
            argv[2] = OsString::from("check");
        }
        let env = vec![(OsString::from("MAIL_CONFIG"), bytes(&instance.config_dir))];
        (argv, env)
    })
}

/// `-x command...`: the command itself per instance, with the instance
/// described in its environment.
pub fn command(
    settings: &Settings,
    instances: &[Instance],
    selection: &Selection,
    command: &[OsString],
    reverse: bool,
) -> Result<u8> {
    let order: Box<dyn Iterator<Item = &Instance>> = if reverse {
        Box::new(instances.iter().rev())
    } else {
        Box::new(instances.iter())
    };
    let path = match std::env::var_os("PATH").filter(|p| !p.is_empty()) {
        Some(old) => msg!(settings.command_directory, b":", old.as_bytes()),
        None => msg!(
            settings.command_directory,
            b":/bin:/usr/bin:/sbin:/usr/sbin"
        ),
    };
    run_each(order.filter(|i| i.matches(selection)), |instance| {
        let enable: &[u8] = if instance.enabled { b"yes" } else { b"no" };
        let env: Vec<(OsString, OsString)> = [
            ("MAIL_CONFIG", instance.config_dir.as_slice()),
            ("daemon_directory", &settings.daemon_directory),
            ("command_directory", &settings.command_directory),
            ("config_directory", &instance.config_dir),
            ("queue_directory", &instance.queue_dir),
            ("data_directory", &instance.data_dir),
            (
                "multi_instance_name",
                instance.name.as_deref().unwrap_or_default(),
            ),
            (
                "multi_instance_group",
                instance.group.as_deref().unwrap_or_default(),
            ),
            ("multi_instance_enable", enable),
            ("PATH", &path),
        ]
        .into_iter()
        .map(|(k, v)| (OsString::from(k), bytes(v)))
        .collect();
        (command.to_vec(), env)
    })
}

fn bytes(value: &[u8]) -> OsString {
    OsString::from_vec(value.to_vec())
}

type ChildSpec = (Vec<OsString>, Vec<(OsString, OsString)>);

/// Runs the command `spec` gives for each instance, waiting for each before
/// the next; failures never stop the loop.  Exit status 0 or 1.
fn run_each<'a>(
    instances: impl Iterator<Item = &'a Instance>,
    spec: impl Fn(&Instance) -> ChildSpec,
) -> Result<u8> {
    let mut matched = false;
    let mut status = 0;
    for instance in instances {
        matched = true;
        let (argv, env) = spec(instance);
        if run_one(&argv, &env) != 0 {
            status = 1;
        }
    }
    if !matched {
        fatal!(b"No matching instances");
    }
    Ok(status)
}

/// Forks, sets `env` in the child, execvp's `argv`; returns the child's
/// exit code, 1 if it was killed, -1 if it could not be run or waited for.
fn run_one(argv: &[OsString], env: &[(OsString, OsString)]) -> i32 {
    let program = argv[0].as_bytes();
    let Ok(c_argv) = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<Vec<_>, _>>()
    else {
        return -1;
    };
    // SAFETY: postmulti is single-threaded; the child only calls setenv,
    // execvp, the logger and _exit.
    match unsafe { fork() } {
        Err(e) => {
            diag::warn(&msg!(b"fork ", program, b": ", e.desc()));
            -1
        }
        Ok(ForkResult::Child) => {
            for (name, value) in env {
                // SAFETY: the child is single-threaded.
                unsafe { std::env::set_var(name, value) };
            }
            let err = execvp(&c_argv[0], &c_argv).unwrap_err();
            diag::log(
                diag::Level::Fatal,
                &msg!(b"execvp ", program, b": ", err.desc()),
            );
            // SAFETY: leave without running the parent's exit handlers.
            unsafe { libc::_exit(1) }
        }
        Ok(ForkResult::Parent { child }) => loop {
            match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => return code,
                Ok(WaitStatus::Signaled(..)) => return 1,
                Ok(_) => continue,
                Err(Errno::EINTR) => continue,
                Err(_) => return -1,
            }
        },
    }
}

/// Whether this word is one of `settings`'s lists; for tests.
#[cfg(test)]
fn class_of(command: &str, lists: [&str; 3]) -> CommandClass {
    let settings = Settings {
        config_dir: vec![],
        command_directory: vec![],
        daemon_directory: vec![],
        meta_directory: vec![],
        shlib_directory: vec![],
        queue_directory: vec![],
        data_directory: vec![],
        syslog_name: vec![],
        multi_instance_directories: vec![],
        name: vec![],
        group: vec![],
        enable: false,
        start_commands: lists[0].into(),
        stop_commands: lists[1].into(),
        control_commands: lists[2].into(),
    };
    CommandClass::of(command.as_bytes(), &settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: [&str; 3] = ["start", "stop abort drain quick-stop", "reload flush"];

    #[test]
    fn classification_follows_the_lists_in_order() {
        assert_eq!(class_of("start", DEFAULTS), CommandClass::Start);
        assert_eq!(class_of("quick-stop", DEFAULTS), CommandClass::Stop);
        assert_eq!(class_of("flush", DEFAULTS), CommandClass::Control);
        assert_eq!(class_of("status", DEFAULTS), CommandClass::Other);
        assert_eq!(class_of("Start", DEFAULTS), CommandClass::Other);
        assert_eq!(
            class_of("stop", ["start,stop", "stop", ""]),
            CommandClass::Start
        );
    }
}
