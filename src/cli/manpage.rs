//! The manual page postmulti(1), as roff (`postmulti --man-page`; the
//! package installs it).  The synopsis, the option list, the life-cycle
//! actions and the examples of the long options come from [`flags`], so
//! the page names exactly the options `--help` and the completions name;
//! the rest is prose, kept here in a small markup that [`Roff`] turns into
//! man(7) requests:
//!
//! - a blank line starts a paragraph, `## Title` a subsection;
//! - `: term` starts a tagged paragraph (the lines after it are its body;
//!   terms on consecutive lines share one);
//! - `- ` starts a bullet, and its continuation lines are indented;
//! - a line indented by four spaces is a literal line (an example);
//! - in running text, `` `literal` `` is bold, `<placeholder>` italic, a
//!   word that starts with `-` is bold (an option), and `name(N)` refers
//!   to another page.
//!
//! Every `-` becomes `\-` (so that options and paths copy as ASCII), `\`
//! becomes `\e`, bold and italic words are never hyphenated, and no text
//! line starts with a control character, so that `man --warnings` and
//! `groff -ww` have nothing to say.

#![forbid(unsafe_code)]

use super::flags::{self, ACTIONS, Argument, FLAGS, Flag, Kind, SYNOPSIS};

/// The whole page.
pub fn render() -> String {
    let mut page = Roff::default();
    page.line(&format!(
        ".TH POSTMULTI 1 \"\" \"postmulti {}\" \"User Commands\"",
        env!("CARGO_PKG_VERSION")
    ));
    page.section("NAME");
    page.line("postmulti \\- manage the Postfix instances of a host");
    page.section("SYNOPSIS");
    for line in SYNOPSIS {
        page.line(".SY postmulti");
        page.line(&synopsis(line));
        page.line(".YS");
    }
    page.section("DESCRIPTION");
    page.prose(DESCRIPTION);
    page.section("OPTIONS");
    page.prose(OPTIONS_INTRO);
    for flag in FLAGS.iter().filter(|f| f.short.is_some()) {
        page.option(flag);
    }
    page.subsection("Long options");
    page.prose(LONG_OPTIONS_INTRO);
    for flag in FLAGS.iter().filter(|f| f.short.is_none()) {
        page.option(flag);
    }
    page.section("COMMAND LINE");
    page.prose(&COMMAND_LINE.replace("@STANDALONE@", &standalone()));
    page.section("LIFE-CYCLE ACTIONS");
    page.prose(ACTIONS_INTRO);
    for action in ACTIONS {
        page.prose(&format!(": `{action}`\n{}", action_text(action)));
    }
    page.prose(ACTIONS_AFTER);
    page.section("MULTIPLE INSTANCES UNDER SYSTEMD");
    page.prose(SYSTEMD);
    page.section("EXIT STATUS");
    page.prose(EXIT_STATUS);
    page.section("ENVIRONMENT");
    page.prose(ENVIRONMENT);
    page.section("FILES");
    page.prose(FILES);
    page.section("DIFFERENCES FROM POSTFIX");
    page.prose(DIFFERENCES);
    page.section("EXAMPLES");
    page.prose(EXAMPLES);
    page.prose("One example of each long option:");
    let examples: Vec<String> = FLAGS
        .iter()
        .filter_map(|f| f.example)
        .map(|e| format!("    {e}"))
        .collect();
    page.prose(&examples.join("\n"));
    page.section("SEE ALSO");
    page.prose(SEE_ALSO);
    page.text
}

