//! The one description of postmulti's options and operands: the parser
//! takes the getopt string and the long options from it, and `--help`, the
//! manual page and the shell completions are made from it, so none of them
//! can name an option the others lack.

/// What an option takes after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Argument {
    None,
    /// A required argument, by this name (`-i name`).
    Required(&'static str),
    /// An optional argument, only as `--name=value`.
    Optional(&'static str),
    /// Everything after the option, by this name.
    Rest(&'static str),
}

/// What an option argument names, for completions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completes {
    Nothing,
    /// An instance name, `-` or a configuration directory.
    Instance,
    /// An instance group.
    Group,
    /// A life-cycle action.
    Action,
}

/// One option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    pub short: Option<char>,
    pub long: Option<&'static str>,
    pub argument: Argument,
    pub completes: Completes,
    /// The modes it goes with, as the help shows them (empty: any).
    pub modes: &'static str,
    /// One line for `--help` and the completions.
    pub help: &'static str,
    /// The manual page's paragraph.
    pub description: &'static str,
    /// A command line that shows it, for `--help` and the manual page.
    pub example: Option<&'static str>,
}

/// Every option, short ones in getopt's order first.
pub const FLAGS: [Flag; 20] = [
    Flag {
        short: Some('a'),
        long: None,
        argument: Argument::None,
        completes: Completes::Nothing,
        modes: "",
        help: "all instances (the default for -l, -p and -x)",
        description: "Select all instances. This is the default for the iterator modes. With -e create and -e import, the new instance goes first in the list.",
        example: None,
    },
    Flag {
        short: Some('e'),
        long: None,
        argument: Argument::Required("action"),
        completes: Completes::Action,
        modes: "",
        help: "life-cycle mode: init, create, import, destroy, deport, enable, disable, assign",
        description: "Life-cycle mode: perform action, one of init, create, import, destroy, deport, enable, disable and assign (see LIFE-CYCLE ACTIONS).",
        example: None,
    },
    Flag {
        short: Some('g'),
        long: None,
        argument: Argument::Required("group"),
        completes: Completes::Group,
        modes: "",
        help: "the instances of this group",
        description: "Select the instances of group. With -e create and -e import, the new instance goes before the first secondary instance of the group.",
        example: None,
    },
    Flag {
        short: Some('i'),
        long: None,
        argument: Argument::Required("name"),
        completes: Completes::Instance,
        modes: "",
        help: "the instance of this name (with or without 'postfix-'), directory, or '-' for the primary",
        description: "Select one instance: by name (with or without its postfix- prefix), by configuration directory (an argument starting with /), or - for the primary instance. With -e create and -e import, the new instance goes before it.",
        example: None,
    },
    Flag {
        short: Some('j'),
        long: None,
        argument: Argument::None,
        completes: Completes::Nothing,
        modes: "-l",
        help: "one JSON object per instance and line",
        description: "With -l, print one JSON object per instance and line, with the members name, group, enabled and config_directory.",
        example: None,
    },
    Flag {
        short: Some('G'),
        long: None,
        argument: Argument::Required("group"),
        completes: Completes::Group,
        modes: "-e create|import|assign",
        help: "the new group; '-' for none",
        description: "The group of a new instance, or the new group of an instance; - removes it.",
        example: None,
    },
    Flag {
        short: Some('I'),
        long: None,
        argument: Argument::Required("name"),
        completes: Completes::Nothing,
        modes: "-e create|import|assign",
        help: "the new name (postfix-...); '-' for none",
        description: "The name of a new instance, or the new name of an instance; it must start with postfix-. - removes it. Directories not given are derived from the primary's and this name.",
        example: None,
    },
    Flag {
        short: Some('l'),
        long: None,
        argument: Argument::None,
        completes: Completes::Nothing,
        modes: "",
        help: "list mode: name, group, enabled (y/n) and configuration directory of each instance",
        description: "List mode: print the name, group, whether it is enabled (y or n) and the configuration directory of each selected instance, one per line.",
        example: None,
    },
    Flag {
        short: Some('p'),
        long: None,
        argument: Argument::None,
        completes: Completes::Nothing,
        modes: "",
        help: "postfix mode: run 'postfix command...' for each instance",
        description: "Postfix mode: run postfix(1) with command... for each selected instance. Commands of postmulti_start_commands run check for a disabled instance; those of postmulti_stop_commands skip disabled instances and go in reverse order; those of postmulti_control_commands skip disabled instances.",
        example: None,
    },
    Flag {
        short: Some('R'),
        long: None,
        argument: Argument::None,
        completes: Completes::Nothing,
        modes: "-l, -x",
        help: "reverse order",
        description: "Go through the instances in reverse order. Given twice, the order is kept.",
        example: None,
    },
    Flag {
        short: Some('v'),
        long: None,
        argument: Argument::None,
        completes: Completes::Nothing,
        modes: "",
        help: "verbose: children see MAIL_VERBOSE; -e says which way an action is done",
        description: "Verbose: commands run for instances see MAIL_VERBOSE in their environment; a life-cycle action says in one line whether it is done in-process or by postmulti-script, and why.",
        example: None,
    },
    Flag {
        short: Some('x'),
        long: None,
        argument: Argument::None,
        completes: Completes::Nothing,
        modes: "",
        help: "command mode: run a command for each instance, with MAIL_CONFIG and friends set",
        description: "Command mode: run command... for each selected instance, with MAIL_CONFIG, command_directory, daemon_directory, config_directory, queue_directory, data_directory, multi_instance_name, multi_instance_group and multi_instance_enable set, and command_directory first in PATH.",
        example: None,
    },
    Flag {
        short: None,
        long: Some("status"),
        argument: Argument::None,
        completes: Completes::Nothing,
        modes: "-l",
        help: "also whether each master runs, its pid, and the messages in each queue",
        description: "With -l, also show for each instance whether its master process runs (the test postfix status makes), its pid, and the number of messages in its maildrop, incoming, active, deferred, hold and corrupt queues, without starting a process per instance.",
        example: Some("postmulti -l --status -j"),
    },
    Flag {
        short: None,
        long: Some("keep-going"),
        argument: Argument::None,
        completes: Completes::Nothing,
        modes: "-l, -p, -x",
        help: "skip a secondary whose main.cf is missing or invalid, with a warning; exit 1",
        description: "With -l, -p and -x, a secondary instance whose main.cf is missing, unreadable or invalid is reported in one warning and skipped, and the others are listed or iterated; the exit status is then 1.",
        example: Some("postmulti --keep-going -p start"),
    },
    Flag {
        short: None,
        long: Some("parallel"),
        argument: Argument::Optional("N"),
        completes: Completes::Nothing,
        modes: "-p",
        help: "run up to N instances at a time (default: the number of CPUs), group by group",
        description: "With -p, run the command for up to N instances at a time (default: the number of CPUs). The instances of one group run together, and groups (an instance without a group is one of its own) follow each other in list order, in reverse for stop commands. Each instance's output is printed in list order, as without --parallel.",
        example: Some("postmulti --parallel=4 -g mta -p start"),
    },
    Flag {
        short: None,
        long: Some("dry-run"),
        argument: Argument::None,
        completes: Completes::Nothing,
        modes: "-e",
        help: "check and compute the action, show what it would do, change nothing",
        description: "With -e, make every check the action makes and compute it, print what it would do (directories and files made or removed with owner and mode, each main.cf change as a unified diff, or postmulti-script's environment), and change nothing.",
        example: Some("postmulti --dry-run -i postfix-out -e destroy"),
    },
    Flag {
        short: None,
        long: Some("exist-ok"),
        argument: Argument::None,
        completes: Completes::Nothing,
        modes: "-e create|import",
        help: "succeed without change if the same instance already exists",
        description: "With -e create and -e import, exit 0 and change nothing when an instance with the same configuration directory is already registered with exactly the requested name, group and directories.",
        example: Some("postmulti --exist-ok -I postfix-out -G mta -e create"),
    },
    Flag {
        short: None,
        long: Some("systemd-generator"),
        argument: Argument::Rest("NORMAL_DIR [EARLY_DIR LATE_DIR]"),
        completes: Completes::Nothing,
        modes: "",
        help: "act as a systemd generator: enabled instances wanted by postfix.service, in list order",
        description: "Act as a systemd generator (systemd.generator(7)), as the package's postmulti-instance-generator runs it at boot and on systemctl daemon-reload: make each enabled secondary instance wanted by postfix.service and ordered after the one listed before it, using the distribution's postfix@.service where it serves the instance and postmulti@.service otherwise; nothing but main.cf files is read, problems are reported on stderr and never stop the boot, and the exit status is 0.",
        example: Some("postmulti --systemd-generator /run/systemd/generator"),
    },
    Flag {
        short: None,
        long: Some("help"),
        argument: Argument::None,
        completes: Completes::Nothing,
        modes: "",
        help: "this text",
        description: "Print a summary of the options and exit.",
        example: None,
    },
    Flag {
        short: None,
        long: Some("version"),
        argument: Argument::None,
        completes: Completes::Nothing,
        modes: "",
        help: "the version of this implementation",
        description: "Print the version and exit.",
        example: None,
    },
];

