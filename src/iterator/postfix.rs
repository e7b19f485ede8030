//! `-p command...`: `postfix -- command...` for each selected instance,
//! the instance chosen only through `MAIL_CONFIG`; the command lists of
//! the primary main.cf decide the order and which instances take part.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use super::{Child, bytes, parallel, run_each};
use crate::cli::{Parallel, Selection};
use crate::config::{CommandLists, Params};
use crate::error::Result;
use crate::fatal;
use crate::instance::Instance;
use crate::maincf::split_list;

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
    pub fn of(command: &[u8], lists: &CommandLists) -> CommandClass {
        let listed = |list: &[u8]| split_list(list).any(|word| word == command);
        if listed(&lists.start) {
            CommandClass::Start
        } else if listed(&lists.stop) {
            CommandClass::Stop
        } else if listed(&lists.control) {
            CommandClass::Control
        } else {
            CommandClass::Other
        }
    }
}

/// `-p command...`, one instance at a time or, with `--parallel`,
/// concurrently.
pub fn run_postfix_command(
    params: &Params,
    instances: &[Instance],
    selection: &Selection,
    command: &[OsString],
    parallel: Option<Parallel>,
) -> Result<u8> {
    let class = CommandClass::of(command[0].as_bytes(), &params.commands);
    let skip_disabled = matches!(class, CommandClass::Stop | CommandClass::Control);
    let order: Box<dyn Iterator<Item = &Instance>> = if class == CommandClass::Stop {
        Box::new(instances.iter().rev())
    } else {
        Box::new(instances.iter())
    };
    let postfix = params.command_path("postfix");
    let selected = order.filter(|i| (i.enabled || !skip_disabled) && i.matches(selection));
    let child_for = |instance: &Instance| {
        let mut argv = vec![postfix.clone().into_os_string(), OsString::from("--")];
        argv.extend(command.iter().cloned());
        if class == CommandClass::Start && !instance.enabled {
            argv[2] = OsString::from("check");
        }
        let env = vec![(OsString::from("MAIL_CONFIG"), bytes(&instance.config_dir))];
        Child { argv, env }
    };
    let Some(parallel) = parallel else {
        return run_each(selected, child_for);
    };
    let children: Vec<_> = selected
        .map(|instance| (child_for(instance), instance.group.clone()))
        .collect();
    if children.is_empty() {
        fatal!(b"No matching instances");
    }
    let limit = match parallel {
        Parallel::AtMost(count) => count,
        Parallel::Default => default_limit(
            class,
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        ),
    };
    let succeeded = parallel::run(children, limit)?;
    Ok(if succeeded.iter().all(|&ok| ok) { 0 } else { 1 })
}

/// `--parallel`'s default: as many children as `cpus`, one fewer for the
/// stop commands.  postfix-script signals the master and at once runs
/// `master -t` to see whether it is gone, sleeping a whole second if not;
/// with every CPU busy the dying master can wait a scheduler tick for one
/// and lose that race (20 instances on 2 CPUs: 2 runs in 3 took over a
/// second, against 0.6 s one at a time).  A CPU left over is where the
/// masters exit.
fn default_limit(class: CommandClass, cpus: usize) -> usize {
    match class {
        CommandClass::Stop => cpus.saturating_sub(1).max(1),
        CommandClass::Start | CommandClass::Control | CommandClass::Other => cpus,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class_of(command: &str, [start, stop, control]: [&str; 3]) -> CommandClass {
        let lists = CommandLists {
            start: start.into(),
            stop: stop.into(),
            control: control.into(),
        };
        CommandClass::of(command.as_bytes(), &lists)
    }

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

    #[test]
    fn stop_commands_leave_a_cpu_for_the_dying_masters() {
        assert_eq!(default_limit(CommandClass::Stop, 8), 7);
        assert_eq!(default_limit(CommandClass::Stop, 2), 1);
        assert_eq!(default_limit(CommandClass::Stop, 1), 1);
        for class in [
            CommandClass::Start,
            CommandClass::Control,
            CommandClass::Other,
        ] {
            assert_eq!(default_limit(class, 2), 2);
        }
    }
}