/// The options that act alone, as a phrase: "--a, --b and --c".
fn standalone() -> String {
    let names: Vec<String> = flags::of_kind(Kind::Standalone).map(flags::name).collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// What the manual says about each life-cycle action (its one line in
/// `ACTION_HELP` is what the completions show).
fn action_text(action: &str) -> &'static str {
    match action {
        "init" => {
            "Make the primary ready for more instances: set `multi_instance_wrapper = ${command_directory}/postmulti -p --` and `multi_instance_enable = yes` in its main.cf, which hands postfix(1) commands to postmulti -p. Every other action refuses to run before this is done (setting the two by hand does as well)."
        }
        "create" => {
            "Make a new secondary instance and register it. Its configuration directory gets a main.cf made from the installation's `main.cf.proto`, with the primary's values for what instances share, and a master.cf from `master.cf.proto`; its queue and data directories are made; owners and modes are set as `postfix set-permissions` sets them; last, the new directory is added to the primary's `multi_instance_directories`. -I gives the name, -G the group. The operands `config_directory=`, `queue_directory=` and `data_directory=` give the directories, and are the only ones accepted; a directory not given is the primary's with its last component replaced by the name (-I `postfix-out` makes `/etc/postfix-out`, `/var/spool/postfix-out` and `/var/lib/postfix-out`), so without -I all three are needed. A configuration directory that holds a main.cf and a master.cf already is taken as it is, as by import. The new instance is disabled."
        }
        "import" => {
            "Register an instance whose configuration directory, with its main.cf and master.cf, exists already: `config_directory=`<dir>, or the directory -I derives as for create. Its queue and data directories are those its main.cf names; -I and -G, if given, are written into it."
        }
        "destroy" => {
            "Take a secondary instance out of the list and delete it: its configuration, queue and data directories with the files Postfix made in them. The instance must be disabled and stopped, and its queue empty (see D1). Files Postfix did not make stay, and so do the directories that hold them."
        }
        "deport" => {
            "Take a disabled, stopped secondary instance out of the list, leaving its files alone; import registers it again."
        }
        "enable" => {
            "Write `multi_instance_enable = yes` into the instance's own main.cf: from then on postfix start, and with the generator the next boot, start it."
        }
        "disable" => {
            "Set `multi_instance_enable = no`: postfix start and boot leave the instance alone, and stop commands skip it too, so stop it first (once it is disabled, `postfix -c` <dir> `stop` still does)."
        }
        "assign" => {
            "Give a secondary instance a new name with -I, a new group with -G, or take them away with -I - and -G -. No two instances may have the same name."
        }
        _ => "",
    }
}

const DESCRIPTION: &str = "postmulti looks after the Postfix instances of one host: the primary instance, configured in `/etc/postfix`, and the secondary instances whose configuration directories the primary's `multi_instance_directories` lists. It lists them, runs postfix(1) or any other command for each of them in turn, and makes, registers, enables, disables, renames, deregisters and removes them.

This postmulti is a drop-in replacement, written in Rust, for the one of Postfix 3.11. A command line that Postfix's postmulti accepts gives the same output, messages, exit status and files here, apart from the deliberate differences listed below; everything new comes through long options, which Postfix's refuses. It reads the instances' main.cf files itself instead of starting postconf(1) once per instance; it carries out create, import and destroy itself wherever it reproduces exactly what the installation's postmulti-script would do, and runs postmulti-script otherwise; life-cycle actions wait for each other under one lock; and a create or import that fails is undone. The same binary serves Debian 12, Debian 13, sid and Postfix built from source: whatever depends on the installed Postfix it asks that Postfix when it runs.

Postfix runs postmulti as well. Once `postmulti -e init` has set `multi_instance_wrapper`, postfix start, postfix stop and the other postfix(1) commands are handed to postmulti -p, which runs them for every instance in the order of `multi_instance_directories`, backwards for stop commands, with the disabled instances left out or only checked (see -p).

The Debian package puts this program at `/usr/sbin/postmulti` in place of Postfix's own, which dpkg-divert(1) moves to `/usr/sbin/postmulti.postfix`; that program's manual page becomes postmulti.postfix(1).";

const OPTIONS_INTRO: &str = "A command line has exactly one of the modes -e, -l, -p and -x, and at most one of the selections -a, -g and -i.";