/// The life-cycle actions, in the order the help lists them.
pub const ACTIONS: [&str; 8] = [
    "init", "create", "import", "destroy", "deport", "enable", "disable", "assign",
];

/// The synopsis lines (after the program name).
pub const SYNOPSIS: [&str; 4] = [
    "-l [-v] [-a] [-g group] [-i instance] [-j] [-R] [--status] [--keep-going]",
    "-p [-v] [-a] [-g group] [-i instance] [--parallel[=N]] [--keep-going] command...",
    "-x [-v] [-a] [-i name] [-g group] [-R] [--keep-going] command...",
    "-e action [-v] [-a] [-i name] [-g group] [-I name] [-G group] [--dry-run] [--exist-ok] [param=value ...]",
];

/// getopt's option string: the short options, those with an argument
/// followed by `:`, led by `+` (options end at the first operand).
pub fn getopt_string() -> String {
    let mut out = String::from("+");
    for flag in FLAGS.iter() {
        if let Some(c) = flag.short {
            out.push(c);
            if let Argument::Required(_) = flag.argument {
                out.push(':');
            }
        }
    }
    out
}

/// The short option `c`, if there is one.
pub fn short(c: char) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.short == Some(c))
}

/// The long option `name`, if there is one.
pub fn long(name: &str) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.long == Some(name))
}

