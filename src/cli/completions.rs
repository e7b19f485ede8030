//! Shell completion scripts for bash, zsh and fish
//! (`postmulti --completions SHELL`; the package installs all three), made
//! from [`flags`]: every option with its one-line help, what its argument
//! names ([`Completes`]), the actions, the postfix(1) commands.
//!
//! The scripts follow the grammar, not a guess at it: options end at the
//! first operand (getopt's leading `+`), so after `-p` the first operand is
//! a postfix command and after `-x` a command of its own.  Instance names
//! and groups are read when Tab is pressed, from the `-l` of the postmulti
//! being completed (or `/usr/sbin/postmulti`): the first line is the
//! primary (`-`), a named instance is offered by name, a nameless one by
//! its configuration directory.

#![forbid(unsafe_code)]

use super::flags::{
    self, ACTION_HELP, ACTIONS, Argument, Completes, FLAGS, Flag, Kind, POSTFIX_COMMANDS, SHELLS,
    name,
};

/// The completion script for `shell`, if it is one of [`SHELLS`].
pub fn script(shell: &[u8]) -> Option<String> {
    match shell {
        b"bash" => Some(bash()),
        b"zsh" => Some(zsh()),
        b"fish" => Some(fish()),
        _ => None,
    }
}

/// The short options that take the next word as their argument (`egiGI`).
fn short_with_argument() -> String {
    FLAGS
        .iter()
        .filter(|f| matches!(f.argument, Argument::Required(_)))
        .filter_map(|f| f.short)
        .collect()
}

/// The long options that take the next word as their argument.
fn long_with_argument() -> Vec<&'static str> {
    FLAGS
        .iter()
        .filter(|f| matches!(f.argument, Argument::Required(_)) && f.short.is_none())
        .filter_map(|f| f.long)
        .collect()
}

/// The long options after which every word is an operand.
fn long_with_rest() -> Vec<&'static str> {
    FLAGS
        .iter()
        .filter(|f| matches!(f.argument, Argument::Rest(_)))
        .filter_map(|f| f.long)
        .collect()
}

/// The letters of the short options of one kind (`elpx` for the modes).
fn letters(kind: Kind) -> String {
    flags::of_kind(kind).filter_map(|f| f.short).collect()
}

const BASH: &str = r#"# bash completion for postmulti(1)                        -*- shell-script -*-
# Made by `postmulti --completions bash` from postmulti's description of its
# options; installed as /usr/share/bash-completion/completions/postmulti.

# _postmulti_list PROGRAM instances|groups: from PROGRAM -l, the primary as
# "-", each other instance by name (by directory if it has none); or the
# groups.
_postmulti_list() {
    local name group enabled dir first=1
    while read -r name group enabled dir; do
        if [ "$2" = groups ]; then
            [ "$group" = - ] || printf '%s\n' "$group"
        elif [ -n "$first" ]; then
            printf '%s\n' -
        elif [ "$name" != - ]; then
            printf '%s\n' "$name"
        else
            printf '%s\n' "$dir"
        fi
        first=
    done < <("$1" -l 2>/dev/null) | sort -u
}

# _postmulti_reply WORDS...: the words that start with $cur, after $lead.
_postmulti_reply() {
    local word
    COMPREPLY=()
    for word in "$@"; do
        [[ $word == "$cur"* ]] && COMPREPLY+=("$lead$word")
    done
}

# _postmulti_argument OPTION: complete the argument of OPTION.
_postmulti_argument() {
    case $1 in
@ARGUMENT_CASES@
    esac
}

_postmulti() {
    local cur=${COMP_WORDS[COMP_CWORD]} lead= pm=${COMP_WORDS[0]}
    local i j c word mode= operand=-1 want=
    command -v -- "$pm" >/dev/null 2>&1 || pm=/usr/sbin/postmulti
    COMPREPLY=()
    # The words before the cursor, as getopt reads them: the options end at
    # the first operand or after --.
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [ "$operand" -ge 0 ]; then
            operand=$((operand + 1))
        elif [ "$word" = = ]; then
            # --option=value, split at the = (COMP_WORDBREAKS): the next
            # word is the option's
            want=${COMP_WORDS[i - 1]}
        elif [ -n "$want" ]; then
            want=
        else
            case $word in
            --) operand=0 ;;