const LONG_OPTIONS_INTRO: &str = "Postfix's postmulti knows no long option: it answers each of these with `invalid option -- '-'` and its usage message, so none of them changes what a command line without it does. They may be placed anywhere among the options, but not after the first operand, where they belong to the command. One used with a mode it does not go with is refused: `postmulti: fatal: --`<option>` is valid only with '`<modes>`'`.";

const COMMAND_LINE: &str = "Options are read the way getopt(3) reads the option string `+ae:g:i:jG:I:lpRvx`:

- several options may share one word (-aRl), and an option's argument may be the rest of its word (-ipostfix-out) or the next word, even one that starts with - (-i - is the primary);
- the first word that is not an option, or a --, ends the options: in `postmulti -x postconf -n` the -n goes to postconf;
- -R given twice cancels itself, and -v may be repeated;
- the same mode twice counts as one, and so does -a twice, but -g or -i twice is two selections.

Then come these checks, in this order, each with the message of Postfix's postmulti: no more than one selection; exactly one mode; no operand with -l; a command with -p and -x; no -R with -p or -e; -I and -G only with -e create, import and assign, and assign needs one of them; <param>=<value> operands only with -e create and import; -j only with -l; last, the modes of the long options.

Even before it looks at the options, postmulti reads the primary main.cf and checks it as Postfix's library does, so a broken main.cf is reported even on a command line with a bad option. @STANDALONE@ are the exception: they act at once and read no configuration.

-i takes an instance's name, with or without its postfix- prefix (postfix-out or out), its configuration directory (any argument that starts with /), or - for the primary; -g takes a group and selects each instance whose `multi_instance_group` it is.";

const ACTIONS_INTRO: &str = "-e <action> works on one instance: the one -i names, except for init, which works on the primary, and create and import, which add one to the list where -a, -g or -i put it (at the head, before the group's first secondary, or before the named instance), else at the end. Each action makes the checks Postfix's makes, and refuses in its words.";

const ACTIONS_AFTER: &str = "With -v, an action says in one line whether it is carried out in-process, and as which installation's scripts would do it, or by postmulti-script, and why. With --dry-run it shows what it would do and does nothing.";

const SYSTEMD: &str = "At boot systemd starts units; it does not run postfix start. The package installs a systemd generator, `postmulti-instance-generator`, which runs postmulti --systemd-generator early at boot and at every `systemctl daemon-reload`, and a template unit, `postmulti@.service`. From the main.cf files alone the generator makes `postfix.service` want the unit of every enabled instance and of no disabled one, each ordered after the unit of the instance listed before it: boot starts what postfix start would start, in the same order.

After -e enable, disable, create, import, destroy or deport, or an edit of `multi_instance_directories` or `multi_instance_enable`, let systemd see the change:

    systemctl daemon-reload
    systemctl start postfix

An instance disabled while it runs goes on running until its unit is stopped. `systemctl stop postfix`, `restart` and `reload` act on every instance, each instance's unit being part of `postfix.service`; `systemctl status 'postfix*' 'postmulti@*'` shows them all.

## Debian 13 and sid

An instance in `/etc/postfix-`<inst> runs in Debian's `postfix@`<inst>`.service`, any other in `postmulti@`<escaped>`.service`, where <escaped> is what `systemd-escape -p` makes of its configuration directory (`postmulti@srv-postfix-relay.service` for `/srv/postfix/relay`). The secondaries start before the primary, in list order. The primary is Debian's `postfix.service`, which starts it even when it is disabled (the generator says so). Do not `systemctl enable postfix@`<inst>: the generator wants the enabled instances itself, and a unit enabled by hand starts at boot whatever postmulti says (the generator reports each such link). Start and stop instances with systemctl rather than postfix start, which Debian sends to systemctl only for `/etc/postfix-`<inst>.

## Debian 12