/// The option as the help shows it: `-i name`, `--parallel[=N]`.
pub fn spelling(flag: &Flag) -> String {
    let name = match (flag.short, flag.long) {
        (Some(c), _) => format!("-{c}"),
        (None, Some(l)) => format!("--{l}"),
        (None, None) => String::new(),
    };
    match flag.argument {
        Argument::None => name,
        Argument::Required(arg) => format!("{name} {arg}"),
        Argument::Optional(arg) => format!("{name}[={arg}]"),
        Argument::Rest(args) => format!("{name} {args}"),
    }
}

/// Our `--help` text for the program named `prog`.
pub fn help_text(prog: &str) -> String {
    let mut text = String::new();
    for (i, line) in SYNOPSIS.iter().enumerate() {
        let lead = if i == 0 { "Usage:" } else { "      " };
        text.push_str(&format!("{lead} {prog} {line}\n"));
    }
    text.push_str(
        "\nPostfix multi-instance manager (a drop-in replacement for Postfix 3.11's postmulti).\n\n",
    );
    for flag in FLAGS.iter() {
        let mut help = flag.help.to_string();
        if !flag.modes.is_empty() {
            help = format!("{help} ({})", flag.modes);
        }
        text.push_str(&format!("  {:<20} {help}\n", spelling(flag)));
    }
    text.push_str("\nExamples of the options beyond Postfix's postmulti:\n");
    for example in FLAGS.iter().filter_map(|f| f.example) {
        text.push_str(&format!("  {example}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_getopt_string_is_postmultis() {
        assert_eq!(getopt_string(), "+ae:g:i:jG:I:lpRvx");
    }

    #[test]
    fn the_help_names_every_option() {
        let help = help_text("postmulti");
        for flag in FLAGS.iter() {
            assert!(help.contains(&spelling(flag)), "{}", spelling(flag));
        }
        for flag in FLAGS.iter().filter(|f| f.short.is_none()) {
            let name = flag.long.unwrap_or_default();
            let shown = matches!(name, "help" | "version")
                || flag
                    .example
                    .is_some_and(|e| e.contains(&format!("--{name}")));
            assert!(shown, "--{name} has no example");
        }
    }
}