@LONG_CASES@
            --*) ;;
            -?*)
                for ((j = 1; j < ${#word}; j++)); do
                    c=${word:j:1}
                    case $c in [@MODES@]) mode=$c ;; esac
                    case $c in [@SHORT_ARGS@])
                        [ $((j + 1)) = ${#word} ] && want=$c
                        break ;;
                    esac
                done ;;
            *) operand=1 ;;
            esac
        fi
    done
    if [ "$operand" -lt 0 ]; then
        if [ "$cur" = = ]; then
            cur= want=${COMP_WORDS[COMP_CWORD - 1]}
        fi
        if [ -n "$want" ]; then
            _postmulti_argument "$want"
            return
        fi
        case $cur in
        --*=*)
            lead=${cur%%=*}= cur=${cur#*=}
            _postmulti_argument "${lead%=}"
            return ;;
        --*)
            _postmulti_reply @LONG_OPTIONS@
            return ;;
        -?*)
            # -ipostfix-o: the argument of an option in the same word
            for ((j = 1; j < ${#cur} - 1; j++)); do
                case ${cur:j:1} in [@SHORT_ARGS@])
                    lead=${cur:0:j+1} cur=${cur:j+1}
                    _postmulti_argument "${lead: -1}"
                    return ;;
                esac
            done
            _postmulti_reply @SHORT_OPTIONS@ @LONG_OPTIONS@
            return ;;
        esac
        operand=0
    fi
    case $mode$operand in
    p0) _postmulti_reply @POSTFIX_COMMANDS@ ;;
    x0) mapfile -t COMPREPLY < <(compgen -c -- "$cur") ;;
    x*) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    generator*) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
    ?0 | 0) [ -n "$cur" ] || _postmulti_reply @SHORT_OPTIONS@ @LONG_OPTIONS@ ;;
    esac
}

complete -F _postmulti postmulti
"#;

fn bash() -> String {
    let shorts: Vec<String> = FLAGS
        .iter()
        .filter(|f| f.short.is_some())
        .map(name)
        .collect();
    let longs: Vec<String> = FLAGS
        .iter()
        .filter(|f| f.short.is_none())
        .map(name)
        .collect();
    let mut arguments = String::new();
    for flag in FLAGS
        .iter()
        .filter(|f| !matches!(f.argument, Argument::None | Argument::Rest(_)))
    {
        let key = match (flag.short, flag.long) {
            (Some(c), _) => c.to_string(),
            (None, Some(l)) => format!("--{l}"),
            (None, None) => continue,
        };
        let action = match flag.completes {
            Completes::Instance => {
                "_postmulti_reply $(_postmulti_list \"$pm\" instances)".to_string()
            }
            Completes::Group => "_postmulti_reply $(_postmulti_list \"$pm\" groups)".to_string(),
            Completes::Action => format!("_postmulti_reply {}", ACTIONS.join(" ")),
            Completes::Shell => format!("_postmulti_reply {}", SHELLS.join(" ")),
            Completes::Directory => "mapfile -t COMPREPLY < <(compgen -d -- \"$cur\")".to_string(),
            Completes::Nothing => ":".to_string(),
        };
        arguments.push_str(&format!("    {key}) {action} ;;\n"));
    }
    let mut long_cases = String::new();
    for long in long_with_argument() {
        long_cases.push_str(&format!("            --{long}) want=--{long} ;;\n"));
    }
    for long in long_with_rest() {
        long_cases.push_str(&format!(
            "            --{long}) operand=0 mode=generator ;;\n"
        ));
    }
    BASH.replace("@ARGUMENT_CASES@\n", &arguments)
        .replace("@LONG_CASES@\n", &long_cases)
        .replace("@MODES@", &letters(Kind::Mode))
        .replace("@SHORT_ARGS@", &short_with_argument())
        .replace("@SHORT_OPTIONS@", &shorts.join(" "))
        .replace("@LONG_OPTIONS@", &longs.join(" "))
        .replace("@POSTFIX_COMMANDS@", &POSTFIX_COMMANDS.join(" "))
}

const ZSH: &str = r#"#compdef postmulti
# zsh completion for postmulti(1)
# Made by `postmulti --completions zsh` from postmulti's description of its
# options; installed as /usr/share/zsh/vendor-completions/_postmulti.

# The postmulti being completed, or the installed one.
_postmulti_program() {
    local pm=${words[1]:-postmulti}
    (( $+commands[$pm] )) || [[ -x $pm ]] || pm=/usr/sbin/postmulti
    print -r -- $pm
}

