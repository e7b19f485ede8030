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
    /// A shell that `--completions` knows.
    Shell,
    /// A directory.
    Directory,
}

/// The part an option plays in the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One of the modes `-e -l -p -x`: exactly one per command line.
    Mode,
    /// One of the selections `-a -g -i`: at most one.
    Selection,
    /// May be given again: `-v` counts, `-R` toggles.
    Repeatable,
    /// Goes with a mode (`-j`, `-I`, `-G` and most long options).
    Setting,
    /// Acts at once, alone, before any configuration is read (`--help`).
    Standalone,
}

/// One option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag {
    pub short: Option<char>,
    pub long: Option<&'static str>,
    pub argument: Argument,
    pub kind: Kind,
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
pub const FLAGS: [Flag; 22] = [
    Flag {
        short: Some('a'),
        long: None,
        argument: Argument::None,
        kind: Kind::Selection,
        completes: Completes::Nothing,
        modes: "",
        help: "all instances (the default for -l, -p and -x)",
        description: "Every instance, which is also what -l, -p and -x do without a selection. With -e create and -e import: make the new instance the first secondary.",
        example: None,
    },
    Flag {
        short: Some('e'),
        long: None,
        argument: Argument::Required("action"),
        kind: Kind::Mode,
        completes: Completes::Action,
        modes: "",
        help: "life-cycle mode: init, create, import, destroy, deport, enable, disable, assign",
        description: "Life-cycle mode: carry out action on one instance; action is init, create, import, destroy, deport, enable, disable or assign (see LIFE-CYCLE ACTIONS).",
        example: None,
    },
    Flag {
        short: Some('g'),
        long: None,
        argument: Argument::Required("group"),
        kind: Kind::Selection,
        completes: Completes::Group,
        modes: "",
        help: "the instances of this group",
        description: "The instances whose multi_instance_group is group. With -e create and -e import: put the new instance just before the first secondary of that group (there must be one).",
        example: None,
    },
    Flag {
        short: Some('i'),
        long: None,
        argument: Argument::Required("name"),
        kind: Kind::Selection,
        completes: Completes::Instance,
        modes: "",
        help: "the instance of this name (with or without 'postfix-'), directory, or '-' for the primary",
        description: "One instance, named by its multi_instance_name (the postfix- prefix may be left out), by its configuration directory (an argument that starts with /; the only way to name an instance that has no name), or - for the primary. -e destroy, deport, enable, disable and assign act on the instance it names, and need it; with -e create and -e import, the new instance is put just before it.",
        example: None,
    },
    Flag {
        short: Some('j'),
        long: None,
        argument: Argument::None,
        kind: Kind::Setting,
        completes: Completes::Nothing,
        modes: "-l",
        help: "one JSON object per instance and line",
        description: "With -l: one JSON object per line instead of columns, with the members name, group, enabled and config_directory (and more with --status).",
        example: None,
    },
    Flag {
        short: Some('G'),
        long: None,
        argument: Argument::Required("group"),
        kind: Kind::Setting,
        completes: Completes::Group,
        modes: "-e create|import|assign",
        help: "the new group; '-' for none",
        description: "With -e create and -e import, the group the new instance joins; with -e assign, the instance's new group. - means no group.",
        example: None,
    },
    Flag {
        short: Some('I'),
        long: None,
        argument: Argument::Required("name"),
        kind: Kind::Setting,
        completes: Completes::Nothing,
        modes: "-e create|import|assign",
        help: "the new name (postfix-...); '-' for none",
        description: "With -e create and -e import, the new instance's name, from which its directories are made when they are not given; with -e assign, the instance's new name. A name starts with postfix-; - means no name.",
        example: None,
    },
    Flag {
        short: Some('l'),
        long: None,
        argument: Argument::None,
        kind: Kind::Mode,
        completes: Completes::Nothing,
        modes: "",
        help: "list mode: name, group, enabled (y/n) and configuration directory of each instance",
        description: "List mode: one line per selected instance, primary first, in the order of multi_instance_directories: its name, its group (- for none), y or n for multi_instance_enable, and its configuration directory.",
        example: None,
    },
    Flag {
        short: Some('p'),
        long: None,
        argument: Argument::None,
        kind: Kind::Mode,
        completes: Completes::Nothing,
        modes: "",
        help: "postfix mode: run 'postfix command...' for each instance",
        description: "Postfix mode: run postfix(1) with command... for the selected instances, one after the other, each with its configuration directory in MAIL_CONFIG. What happens to a disabled instance depends on the primary's three command lists: a command of postmulti_start_commands runs postfix check there instead; one of postmulti_stop_commands leaves it out and goes through the list backwards; one of postmulti_control_commands leaves it out; any other command runs for it too. This is the mode multi_instance_wrapper uses.",
        example: None,
    },
    Flag {
        short: Some('R'),
        long: None,
        argument: Argument::None,
        kind: Kind::Repeatable,
        completes: Completes::Nothing,
        modes: "-l, -x",
        help: "reverse order",
        description: "With -l and -x: last instance first. A second -R cancels the first.",
        example: None,
    },
    Flag {
        short: Some('v'),
        long: None,
        argument: Argument::None,
        kind: Kind::Repeatable,
        completes: Completes::Nothing,
        modes: "",
        help: "verbose: children see MAIL_VERBOSE; -e says which way an action is done",
        description: "More detail: the commands run for the instances find MAIL_VERBOSE in their environment, and a life-cycle action prints one line saying whether it is done in-process or by postmulti-script, and why.",
        example: None,
    },
    Flag {
        short: Some('x'),
        long: None,
        argument: Argument::None,
        kind: Kind::Mode,
        completes: Completes::Nothing,
        modes: "",
        help: "command mode: run a command for each instance, with MAIL_CONFIG and friends set",
        description: "Command mode: run command... once for each selected instance, looked up in PATH, with the instance described in its environment: MAIL_CONFIG, daemon_directory, command_directory, config_directory, queue_directory, data_directory, multi_instance_name, multi_instance_group, multi_instance_enable (yes or no), and PATH with command_directory in front.",
        example: None,
    },
    Flag {
        short: None,
        long: Some("status"),
        argument: Argument::None,
        kind: Kind::Setting,
        completes: Completes::Nothing,
        modes: "-l",
        help: "also whether each master runs, its pid, and the messages in each queue",
        description: "With -l: more columns for each instance, whether its master process runs (tested as postfix status tests it), its pid, and how many messages its maildrop, incoming, active, deferred, hold and corrupt queues hold; where systemd runs, also the unit that starts it at boot and that unit's state. No process is started per instance.",
        example: Some("postmulti -l --status -j"),
    },
    Flag {
        short: None,
        long: Some("keep-going"),
        argument: Argument::None,
        kind: Kind::Setting,
        completes: Completes::Nothing,
        modes: "-l, -p, -x",
        help: "skip a secondary whose main.cf is missing or invalid, with a warning; exit 1",
        description: "With -l, -p and -x: a secondary whose main.cf is missing, unreadable or invalid costs one warning and is left out, instead of stopping the run; the exit status is then 1.",
        example: Some("postmulti --keep-going -p start"),
    },
    Flag {
        short: None,
        long: Some("parallel"),
        argument: Argument::Optional("N"),
        kind: Kind::Setting,
        completes: Completes::Nothing,
        modes: "-p",
        help: "run up to N instances at a time (default: the CPUs, one fewer for stop), group by group",
        description: "With -p: up to N instances at a time (by default as many as there are CPUs, one fewer for the stop commands, so that each dying master has a CPU to exit on before postfix-script looks for it and otherwise sleeps a second). The members of a group run side by side; the groups, an instance without one counting as a group of its own, take turns in the order the run without --parallel meets them. Each instance's output is held back and printed whole, in that same order.",
        example: Some("postmulti --parallel=4 -g mta -p start"),
    },
    Flag {
        short: None,
        long: Some("dry-run"),
        argument: Argument::None,
        kind: Kind::Setting,
        completes: Completes::Nothing,
        modes: "-e",
        help: "check and compute the action, show what it would do, change nothing",
        description: "With -e: make every check the action makes, with the same messages and exit status, then print the plan (each directory and file to be made or removed with its owner and mode, each main.cf change as a unified diff, or the environment postmulti-script would get) and change nothing at all.",
        example: Some("postmulti --dry-run -i postfix-out -e destroy"),
    },
    Flag {
        short: None,
        long: Some("exist-ok"),
        argument: Argument::None,
        kind: Kind::Setting,
        completes: Completes::Nothing,
        modes: "-e create|import",
        help: "succeed without change if the same instance already exists",
        description: "With -e create and -e import: if an instance with this configuration directory is registered already, with exactly the name, group and directories asked for, succeed without changing anything; any difference is still an error. For configuration management tools that run the same command every time.",
        example: Some("postmulti --exist-ok -I postfix-out -G mta -e create"),
    },
    Flag {
        short: None,
        long: Some("systemd-generator"),
        argument: Argument::Rest("NORMAL_DIR [EARLY_DIR LATE_DIR]"),
        kind: Kind::Standalone,
        completes: Completes::Directory,
        modes: "",
        help: "act as a systemd generator: enabled instances wanted by postfix.service, in list order",
        description: "Be a systemd generator (systemd.generator(7)); postmulti-instance-generator runs this at boot and at every systemctl daemon-reload. Writes, into NORMAL_DIR only, drop-ins that make postfix.service want every enabled instance, each ordered after the one listed before it (see MULTIPLE INSTANCES UNDER SYSTEMD). Only main.cf files are read and no process is started; problems are reported on stderr, never stop the boot, and the exit status is always 0.",
        example: Some("postmulti --systemd-generator /run/systemd/generator"),
    },
    Flag {
        short: None,
        long: Some("man-page"),
        argument: Argument::None,
        kind: Kind::Standalone,
        completes: Completes::Nothing,
        modes: "",
        help: "the manual page postmulti(1), as roff",
        description: "Write this manual page, as roff, to standard output. It is made from the same table of options as --help and the completions. The package installs it; without the package, man -l - reads it from a pipe.",
        example: Some("postmulti --man-page | man -l -"),
    },
    Flag {
        short: None,
        long: Some("completions"),
        argument: Argument::Required("shell"),
        kind: Kind::Standalone,
        completes: Completes::Shell,
        modes: "",
        help: "the completion script for bash, zsh or fish",
        description: "Write the completion script for shell, one of bash, zsh and fish, to standard output. It completes options, the actions after -e, instance names after -i and groups after -g and -G (asking postmulti -l when Tab is pressed), postfix(1) commands after -p and commands after -x. The package installs all three where the shells look for them.",
        example: Some("postmulti --completions fish > ~/.config/fish/completions/postmulti.fish"),
    },
    Flag {
        short: None,
        long: Some("help"),
        argument: Argument::None,
        kind: Kind::Standalone,
        completes: Completes::Nothing,
        modes: "",
        help: "this text",
        description: "Write a summary of the options, with examples of the long ones, to standard output.",
        example: None,
    },
    Flag {
        short: None,
        long: Some("version"),
        argument: Argument::None,
        kind: Kind::Standalone,
        completes: Completes::Nothing,
        modes: "",
        help: "the version of this implementation",
        description: "Write the version of this implementation to standard output.",
        example: None,
    },
];

