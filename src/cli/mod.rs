//! The command-line grammar: postmulti's getopt string `+ae:g:i:jG:I:lpRvx`,
//! reproduced byte for byte, and the post-parse usage checks, turned into a
//! typed [`Invocation`], and the texts that describe it (usage, help).
//!
//! clap's derive API cannot express getopt's quirks (options stop at the
//! first operand, `-R` toggles, option arguments may start with `-`, the
//! counting rules of `-a/-g/-i` and of repeated modes), so the grammar is
//! built on clap's lexer, `clap_lex`, which gives getopt-style clusters.
//! Long options do not exist in postmulti; ours are extensions only.  The
//! options themselves are described once, in [`flags`]; [`manpage`] and
//! [`completions`] are made from that description.

#![forbid(unsafe_code)]

pub mod completions;
pub mod flags;
pub mod manpage;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::msg;

/// Which instances an invocation is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// No `-a`, `-g` or `-i`: iterators treat it as all instances.
    Unspecified,
    All,
    Group(Vec<u8>),
    /// A name, a name without its `postfix-` prefix, a config directory, or
    /// `-` for the primary instance.
    Name(Vec<u8>),
}

impl Selection {
    /// What the iterator modes select: without `-a`, `-g` or `-i`, all.
    pub fn or_all(&self) -> &Selection {
        match self {
            Selection::Unspecified => &Selection::All,
            chosen => chosen,
        }
    }
}

/// A new name or group given with `-I` / `-G`; `-` (stored as empty) clears.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    pub name: Option<Vec<u8>>,
    pub group: Option<Vec<u8>>,
}

/// The life-cycle actions of `-e`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Init,
    /// `overrides` are the `param=value` operands, as given.
    Create {
        assignment: Assignment,
        overrides: Vec<Vec<u8>>,
    },
    Import {
        assignment: Assignment,
        overrides: Vec<Vec<u8>>,
    },
    Destroy,
    Deport,
    Enable,
    Disable,
    Assign(Assignment),
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Init => "init",
            Action::Create { .. } => "create",
            Action::Import { .. } => "import",
            Action::Destroy => "destroy",
            Action::Deport => "deport",
            Action::Enable => "enable",
            Action::Disable => "disable",
            Action::Assign(_) => "assign",
        }
    }
}

/// What to do, with only the options that mode accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `-l`, optionally `-j` (JSON lines) and `-R`.
    List { json: bool, reverse: bool },
    /// `-p command...`: run `postfix command...` per instance.
    Postfix { command: Vec<OsString> },
    /// `-x command...`: run a command per instance; `-R` allowed.
    Command {
        command: Vec<OsString>,
        reverse: bool,
    },
    /// `-e action`.
    LifeCycle(Action),
}

/// A complete, validated command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Number of `-v` options; any makes children see `MAIL_VERBOSE=`.
    pub verbosity: u32,
    pub selection: Selection,
    pub mode: Mode,
    pub extensions: Extensions,
}

/// Our long options that go with a mode (each checked against it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    /// `--status` (`-l`).
    pub status: bool,
    /// `--keep-going` (`-l`, `-p`, `-x`).
    pub keep_going: bool,
    /// `--parallel[=N]` (`-p`).
    pub parallel: Option<Parallel>,
    /// `--dry-run` (`-e`).
    pub dry_run: bool,
    /// `--exist-ok` (`-e create`, `-e import`).
    pub exist_ok: bool,
}

/// How many instances `--parallel` runs at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parallel {
    /// No N given: as many as there are CPUs, one fewer for the stop
    /// commands (`iterator::postfix`).
    Default,
    AtMost(usize),
}

/// The outcome of parsing: either work for postmulti, or one of our long
/// option extensions that need no configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Run(Invocation),
    Help,
    Version,
    /// `--man-page`.
    ManPage,
    /// `--completions SHELL` (or `=SHELL`): the shell, as given.
    Completions(OsString),
    /// `--systemd-generator DIR...`: the arguments after it.
    SystemdGenerator(Vec<OsString>),
}