Every secondary runs in `postmulti@`<escaped>`.service`, after the chroot set-up that Debian's `postfix@.service` makes first; the primary runs in Debian's `postfix@-.service`, first, if it is enabled. Debian 12's postfix has a generator of its own, `/lib/systemd/system-generators/postfix-instance-generator`, which finds instances by name, wants the disabled ones too, orders nothing and runs postconf at boot; while it is there, ours generates nothing and says why. The package diverts it out of systemd's way (see FILES); without the package, mask it with `ln -s /dev/null /etc/systemd/system-generators/postfix-instance-generator`. Disable every `postfix@`<name>`.service` enabled by hand, as Debian 12's README suggested, except `postfix@-.service`.

## Postfix built from source

It brings no units: every instance gets `postmulti@`, and the administrator provides a `postfix.service` that starts the primary alone (`Environment=MAIL_CONFIG=/etc/postfix`, so that postfix start does not go through the wrapper).

## What the generator does

It reads only files (the primary main.cf, each listed instance's main.cf, the distribution's `postfix@.service`), starts no process and writes only into the first directory systemd gives it, through a hidden directory renamed into place, so that systemd never sees half of its work. It never fails the boot: it always exits 0, and reports what it cannot use in one line on stderr, which the journal keeps (`journalctl -b -g postmulti`). A secondary whose main.cf is missing or broken, or whose name or directories clash with an earlier instance's, is left out and the others still start; so is a listed directory that is not a normalised absolute path or holds a `$`; a broken primary main.cf means nothing is generated. In the initrd it does nothing.

`postmulti@.service` runs `postfix -c` <dir> `check` with full privileges, then `postfix -c` <dir> `start` (`stop`, `reload`) with the sandbox of Debian's own instance unit. It has no [Install] section: -e enable and -e disable decide.

Where systemd runs, postmulti -l --status adds the unit that starts each instance at boot and its state, and -e enable and -e disable, at a terminal, end with one line saying what to run so that boot follows the change.";

const EXIT_STATUS: &str = ": 0
Success; with -p and -x, the command succeeded for every instance it ran for.
: 1
An error: a usage error, a primary or secondary main.cf that cannot be read or is invalid, no matching instance, an action refused or failed (and undone), a command that failed or could not be run for at least one instance, or an instance --keep-going left out.
: other
A life-cycle action carried out by postmulti-script ends with the script's exit status.

--systemd-generator always exits 0.";

const ENVIRONMENT: &str = ": `MAIL_CONFIG`
If set, it must be `/etc/postfix` (postmulti always starts from the primary; otherwise `Non-default configuration directory`). Each command run for an instance finds that instance's configuration directory in it.
: `MAIL_VERBOSE`
Set, for the commands run for the instances, when -v is given.
: `MAIL_LOGTAG`
Set to the primary's `syslog_name` for everything postmulti runs.
: `PATH`
Where -x looks for its command, with `command_directory` put in front of it.
: `SYSTEMD_IN_INITRD`
With --systemd-generator: when it is 1, nothing is generated.

postmulti-script, where it runs, gets only the environment that the primary's `import_environment` lets through.";

const FILES: &str = ": `/etc/postfix/main.cf`
The primary's configuration: `multi_instance_directories` lists the secondaries, and `multi_instance_wrapper` sends postfix(1) commands through postmulti.
: <config_directory>`/main.cf`
A secondary's configuration: `multi_instance_name`, `multi_instance_group`, `multi_instance_enable`, and its directories.
: <meta_directory>`/main.cf.proto`
: <meta_directory>`/master.cf.proto`
What create makes a new instance's configuration from.
: <daemon_directory>`/postmulti-script`
Postfix's script, run for the actions postmulti does not carry out in-process.
: `/etc/postfix/.postmulti-destroy`
While a destroy runs, the directories it has still to remove; the next -e finishes a destroy that was killed.
: `/var/cache/postmulti/installation`
What the installed Postfix's postconf(1) said about its defaults, written by root and made again whenever postconf changes; the package's purge removes it.
: `/usr/sbin/postmulti.postfix`
: `/usr/share/man/man1/postmulti.postfix.1.gz`
Postfix's own postmulti and its manual page, where the package's diversions keep them; removing the package puts them back.
: `/usr/lib/systemd/system-generators/postmulti-instance-generator`
Runs postmulti --systemd-generator at boot and at `systemctl daemon-reload`.
: `/lib/systemd/postfix-instance-generator.postfix`
On Debian 12, Debian's own generator: the package's diversion moves it here, out of `/lib/systemd/system-generators`, where systemd would run it.
: `/usr/lib/systemd/system/postmulti@.service`
The unit for an instance, named after its configuration directory.
: `/usr/share/bash-completion/completions/postmulti`
: `/usr/share/zsh/vendor-completions/_postmulti`
: `/usr/share/fish/vendor_completions.d/postmulti.fish`
The completions for bash, zsh and fish, as --completions writes them.";