# From postmulti -l: the primary as "-", each other instance by name (by
# directory if it has none).
_postmulti_instances() {
    local -a lines fields items
    local line
    lines=(${(f)"$(_call_program instances $(_postmulti_program) -l 2>/dev/null)"})
    for line in $lines; do
        fields=(${=line})
        if (( $#items == 0 )); then
            items+=(-)
        elif [[ $fields[1] != - ]]; then
            items+=($fields[1])
        else
            items+=($fields[4])
        fi
    done
    _wanted instances expl instance compadd -a items
}

_postmulti_groups() {
    local -a lines groups
    local line
    lines=(${(f)"$(_call_program groups $(_postmulti_program) -l 2>/dev/null)"})
    for line in $lines; do
        line=${${=line}[2]}
        [[ $line == - ]] || groups+=($line)
    done
    _wanted groups expl group compadd -- ${(u)groups}
}

_postmulti_actions() {
    local -a actions
    actions=(
@ACTIONS@
    )
    _describe -t actions 'life-cycle action' actions
}

# The operands: a postfix command after -p, a command after -x.
_postmulti_operands() {
    if (( ${+opt_args[-p]} )); then
        (( CURRENT == 1 )) && _wanted commands expl 'postfix command' \
            compadd -- @POSTFIX_COMMANDS@
    elif (( ${+opt_args[-x]} )); then
        _normal
    elif (( ${+opt_args[-e]} )); then
        _message 'param=value'
    fi
}

_postmulti() {
    local curcontext=$curcontext state line expl ret=1
    typeset -A opt_args
    # -s: grouped options; -S: -- ends them; -A: so does the first operand.
    _arguments -s -S -A '-*' \
@SPECS@
        '*::operand:_postmulti_operands' && ret=0
    return ret
}

if [ "$funcstack[1]" = _postmulti ]; then
    _postmulti "$@"
else
    compdef _postmulti postmulti
fi
"#;

/// Text for inside a zsh `'...'` string, in an `_arguments` explanation.
fn zsh_quote(text: &str) -> String {
    text.replace('\'', "'\\''")
        .replace('[', "\\[")
        .replace(']', "\\]")
}

/// One `_arguments` spec.
fn zsh_spec(flag: &Flag) -> String {
    // Which options this one excludes: the other modes, the other
    // selections, or (acting alone) everything; a repeatable one none.
    let others = |kind| {
        let names: Vec<String> = flags::of_kind(kind).map(name).collect();
        format!("({})", names.join(" "))
    };
    let exclusions = match flag.kind {
        Kind::Mode => others(Kind::Mode),
        Kind::Selection => others(Kind::Selection),
        Kind::Repeatable => "*".to_string(),
        Kind::Standalone => "(- *)".to_string(),
        Kind::Setting => String::new(),
    };
    let action = match flag.completes {
        Completes::Instance => "_postmulti_instances".to_string(),
        Completes::Group => "_postmulti_groups".to_string(),
        Completes::Action => "_postmulti_actions".to_string(),
        Completes::Shell => format!("({})", SHELLS.join(" ")),
        Completes::Directory => "_directories".to_string(),
        Completes::Nothing => " ".to_string(),
    };
    let help = zsh_quote(flag.help);
    let spelled = name(flag);
    match flag.argument {
        Argument::None => format!("'{exclusions}{spelled}[{help}]'"),
        Argument::Required(arg) if flag.short.is_some() => {
            format!("'{exclusions}{spelled}+[{help}]:{arg}:{action}'")
        }
        Argument::Required(arg) => format!("'{exclusions}{spelled}=[{help}]:{arg}:{action}'"),
        Argument::Optional(arg) => format!("'{exclusions}{spelled}=-[{help}]::{arg}: '"),
        Argument::Rest(_) => format!("'{exclusions}{spelled}[{help}]:directory:{action}'"),
    }
}

fn zsh() -> String {
    let specs: Vec<String> = FLAGS
        .iter()
        .map(|f| format!("        {} \\\n", zsh_spec(f)))
        .collect();
    let actions: Vec<String> = ACTIONS
        .iter()
        .zip(ACTION_HELP)
        .map(|(a, h)| {
            format!(
                "        '{a}:{}'\n",
                h.replace(':', "\\:").replace('\'', "'\\''")
            )
        })
        .collect();
    ZSH.replace("@SPECS@\n", &specs.concat())
        .replace("@ACTIONS@\n", &actions.concat())
        .replace("@POSTFIX_COMMANDS@", &POSTFIX_COMMANDS.join(" "))
}

const FISH: &str = r#"# fish completion for postmulti(1)
# Made by `postmulti --completions fish` from postmulti's description of its
# options; installed as /usr/share/fish/vendor_completions.d/postmulti.fish.

# The mode and the number of operands before the cursor (-1: still in the
# options), reading the words as getopt does.
function __postmulti_state
    set -l words (commandline -opc)
    set -e words[1]
    set -l mode -
    set -l operands -1
    set -l want 0
    for word in $words
        if test $operands -ge 0
            set operands (math $operands + 1)
        else if test $want = 1
            set want 0
        else
            switch $word
                case --
                    set operands 0
@LONG_CASES@
                case '--*'
                case '-?*'
                    set -l letters (string split '' -- (string sub -s 2 -- $word))
                    for j in (seq (count $letters))
                        if contains -- $letters[$j] @MODES@
                            set mode $letters[$j]
                        end
                        if contains -- $letters[$j] @SHORT_ARGS@
                            test $j = (count $letters); and set want 1
                            break
                        end
                    end
                case '*'
                    set operands 1
            end
        end
    end
    echo $mode $operands
end

# Still in the options?
function __postmulti_options
    set -l state (string split ' ' -- (__postmulti_state))
    test $state[2] = -1
end

# __postmulti_operand MODE FIRST|LATER: the word being completed is an operand
# of MODE, the first one or a later one.
function __postmulti_operand
    set -l state (string split ' ' -- (__postmulti_state))
    test $state[1] = $argv[1]; or return 1
    if test $argv[2] = first
        test $state[2] -le 0
    else
        test $state[2] -ge 1
    end
end

function __postmulti_program
    set -l pm (commandline -opc)[1]
    command -q -- $pm; or set pm /usr/sbin/postmulti
    echo $pm
end

# From postmulti -l: the primary as "-", each other instance by name (by
# directory if it has none).
function __postmulti_instances
    set -l pm (__postmulti_program)
    set -l first 1
    for line in ($pm -l 2>/dev/null)
        set -l fields (string split -n ' ' -- $line)
        if test $first = 1
            printf '%s\tprimary instance\n' -
            set first 0
        else if test $fields[1] != -
            printf '%s\t%s\n' $fields[1] $fields[4]
        else
            echo $fields[4]
        end
    end
end

function __postmulti_groups
    set -l pm (__postmulti_program)
    for line in ($pm -l 2>/dev/null)
        set -l fields (string split -n ' ' -- $line)
        test $fields[2] != -; and echo $fields[2]
    end | sort -u
end

function __postmulti_actions
@ACTIONS@
end

complete -c postmulti -f
@COMPLETES@
complete -c postmulti -n '__postmulti_operand p first' -a '@POSTFIX_COMMANDS@' -d 'postfix command'
complete -c postmulti -n '__postmulti_operand x first' -a '(__fish_complete_command)'
complete -c postmulti -n '__postmulti_operand x later' -F
"#;

/// Text for inside a fish `'...'` string.
fn fish_quote(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\'', "\\'")
}

fn fish_complete(flag: &Flag) -> String {
    let mut line = String::from("complete -c postmulti -n __postmulti_options");
    match (flag.short, flag.long) {
        (Some(c), _) => line.push_str(&format!(" -s {c}")),
        (None, Some(l)) => line.push_str(&format!(" -l {l}")),
        (None, None) => {}
    }
    let candidates = match flag.completes {
        Completes::Instance => Some("(__postmulti_instances)".to_string()),
        Completes::Group => Some("(__postmulti_groups)".to_string()),
        Completes::Action => Some("(__postmulti_actions)".to_string()),
        Completes::Shell => Some(SHELLS.join(" ")),
        Completes::Directory => Some("(__fish_complete_directories)".to_string()),
        Completes::Nothing => None,
    };
    match flag.argument {
        Argument::None | Argument::Optional(_) => {}
        Argument::Required(_) | Argument::Rest(_) => line.push_str(" -x"),
    }
    if let Some(candidates) = candidates {
        line.push_str(&format!(" -a '{candidates}'"));
    }
    line.push_str(&format!(" -d '{}'", fish_quote(flag.help)));
    line
}

fn fish() -> String {
    let completes: Vec<String> = FLAGS.iter().map(|f| fish_complete(f) + "\n").collect();
    let actions: Vec<String> = ACTIONS
        .iter()
        .zip(ACTION_HELP)
        .map(|(a, h)| format!("    printf '%s\\t%s\\n' {a} '{}'\n", fish_quote(h)))
        .collect();
    let mut long_cases = String::new();
    for long in long_with_argument() {
        long_cases.push_str(&format!(
            "                case --{long}\n                    set want 1\n"
        ));
    }
    for long in long_with_rest() {
        long_cases.push_str(&format!(
            "                case --{long}\n                    set mode generator\n                    set operands 0\n"
        ));
    }
    let spaced = |s: &str| s.chars().map(String::from).collect::<Vec<_>>().join(" ");
    FISH.replace("@COMPLETES@\n", &completes.concat())
        .replace("@ACTIONS@\n", &actions.concat())
        .replace("@LONG_CASES@\n", &long_cases)
        .replace("@MODES@", &spaced(&letters(Kind::Mode)))
        .replace("@SHORT_ARGS@", &spaced(&short_with_argument()))
        .replace("@POSTFIX_COMMANDS@", &POSTFIX_COMMANDS.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_has_a_script() {
        for shell in SHELLS {
            let script = script(shell.as_bytes()).unwrap();
            // A placeholder is `@NAME@`; `"$@"` and `${x[@]}` are shell.
            let left = script.split('@').skip(1).step_by(2).find(|between| {
                !between.is_empty() && between.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
            });
            assert_eq!(left, None, "{shell}: a placeholder is left");
        }
        assert_eq!(script(b"csh"), None);
    }

    #[test]
    fn bash_offers_every_option() {
        let script = bash();
        let offered: Vec<&str> = script
            .lines()
            .filter_map(|l| l.trim().strip_prefix("_postmulti_reply "))
            .flat_map(|l| l.trim_end_matches(" ;;").split(' '))
            .collect();
        for flag in FLAGS.iter() {
            assert!(offered.contains(&name(flag).as_str()), "{}", name(flag));
        }
    }

    #[test]
    fn zsh_has_a_spec_for_every_option() {
        let script = zsh();
        for flag in FLAGS.iter() {
            let spec = zsh_spec(flag);
            assert!(script.contains(&format!("        {spec} \\\n")), "{spec}");
            let named = ["[", "+[", "=[", "=-["].map(|after| format!("{}{after}", name(flag)));
            assert!(named.iter().any(|n| spec.contains(n.as_str())), "{spec}");
        }
    }

    #[test]
    fn fish_has_a_line_for_every_option() {
        let script = fish();
        for flag in FLAGS.iter() {
            let option = match (flag.short, flag.long) {
                (Some(c), _) => format!(" -s {c} "),
                (_, Some(l)) => format!(" -l {l} "),
                _ => unreachable!(),
            };
            assert!(
                script
                    .lines()
                    .any(|l| l.starts_with("complete -c postmulti ") && l.contains(&option)),
                "{option}"
            );
        }
    }

    #[test]
    fn the_actions_and_postfix_commands_are_offered() {
        for script in [bash(), zsh(), fish()] {
            for word in ACTIONS.iter().chain(POSTFIX_COMMANDS.iter()) {
                assert!(script.contains(word), "{word}");
            }
        }
    }

    /// bash (when this machine has it) reads the script and completes
    /// actions, long options and their arguments (also after a `=`, which
    /// bash splits off), postfix commands, and nothing after a command.
    #[test]
    fn bash_completes_options_actions_and_commands() {
        let cases: [(&[&str], &str); 9] = [
            (&["postmulti", "-e", "cr"], "create"),
            (&["postmulti", "--compl"], "--completions"),
            (&["postmulti", "--completions", ""], "bash fish zsh"),
            (&["postmulti", "--completions", "=", "z"], "zsh"),
            (&["postmulti", "-p", "rel"], "reload"),
            (
                &["postmulti", "--parallel", "=", "4", "-p", "rel"],
                "reload",
            ),
            (&["postmulti", "-l", "-p", "status", "-"], ""),
            (&["postmulti", "-ecr"], "-ecreate"),
            (&["postmulti", "-v", "--", "-p"], ""),
        ];
        for (words, expected) in cases {
            let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
            let program = format!(
                "{}\nCOMP_WORDS=({}); COMP_CWORD={}; _postmulti; printf '%s\\n' \"${{COMPREPLY[@]}}\" | sort | tr '\\n' ' '",
                bash(),
                quoted.join(" "),
                words.len() - 1
            );
            let Ok(out) = std::process::Command::new("bash")
                .args(["--norc", "-c", &program])
                .output()
            else {
                eprintln!("skipped: no bash");
                return;
            };
            assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{words:?}");
            assert_eq!(
                String::from_utf8_lossy(&out.stdout).trim_end(),
                expected,
                "{words:?}"
            );
        }
    }
}