/// Why a command line was refused, in the words of the real postmulti.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageError {
    /// glibc getopt's own complaint (printed as is), followed by the usage
    /// text as a fatal error.
    Getopt(Vec<u8>),
    /// A fatal error with this text.
    Fatal(Vec<u8>),
}

/// The mode options as getopt sees them, before the usage checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RawMode {
    List,
    Postfix,
    Command,
    LifeCycle(&'static str),
}

/// The usage text of the real postmulti (one line, no space after `Usage:`).
pub fn usage_text(prog: &[u8]) -> Vec<u8> {
    let p = String::from_utf8_lossy(prog);
    format!(
        "Usage:{p} -l [-v] [-a] [-g group] [-i instance] | \
         {p} -p [-v] [-a] [-g group] [-i instance] command... | \
         {p} -x [-v] [-a] [-i name] [-g group] command... | \
         {p} -e action [-v] [-a] [-i name] [-g group] [-I name] [-G group] [param=value ...]"
    )
    .into_bytes()
}

/// Our `--help` text.
pub fn print_help(prog: &[u8]) {
    print!("{}", flags::help_text(&String::from_utf8_lossy(prog)));
}

fn fatal(text: impl Into<String>) -> UsageError {
    UsageError::Fatal(text.into().into_bytes())
}

fn getopt_error(prog: &[u8], what: &str, opt: &[u8]) -> UsageError {
    let mut line = prog.to_vec();
    line.extend_from_slice(b": ");
    line.extend_from_slice(what.as_bytes());
    line.extend_from_slice(b" -- '");
    line.extend_from_slice(opt);
    line.extend_from_slice(b"'\n");
    UsageError::Getopt(line)
}