const DIFFERENCES: &str = "Each of them is for the administrator's benefit.

: D1
-e destroy refuses an instance whose queue still holds mail (`Instance '`<dir>`' `<queue>` queue is not empty`, exit status 1, nothing changed). Postfix's deletes the instance around the mail, although its manual asks for an empty queue.
: D2
-l -j shows the whole group name, escaped for JSON; Postfix's shows its first byte only.
: D3
A fatal error ends the program at once; Postfix's waits a second first.
: D4
-e create, -e import and -e destroy refuse an instance whose configuration, queue or data directory is not its own: a path that is not written as the kernel resolves it (`..`, a symbolic link, a repeated or trailing slash), a system directory (such as `/`, `/etc` or `/var`, or anything under `/usr`), or a directory that is, contains or lies inside one of the primary's, another instance's or Postfix's own. One line says which and why, for instance
    postmulti: fatal: queue_directory=/var/spool/../spool/postfix
        is not a canonical path (it is /var/spool/postfix)
(one line); the exit status is 1 and nothing is changed. Postfix's changes the owner of, or empties, whatever such a path leads to.
: rollback
A -e create or -e import that fails half-way prints the same messages and exits 1, but first puts back what it did: directories, files, owners, modes and main.cf edits. Postfix's leaves a half-made instance behind, in the way of the next create.
: -v with -e
One more line, saying which way the action is carried out and why.
: long options
The options under Long options; Postfix's calls each an invalid option.

Not visible in a single run: life-cycle actions take turns under one lock on `/etc/postfix`, so that concurrent creates cannot lose an instance, and a create or destroy that was killed is completed by running the same command again.";

const EXAMPLES: &str = "Two secondary instances, one for outgoing mail in group mta, one for incoming mail outside `/etc`:

    postmulti -e init
    postmulti -I postfix-out -G mta -e create
    postmulti -I postfix-in -e create config_directory=/srv/postfix/in \\
        queue_directory=/var/spool/postfix-in data_directory=/var/lib/postfix-in
    postmulti -i postfix-out -e enable
    postmulti -i in -e enable
    postfix start
    postmulti -l
    postmulti -i out -x postconf -n
    postmulti -g mta -p reload

Under systemd, after the enables:

    systemctl daemon-reload && systemctl start postfix

Taking one out again:

    postmulti -i postfix-in -p stop
    postmulti -i postfix-in -e disable
    postmulti -i postfix-in -e destroy";

const SEE_ALSO: &str = "postmulti.postfix(1), postfix(1), postconf(1), postconf(5), postfix-wrapper(5), master(8), systemd.generator(7), systemd-escape(1), dpkg-divert(1); Postfix's MULTI_INSTANCE_README.";

/// man(7) source being written.
#[derive(Default)]
struct Roff {
    text: String,
}

impl Roff {
    fn line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn section(&mut self, title: &str) {
        self.line(&format!(".SH \"{}\"", escape(title)));
    }

    fn subsection(&mut self, title: &str) {
        self.line(&format!(".SS \"{}\"", escape(title)));
    }