/// The life-cycle actions, in the order the help lists them.
pub const ACTIONS: [&str; 8] = [
    "init", "create", "import", "destroy", "deport", "enable", "disable", "assign",
];

/// One line each about the actions, in the order of [`ACTIONS`].
pub const ACTION_HELP: [&str; ACTIONS.len()] = [
    "prepare the primary main.cf for multiple instances",
    "make and register a new secondary instance",
    "register an instance whose main.cf and master.cf exist already",
    "remove a stopped, disabled instance with its directories",
    "deregister a stopped, disabled instance and leave its files",
    "let postfix start (and boot) start the instance",
    "keep postfix start (and boot) from starting the instance",
    "give an instance a new name (-I) or group (-G)",
];

/// The postfix(1) commands, for the completions after `-p` (those of its
/// manual, and `drain` and `quick-stop`, which postmulti_stop_commands
/// names).
pub const POSTFIX_COMMANDS: [&str; 15] = [
    "check",
    "start",
    "start-fg",
    "stop",
    "abort",
    "drain",
    "quick-stop",
    "flush",
    "reload",
    "status",
    "set-permissions",
    "upgrade-configuration",
    "logrotate",
    "tls",
    "non-bdb",
];

/// The shells `--completions` writes a script for.
pub const SHELLS: [&str; 3] = ["bash", "zsh", "fish"];