/// Parses `args` (without argv[0]) exactly as postmulti's getopt loop and
/// post-parse checks do; `prog` is the program name used in getopt messages.
pub fn parse(prog: &[u8], args: &[OsString]) -> Result<Parsed, UsageError> {
    let raw = clap_lex::RawArgs::new(args.iter());
    let mut cursor = raw.cursor();

    let mut select_count = 0u32;
    let mut selection = Selection::Unspecified;
    let mut mode_count = 0u32;
    let mut mode: Option<RawMode> = None;
    let mut assignment = Assignment::default();
    let mut reverse = false;
    let mut json = false;
    let mut verbosity = 0u32;
    let mut extensions = Extensions::default();

    while let Some(arg) = raw.peek(&cursor) {
        if arg.is_escape() {
            raw.next(&mut cursor);
            break;
        }
        if let Some((name, value)) = arg.to_long() {
            raw.next(&mut cursor);
            let value = value.map(|v| v.as_bytes().to_vec());
            // Only the table's long options exist, so none can be parsed
            // that --help, the manual page and the completions lack.
            let known = name.ok().and_then(flags::long).and_then(|f| f.long);
            match (known, value) {
                (Some("help"), None) => return Ok(Parsed::Help),
                (Some("systemd-generator"), None) => {
                    let rest = raw
                        .remaining(&mut cursor)
                        .map(OsStr::to_os_string)
                        .collect();
                    return Ok(Parsed::SystemdGenerator(rest));
                }
                (Some("version"), None) => return Ok(Parsed::Version),
                (Some("man-page"), None) => return Ok(Parsed::ManPage),
                (Some("completions"), Some(shell)) => {
                    return Ok(Parsed::Completions(OsString::from_vec(shell)));
                }
                (Some("completions"), None) => {
                    let shell = raw.next_os(&mut cursor).unwrap_or_default();
                    return Ok(Parsed::Completions(shell.to_os_string()));
                }
                (Some("status"), None) => extensions.status = true,
                (Some("keep-going"), None) => extensions.keep_going = true,
                (Some("dry-run"), None) => extensions.dry_run = true,
                (Some("exist-ok"), None) => extensions.exist_ok = true,
                (Some("parallel"), None) => extensions.parallel = Some(Parallel::Default),
                (Some("parallel"), Some(n)) => {
                    let count = std::str::from_utf8(&n)
                        .ok()
                        .and_then(|n| n.parse::<usize>().ok())
                        .filter(|&n| n > 0);
                    match count {
                        Some(count) => extensions.parallel = Some(Parallel::AtMost(count)),
                        None => {
                            return Err(UsageError::Fatal(msg!(
                                b"--parallel=N needs a positive number of instances: '",
                                n,
                                b"'"
                            )));
                        }
                    }
                }
                // Plain getopt reads `--name` as a cluster that starts
                // with the option character '-', which it does not know.
                _ => return Err(getopt_error(prog, "invalid option", b"-")),
            }
            continue;
        }
        let Some(mut shorts) = arg.to_short() else {
            break; // the first operand ends option parsing (leading '+')
        };
        raw.next(&mut cursor);
        while let Some(flag) = shorts.next_flag() {
            let flag = match flag {
                Ok(c) => c,
                Err(rest) => {
                    let byte = rest.as_bytes()[..1].to_vec();
                    return Err(getopt_error(prog, "invalid option", &byte));
                }
            };
            let takes_value = flags::short(flag)
                .is_some_and(|f| matches!(f.argument, flags::Argument::Required(_)));
            let value: Option<Vec<u8>> = if takes_value {
                match shorts.next_value_os() {
                    Some(v) => Some(v.as_bytes().to_vec()),
                    None => match raw.next_os(&mut cursor) {
                        Some(v) => Some(v.as_bytes().to_vec()),
                        None => {
                            let mut buf = [0u8; 4];
                            return Err(getopt_error(
                                prog,
                                "option requires an argument",
                                flag.encode_utf8(&mut buf).as_bytes(),
                            ));
                        }
                    },
                }
            } else {
                None
            };
            let mut set_mode = |new: RawMode| {
                if mode != Some(new) {
                    mode_count += 1;
                }
                mode = Some(new);
            };
            match (flag, value) {
                ('a', _) => {
                    if selection != Selection::All {
                        select_count += 1;
                    }
                    selection = Selection::All;
                }
                ('e', Some(action)) => {
                    let Some(&known) = flags::ACTIONS.iter().find(|a| a.as_bytes() == action)
                    else {
                        let mut text = b"Invalid '-e' edit action '".to_vec();
                        text.extend_from_slice(&action);
                        text.extend_from_slice(
                            b"'. Specify 'create', 'destroy', 'import', 'deport', \
                              'enable', 'disable', 'assign' or 'init'",
                        );
                        return Err(UsageError::Fatal(text));
                    };
                    set_mode(RawMode::LifeCycle(known));
                }
                ('g', Some(group)) => {
                    select_count += 1;
                    selection = Selection::Group(group);
                }
                ('i', Some(name)) => {
                    select_count += 1;
                    selection = Selection::Name(name);
                }
                ('j', _) => json = true,
                ('G', Some(group)) => {
                    if assignment.group.is_some() {
                        return Err(fatal("Specify at most one '-G' option"));
                    }
                    assignment.group = Some(dash_clears(group));
                }
                ('I', Some(name)) => {
                    if assignment.name.is_some() {
                        return Err(fatal("Specify at most one '-I' option"));
                    }
                    assignment.name = Some(dash_clears(name));
                }
                ('l', _) => set_mode(RawMode::List),
                ('p', _) => set_mode(RawMode::Postfix),
                ('R', _) => reverse = !reverse,
                ('v', _) => verbosity += 1,
                ('x', _) => set_mode(RawMode::Command),
                _ => {
                    let mut buf = [0u8; 4];
                    return Err(getopt_error(
                        prog,
                        "invalid option",
                        flag.encode_utf8(&mut buf).as_bytes(),
                    ));
                }
            }
        }
    }
    let operands: Vec<OsString> = raw
        .remaining(&mut cursor)
        .map(OsStr::to_os_string)
        .collect();

    if select_count > 1 {
        return Err(fatal("Specity no more than one of '-a', '-g', '-i'"));
    }
    let mode = match (mode_count, mode) {
        (1, Some(mode)) => mode,
        _ => return Err(fatal("Specify exactly one of '-e', '-l', '-p', '-x'")),
    };
    if mode == RawMode::List && !operands.is_empty() {
        return Err(fatal("Command not allowed with '-l'"));
    }
    if matches!(mode, RawMode::Postfix | RawMode::Command) && operands.is_empty() {
        return Err(fatal("Command required with '-p' or '-x' option"));
    }
    if matches!(mode, RawMode::Postfix | RawMode::LifeCycle(_)) && reverse {
        return Err(fatal("The '-p' and '-e' options preclude the use of '-R'"));
    }
    let assigns = assignment.name.is_some() || assignment.group.is_some();
    match mode {
        RawMode::LifeCycle("create" | "import" | "assign") => {}
        RawMode::LifeCycle(action) if assigns => {
            return Err(fatal(format!(
                "Cannot assign instance name or group with '-e {action}'"
            )));
        }
        _ if assigns => {
            return Err(fatal(
                "Cannot assign instance name or group without '-e assign'",
            ));
        }
        _ => {}
    }
    if mode == RawMode::LifeCycle("assign") && !assigns {
        return Err(fatal("Specify new instance name or group with '-e assign'"));
    }
    if let RawMode::LifeCycle(action) = mode
        && action != "create"
        && action != "import"
        && !operands.is_empty()
    {
        return Err(fatal(format!(
            "Parameter overrides not valid with '-e {action}'"
        )));
    }
    if json && mode != RawMode::List {
        return Err(fatal("JSON output available only with '-l'"));
    }
    check_extensions(&extensions, mode)?;

    let overrides = || {
        operands
            .iter()
            .map(|o| o.clone().into_vec())
            .collect::<Vec<_>>()
    };
    let mode = match mode {
        RawMode::List => Mode::List { json, reverse },
        RawMode::Postfix => Mode::Postfix { command: operands },
        RawMode::Command => Mode::Command {
            command: operands,
            reverse,
        },
        RawMode::LifeCycle(action) => Mode::LifeCycle(match action {
            "init" => Action::Init,
            "create" => Action::Create {
                assignment,
                overrides: overrides(),
            },
            "import" => Action::Import {
                assignment,
                overrides: overrides(),
            },
            "destroy" => Action::Destroy,
            "deport" => Action::Deport,
            "enable" => Action::Enable,
            "disable" => Action::Disable,
            _ => Action::Assign(assignment),
        }),
    };
    Ok(Parsed::Run(Invocation {
        verbosity,
        selection,
        mode,
        extensions,
    }))
}