    /// An option: its spelling, what it does, its example.
    fn option(&mut self, flag: &Flag) {
        self.line(".TP");
        self.line(&spelling(flag));
        self.line(&inline(flag.description));
        if let Some(example) = flag.example {
            self.line(".IP");
            self.literal(&[example], true);
        }
    }

    /// Literal lines; `indented`: inside a tagged paragraph or bullet, at
    /// its indentation, else a little to the right of the text.
    fn literal(&mut self, lines: &[&str], indented: bool) {
        if !indented {
            self.line(".PP");
            self.line(".RS 4");
        }
        self.line(".nf");
        for line in lines {
            self.line(&lead(&escape(line)));
        }
        self.line(".fi");
        if !indented {
            self.line(".RE");
        }
    }

    /// Prose in the markup of this module's header.
    fn prose(&mut self, text: &str) {
        let mut para: Vec<&str> = Vec::new();
        let mut literal: Vec<&str> = Vec::new();
        // The request that opens the paragraph being gathered.
        let mut opener = ".PP";
        // Whether that paragraph is indented (a tag's body, a bullet).
        let mut indented = false;
        // Whether the last line was a term: the next one shares its body.
        let mut bare_term = false;
        for line in text.lines() {
            let term = line.strip_prefix(": ");
            let follows_term = std::mem::replace(&mut bare_term, term.is_some());
            if let Some(code) = line.strip_prefix("    ") {
                self.paragraph(opener, &mut para);
                literal.push(code);
                continue;
            }
            if !literal.is_empty() {
                if indented {
                    self.line(".IP");
                }
                self.literal(&literal, indented);
                literal.clear();
            }
            if line.trim().is_empty() {
                self.paragraph(opener, &mut para);
                (opener, indented) = (".PP", false);
            } else if let Some(title) = line.strip_prefix("## ") {
                self.paragraph(opener, &mut para);
                self.subsection(title);
                (opener, indented) = ("", false);
            } else if let Some(term) = term {
                self.paragraph(opener, &mut para);
                self.line(if follows_term { ".TQ" } else { ".TP" });
                self.line(&inline(term));
                (opener, indented) = ("", true);
            } else if let Some(item) = line.strip_prefix("- ") {
                self.paragraph(opener, &mut para);
                para.push(item);
                (opener, indented) = (".IP \\(bu 2", true);
            } else {
                para.push(line.trim());
            }
        }
        if !literal.is_empty() {
            if indented {
                self.line(".IP");
            }
            self.literal(&literal, indented);
        }
        self.paragraph(opener, &mut para);
    }

    /// The gathered lines as one paragraph, after `opener` (if any).
    fn paragraph(&mut self, opener: &str, para: &mut Vec<&str>) {
        if para.is_empty() {
            return;
        }
        if !opener.is_empty() {
            self.line(opener);
        }
        self.line(&inline(&para.join(" ")));
        para.clear();
    }
}

/// `\` and `-` escaped.
fn escape(text: &str) -> String {
    text.replace('\\', "\\e").replace('-', "\\-")
}

/// A line that would start with a control character gets `\&` first.
fn lead(line: &str) -> String {
    if line.starts_with('.') || line.starts_with('\'') {
        format!("\\&{line}")
    } else {
        line.to_string()
    }
}

/// Appends `text` to `out` in `font` (`B` bold, `I` italic).  A word it
/// starts is never hyphenated (`\%`, which inside a word would mark a
/// break instead): options, parameter names and paths are read whole.
fn push_font(out: &mut String, font: char, text: &str) {
    let starts_word = out.is_empty() || out.ends_with(' ');
    let keep = if starts_word { "\\%" } else { "" };
    out.push_str(&format!("\\f{font}{keep}{}\\fR", escape(text)));
}