/// The synopsis lines (after the program name).
pub const SYNOPSIS: [&str; 5] = [
    "-l [-v] [-a] [-g group] [-i instance] [-j] [-R] [--status] [--keep-going]",
    "-p [-v] [-a] [-g group] [-i instance] [--parallel[=N]] [--keep-going] command...",
    "-x [-v] [-a] [-i name] [-g group] [-R] [--keep-going] command...",
    "-e action [-v] [-a] [-i name] [-g group] [-I name] [-G group] [--dry-run] [--exist-ok] [param=value ...]",
    "--help | --version | --man-page | --completions shell | --systemd-generator NORMAL_DIR [EARLY_DIR LATE_DIR]",
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

/// The option itself: `-i`, `--status`.
pub fn name(flag: &Flag) -> String {
    match (flag.short, flag.long) {
        (Some(c), _) => format!("-{c}"),
        (None, Some(l)) => format!("--{l}"),
        (None, None) => String::new(),
    }
}

/// The options of one kind, in table order.
pub fn of_kind(kind: Kind) -> impl Iterator<Item = &'static Flag> {
    FLAGS.iter().filter(move |f| f.kind == kind)
}

/// The option as the help shows it: `-i name`, `--parallel[=N]`.
pub fn spelling(flag: &Flag) -> String {
    let name = name(flag);
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
    fn every_option_has_a_name_and_the_kinds_are_the_grammars() {
        assert!(FLAGS.iter().all(|f| !name(f).is_empty()));
        let names = |kind| of_kind(kind).map(name).collect::<Vec<_>>();
        assert_eq!(names(Kind::Mode), ["-e", "-l", "-p", "-x"]);
        assert_eq!(names(Kind::Selection), ["-a", "-g", "-i"]);
        assert_eq!(names(Kind::Repeatable), ["-R", "-v"]);
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