/// Our long options, each with the modes it goes with; checked after
/// every check of the real postmulti.
fn check_extensions(extensions: &Extensions, mode: RawMode) -> Result<(), UsageError> {
    let list = mode == RawMode::List;
    let iterator = matches!(mode, RawMode::List | RawMode::Postfix | RawMode::Command);
    let life_cycle = matches!(mode, RawMode::LifeCycle(_));
    let creates = matches!(mode, RawMode::LifeCycle("create" | "import"));
    let checks = [
        (extensions.status, list, "--status is valid only with '-l'"),
        (
            extensions.keep_going,
            iterator,
            "--keep-going is valid only with '-l', '-p' or '-x'",
        ),
        (
            extensions.parallel.is_some(),
            mode == RawMode::Postfix,
            "--parallel is valid only with '-p'",
        ),
        (
            extensions.dry_run,
            life_cycle,
            "--dry-run is valid only with '-e'",
        ),
        (
            extensions.exist_ok,
            creates,
            "--exist-ok is valid only with '-e create' or '-e import'",
        ),
    ];
    match checks.iter().find(|(given, allowed, _)| *given && !allowed) {
        Some((_, _, text)) => Err(fatal(*text)),
        None => Ok(()),
    }
}

fn dash_clears(value: Vec<u8>) -> Vec<u8> {
    if value == b"-" { Vec::new() } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Parsed, UsageError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(b"postmulti", &args)
    }

    fn invocation(args: &[&str]) -> Invocation {
        match run(args) {
            Ok(Parsed::Run(inv)) => inv,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn fatal_text(args: &[&str]) -> String {
        match run(args) {
            Err(UsageError::Fatal(t)) => String::from_utf8(t).unwrap(),
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn no_options_needs_a_mode() {
        assert_eq!(
            fatal_text(&[]),
            "Specify exactly one of '-e', '-l', '-p', '-x'"
        );
    }

    #[test]
    fn options_stop_at_the_first_operand() {
        let inv = invocation(&["-x", "postconf", "-e", "a=b"]);
        assert_eq!(
            inv.mode,
            Mode::Command {
                command: os(&["postconf", "-e", "a=b"]),
                reverse: false
            }
        );
        let inv = invocation(&["-p", "start", "-i", "foo"]);
        assert_eq!(inv.selection, Selection::Unspecified);
    }

    #[test]
    fn double_dash_is_consumed() {
        let inv = invocation(&["-p", "--", "-start"]);
        assert_eq!(
            inv.mode,
            Mode::Postfix {
                command: os(&["-start"])
            }
        );
    }

    #[test]
    fn lone_dash_is_an_operand() {
        assert_eq!(fatal_text(&["-l", "-"]), "Command not allowed with '-l'");
    }

    #[test]
    fn clusters_and_attached_arguments() {
        let inv = invocation(&["-aRl"]);
        assert_eq!(
            inv.mode,
            Mode::List {
                json: false,
                reverse: true
            }
        );
        assert_eq!(inv.selection, Selection::All);
        let inv = invocation(&["-lipostfix-a"]);
        assert_eq!(inv.selection, Selection::Name(b"postfix-a".to_vec()));
        let inv = invocation(&["-ecreate", "-I", "-", "-G", "-"]);
        assert_eq!(
            inv.mode,
            Mode::LifeCycle(Action::Create {
                assignment: Assignment {
                    name: Some(vec![]),
                    group: Some(vec![])
                },
                overrides: vec![]
            })
        );
    }

    #[test]
    fn option_arguments_may_start_with_a_dash() {
        let inv = invocation(&["-l", "-i", "-"]);
        assert_eq!(inv.selection, Selection::Name(b"-".to_vec()));
        let inv = invocation(&["-l", "-i", "-x"]);
        assert_eq!(inv.selection, Selection::Name(b"-x".to_vec()));
    }

    #[test]
    fn reverse_toggles() {
        let inv = invocation(&["-R", "-R", "-p", "status"]);
        assert!(matches!(inv.mode, Mode::Postfix { .. }));
        assert_eq!(
            fatal_text(&["-R", "-p", "status"]),
            "The '-p' and '-e' options preclude the use of '-R'"
        );
    }

    #[test]
    fn selection_counting() {
        assert!(run(&["-a", "-a", "-l"]).is_ok());
        let text = "Specity no more than one of '-a', '-g', '-i'";
        assert_eq!(fatal_text(&["-a", "-i", "x", "-a", "-l"]), text);
        assert_eq!(fatal_text(&["-g", "a", "-g", "b", "-l"]), text);
        assert_eq!(fatal_text(&["-i", "a", "-i", "a", "-l"]), text);
    }

    #[test]
    fn mode_counting() {
        assert!(run(&["-l", "-l"]).is_ok());
        let text = "Specify exactly one of '-e', '-l', '-p', '-x'";
        assert_eq!(fatal_text(&["-l", "-x", "-l"]), text);
        assert_eq!(fatal_text(&["-e", "create", "-e", "import"]), text);
        assert!(run(&["-e", "init", "-e", "init"]).is_ok());
    }

    #[test]
    fn getopt_messages() {
        assert_eq!(
            run(&["-z"]),
            Err(UsageError::Getopt(
                b"postmulti: invalid option -- 'z'\n".to_vec()
            ))
        );
        assert_eq!(
            run(&["-l", "-e"]),
            Err(UsageError::Getopt(
                b"postmulti: option requires an argument -- 'e'\n".to_vec()
            ))
        );
        assert_eq!(
            run(&["--bogus"]),
            Err(UsageError::Getopt(
                b"postmulti: invalid option -- '-'\n".to_vec()
            ))
        );
    }

    #[test]
    fn errors_in_the_loop_come_in_command_line_order() {
        assert!(matches!(
            run(&["-z", "-e", "bogus"]),
            Err(UsageError::Getopt(_))
        ));
        assert!(fatal_text(&["-e", "bogus", "-z"]).starts_with("Invalid '-e' edit action 'bogus'"));
        assert_eq!(
            fatal_text(&["-I", "a", "-I", "b"]),
            "Specify at most one '-I' option"
        );
    }

    #[test]
    fn assignment_checks() {
        assert_eq!(
            fatal_text(&["-I", "x", "-p", "start"]),
            "Cannot assign instance name or group without '-e assign'"
        );
        assert_eq!(
            fatal_text(&["-G", "x", "-e", "destroy"]),
            "Cannot assign instance name or group with '-e destroy'"
        );
        assert_eq!(
            fatal_text(&["-e", "assign", "-i", "x"]),
            "Specify new instance name or group with '-e assign'"
        );
        assert_eq!(
            fatal_text(&["-e", "init", "foo=bar"]),
            "Parameter overrides not valid with '-e init'"
        );
    }

    #[test]
    fn json_is_checked_last() {
        assert_eq!(
            fatal_text(&["-j"]),
            "Specify exactly one of '-e', '-l', '-p', '-x'"
        );
        assert_eq!(
            fatal_text(&["-j", "-e", "init", "foo=bar"]),
            "Parameter overrides not valid with '-e init'"
        );
        assert_eq!(
            fatal_text(&["-j", "-p", "status"]),
            "JSON output available only with '-l'"
        );
        assert_eq!(
            invocation(&["-j", "-l", "-j"]).mode,
            Mode::List {
                json: true,
                reverse: false
            }
        );
    }

    #[test]
    fn long_options_are_extensions() {
        assert_eq!(run(&["--help"]), Ok(Parsed::Help));
        assert_eq!(run(&["-l", "--version"]), Ok(Parsed::Version));
        assert_eq!(run(&["--man-page"]), Ok(Parsed::ManPage));
        for args in [&["--completions", "zsh"][..], &["--completions=zsh"]] {
            assert_eq!(run(args), Ok(Parsed::Completions("zsh".into())));
        }
        assert_eq!(
            run(&["--completions"]),
            Ok(Parsed::Completions(OsString::new()))
        );
    }

    #[test]
    fn every_long_option_of_the_table_is_parsed() {
        for flag in flags::FLAGS.iter() {
            let Some(name) = flag.long else { continue };
            let spelled = match flag.argument {
                flags::Argument::None | flags::Argument::Rest(_) => format!("--{name}"),
                flags::Argument::Required(_) | flags::Argument::Optional(_) => {
                    format!("--{name}=1")
                }
            };
            let invalid = Err(UsageError::Getopt(
                b"postmulti: invalid option -- '-'\n".to_vec(),
            ));
            assert_ne!(run(&[&spelled, "-l"]), invalid, "{spelled}");
        }
    }
}