/// An option as the OPTIONS list shows it: `\fB\%\-i\fR \fI\%name\fR`.
fn spelling(flag: &Flag) -> String {
    let mut out = String::new();
    push_font(&mut out, 'B', &flags::name(flag));
    match flag.argument {
        Argument::None => {}
        Argument::Required(arg) => {
            out.push(' ');
            push_font(&mut out, 'I', arg);
        }
        Argument::Optional(arg) => {
            out.push_str("[=");
            push_font(&mut out, 'I', arg);
            out.push(']');
        }
        Argument::Rest(args) => {
            out.push(' ');
            out.push_str(&synopsis(args));
        }
    }
    out
}

/// A synopsis line: options bold, placeholders italic, `[ ] | = ...` as
/// they are.
fn synopsis(line: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.is_empty() {
            return;
        }
        let (stem, dots) = match word.strip_suffix("...") {
            Some(stem) => (stem, "..."),
            None => (word.as_str(), ""),
        };
        if stem.starts_with('-') {
            push_font(out, 'B', stem);
        } else if !stem.is_empty() {
            push_font(out, 'I', stem);
        }
        out.push_str(dots);
        word.clear();
    };
    for c in line.chars() {
        match c {
            '[' | ']' | '|' | '=' | ' ' => {
                flush(&mut word, &mut out);
                out.push(c);
            }
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Running text: `` `literal` `` bold, `<placeholder>` italic, options
/// bold, `name(N)` bold.
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('`')
            && let Some(end) = after.find('`')
        {
            push_font(&mut out, 'B', &after[..end]);
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix('<')
            && let Some(end) = after.find('>')
            && !after[..end].contains(' ')
        {
            push_font(&mut out, 'I', &after[..end]);
            rest = &after[end + 1..];
        } else {
            let first = rest.chars().next().map_or(1, char::len_utf8);
            let end = rest[first..]
                .find(['`', '<', ' '])
                .map_or(rest.len(), |i| i + first);
            let (word, tail) = rest.split_at(end);
            push_word(&mut out, word);
            rest = tail;
        }
    }
    lead(&out)
}

/// One word of running text (with the space before it, if any): an
/// option or a page reference in bold, between the punctuation around it.
fn push_word(out: &mut String, word: &str) {
    if let Some(rest) = word.strip_prefix(' ') {
        out.push(' ');
        return push_word(out, rest);
    }
    let open = word.len() - word.trim_start_matches('(').len();
    out.push_str(&word[..open]);
    let core = &word[open..];
    let mut stem = core.trim_end_matches([',', '.', ';', ':', ')']);
    // A page reference keeps its own closing parenthesis.
    if core[stem.len()..].starts_with(')') && stem.contains('(') {
        stem = &core[..stem.len() + 1];
    }
    let close = &core[stem.len()..];
    let option = stem.len() > 1
        && stem.starts_with('-')
        && stem[1..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '-');
    let page = stem
        .strip_suffix(')')
        .and_then(|s| s.rsplit_once('('))
        .filter(|(name, n)| !name.is_empty() && n.len() == 1 && n.as_bytes()[0].is_ascii_digit());
    if option {
        push_font(out, 'B', stem);
    } else if let Some((name, n)) = page {
        push_font(out, 'B', name);
        out.push_str(&format!("({n})"));
    } else {
        out.push_str(&escape(stem));
    }
    out.push_str(&escape(close));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::flags::ACTION_HELP;

    /// The page without its no-hyphenation marks, which only matter to
    /// the typesetter.
    fn plain_page() -> String {
        render().replace("\\%", "")
    }

    fn bold(text: &str) -> String {
        format!("\\fB{}\\fR", escape(text))
    }

    fn section<'a>(page: &'a str, title: &str) -> &'a str {
        let heading = format!(".SH \"{}\"\n", escape(title));
        let start = page
            .find(&heading)
            .unwrap_or_else(|| panic!("no section {title}"));
        let body = &page[start + heading.len()..];
        &body[..body.find("\n.SH ").unwrap_or(body.len())]
    }

    #[test]
    fn every_option_is_in_the_synopsis_and_the_option_list() {
        let page = plain_page();
        let synopsis = section(&page, "SYNOPSIS");
        let options = section(&page, "OPTIONS");
        for flag in FLAGS.iter() {
            let name = flags::name(flag);
            assert!(
                synopsis.contains(&bold(&name)),
                "{name} is not in the SYNOPSIS"
            );
            assert!(
                options.contains(&format!(".TP\n{}\n", spelling(flag).replace("\\%", ""))),
                "{name} is not in OPTIONS"
            );
        }
    }

    #[test]
    fn every_action_is_described() {
        let page = plain_page();
        let actions = section(&page, "LIFE-CYCLE ACTIONS");
        assert_eq!(ACTION_HELP.len(), ACTIONS.len());
        for action in ACTIONS {
            assert!(!action_text(action).is_empty(), "{action}");
            assert!(
                actions.contains(&format!(".TP\n{}\n", bold(action))),
                "{action}"
            );
        }
    }

    /// The section the enable/disable hint of `systemd::status` sends the
    /// administrator to, and the deliberate differences of
    /// docs/compatibility.md.
    #[test]
    fn the_sections_others_refer_to_are_there() {
        let page = plain_page();
        assert!(section(&page, "MULTIPLE INSTANCES UNDER SYSTEMD").contains("daemon\\-reload"));
        let differences = section(&page, "DIFFERENCES FROM POSTFIX");
        for tag in ["D1", "D2", "D3", "D4", "rollback"] {
            assert!(differences.contains(&format!(".TP\n{tag}\n")), "{tag}");
        }
        for title in ["EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"] {
            section(&page, title);
        }
    }

    #[test]
    fn no_line_starts_with_a_stray_control_character() {
        let requests = [
            "TH", "SH", "SS", "SY", "YS", "PP", "TP", "TQ", "IP", "RS", "RE", "nf", "fi",
        ];
        for line in render().lines() {
            if let Some(request) = line.strip_prefix('.') {
                let name: String = request
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect();
                assert!(requests.contains(&name.as_str()), "{line}");
            }
            assert!(!line.starts_with('\''), "{line}");
            assert!(line.is_ascii(), "{line}");
        }
    }

    #[test]
    fn running_text_marks_options_pages_and_literals() {
        assert_eq!(
            inline("with -e create, see postfix(1) and `/etc/postfix-out`."),
            r"with \fB\%\-e\fR create, see \fB\%postfix\fR(1) and \fB\%/etc/postfix\-out\fR."
        );
        assert_eq!(
            inline("(see postconf(5)), or -i."),
            r"(see \fB\%postconf\fR(5)), or \fB\%\-i\fR."
        );
        // Inside a word, \% would be a place to break it: only at its start.
        assert_eq!(inline("(-I -) <dir>"), r"(\fB\-I\fR \-) \fI\%dir\fR");
        assert_eq!(
            inline("`Instance '`<dir>`'`"),
            r"\fB\%Instance '\fR\fIdir\fR\fB'\fR"
        );
        assert_eq!(inline(".x"), r"\&.x");
        assert_eq!(
            synopsis("-p [--parallel[=N]] command..."),
            r"\fB\%\-p\fR [\fB\-\-parallel\fR[=\fIN\fR]] \fI\%command\fR..."
        );
        assert_eq!(
            standalone(),
            "--systemd-generator, --man-page, --completions, --help and --version"
        );
    }

    /// groff (when this machine has it) reads the page without a warning.
    #[test]
    fn groff_reads_the_page_without_a_warning() {
        use std::io::Write;
        let Ok(mut child) = std::process::Command::new("groff")
            .args(["-man", "-ww", "-z", "-Tutf8"])
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
        else {
            eprintln!("skipped: no groff");
            return;
        };
        child
            .stdin
            .take()
            .unwrap()
            .write_all(render().as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    }
}
