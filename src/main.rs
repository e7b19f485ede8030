//! postmulti: Postfix's multi-instance manager.  This file only sequences
//! start-up as the real postmulti does (main.cf before options, the
//! MAIL_CONFIG check, the usage checks, the shared-directory check) and
//! turns an error into one diagnostic line and an exit status.

mod atomic_write;
mod cli;
mod config;
mod create;
mod defaults;
mod destroy;
mod diag;
mod direct;
mod edit;
mod expand;
mod fatal;
mod instances;
mod iterate;
mod list;
mod lock;
mod maincf;
mod manage;
mod postinstall;
mod queue;
mod script;
mod secondary;
mod undo;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use anyhow::Result;

use cli::{Mode, Parsed, Selection, UsageError};
use fatal::Fatal;

/// An error that has already been reported; exit with this status.
#[derive(Debug)]
pub struct ExitQuietly(pub u8);

impl std::fmt::Display for ExitQuietly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for ExitQuietly {}

fn main() -> ExitCode {
    // SAFETY: umask has no memory-safety preconditions.
    unsafe { libc::umask(0o022) };
    ensure_standard_descriptors();
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    let prog = program_name(argv0.as_bytes()).to_vec();
    diag::init(&prog);
    let args: Vec<OsString> = args.collect();
    match run(&prog, &args) {
        Ok(status) => ExitCode::from(status),
        Err(err) => {
            if let Some(quiet) = err.downcast_ref::<ExitQuietly>() {
                return ExitCode::from(quiet.0);
            }
            match err.downcast_ref::<Fatal>() {
                Some(fatal) => diag::log(diag::Level::Fatal, &fatal.0),
                None => diag::log(diag::Level::Fatal, format!("{err:#}").as_bytes()),
            }
            ExitCode::from(1)
        }
    }
}

fn run(prog: &[u8], args: &[OsString]) -> Result<u8> {
    let parsed = cli::parse(prog, args);
    match parsed {
        Ok(Parsed::Help) => {
            print_help(prog);
            return Ok(0);
        }
        Ok(Parsed::Version) => {
            println!("postmulti (Rust) {}", env!("CARGO_PKG_VERSION"));
            return Ok(0);
        }
        _ => {}
    }

    let life_cycle = matches!(
        &parsed,
        Ok(Parsed::Run(cli::Invocation {
            mode: Mode::Edit(_),
            ..
        }))
    );
    // Life-cycle actions take their lock before main.cf is read, so that
    // what they read is what the previous action left.
    let _lock = if life_cycle {
        lock::acquire_if_present(&config::Config::directory())?
    } else {
        None
    };
    let config = config::Config::load()?;
    if life_cycle {
        let command_directory = config.eval("command_directory")?;
        defaults::adopt_installed(std::path::Path::new(std::ffi::OsStr::from_bytes(&msg!(
            command_directory,
            b"/postconf"
        ))));
    }
    let settings = config::Settings::evaluate(&config)?;
    export_logging_environment(&config, &settings);
    if let Some(dir) = std::env::var_os("MAIL_CONFIG")
        && dir.as_bytes() != defaults::CONFIG_DIRECTORY
    {
        fatal!(
            b"Non-default configuration directory: MAIL_CONFIG=",
            dir.as_bytes()
        );
    }

    let invocation = match parsed {
        Ok(Parsed::Run(invocation)) => invocation,
        Ok(Parsed::Help | Parsed::Version) => unreachable!("handled above"),
        Err(UsageError::Getopt(line)) => {
            use std::io::Write;
            let _ = std::io::stderr().write_all(&line);
            return Err(Fatal(cli::usage_text(prog)).into());
        }
        Err(UsageError::Fatal(text)) => return Err(Fatal(text).into()),
    };
    if invocation.verbosity > 0 {
        // SAFETY: single-threaded; children inherit it.
        unsafe { std::env::set_var("MAIL_VERBOSE", "") };
    }

    let mut claims = instances::Claims::default();
    instances::check_shared_dirs(&settings, &mut claims)?;

    let all = match invocation.selection {
        Selection::Unspecified => Selection::All,
        ref s => s.clone(),
    };
    match &invocation.mode {
        Mode::List { json, reverse } => {
            let instances = instances::load_all(&settings, &mut claims)?;
            let selected = instances.iter().filter(|i| i.matches(&all));
            if *reverse {
                list::print(selected.rev(), *json)?;
            } else {
                list::print(selected, *json)?;
            }
            Ok(0)
        }
        Mode::Postfix { command } => {
            let instances = instances::load_all(&settings, &mut claims)?;
            iterate::postfix(&settings, &instances, &all, command)
        }
        Mode::Command { command, reverse } => {
            let instances = instances::load_all(&settings, &mut claims)?;
            iterate::command(&settings, &instances, &all, command, *reverse)
        }
        Mode::Edit(edit) => manage::run(&config, &settings, claims, &invocation.selection, edit),
    }
}

/// The basename of argv[0], unless it ends in `/`.
fn program_name(argv0: &[u8]) -> &[u8] {
    match argv0.iter().rposition(|&b| b == b'/') {
        Some(i) if i + 1 < argv0.len() => &argv0[i + 1..],
        _ => argv0,
    }
}

/// Makes sure fds 0, 1 and 2 are open (on /dev/null if need be), so that
/// nothing we open later lands on them.
fn ensure_standard_descriptors() {
    for fd in 0..3 {
        // SAFETY: fcntl(F_GETFD) only inspects the descriptor.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            // SAFETY: open with a static C string; the result is checked.
            let opened = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
            if opened != fd {
                let err = std::io::Error::last_os_error();
                diag::log(diag::Level::Fatal, &Fatal::io("open /dev/null", &err).0);
                std::process::exit(1);
            }
        }
    }
}

/// What the mail_conf library exports at start-up: `MAIL_LOGTAG`, and no
/// postlog service variables unless `maillog_file` is in use.
fn export_logging_environment(config: &config::Config, settings: &config::Settings) {
    // SAFETY: single-threaded; these are inherited by every child.
    unsafe {
        std::env::set_var(
            "MAIL_LOGTAG",
            std::ffi::OsStr::from_bytes(&settings.syslog_name),
        );
        if config.eval("maillog_file").unwrap_or_default().is_empty() {
            std::env::remove_var("POSTLOG_SERVICE");
            std::env::remove_var("POSTLOG_HOSTNAME");
        }
    }
}

fn print_help(prog: &[u8]) {
    let p = String::from_utf8_lossy(prog);
    println!(
        "Usage: {p} -l [-v] [-a] [-g group] [-i instance] [-j]
       {p} -p [-v] [-a] [-g group] [-i instance] command...
       {p} -x [-v] [-a] [-i name] [-g group] [-R] command...
       {p} -e action [-v] [-a] [-i name] [-g group] [-I name] [-G group] [param=value ...]

Postfix multi-instance manager (a drop-in replacement for Postfix 3.11's postmulti).

  -l          list instances: name, group, enabled (y/n), config directory
  -j          with -l: one JSON object per line
  -p cmd...   run 'postfix cmd...' for each instance (start, stop, reload, ...)
  -x cmd...   run a command for each instance, with MAIL_CONFIG and friends set
  -e action   init, create, import, destroy, deport, enable, disable, assign
  -a          all instances (the default for -l, -p, -x)
  -g group    instances in this group
  -i name     the instance with this name (with or without 'postfix-'),
              config directory, or '-' for the primary instance
  -I name     new instance name (-e create, import, assign); '-' clears
  -G group    new instance group (-e create, import, assign); '-' clears
  -R          reverse order (-l, -x)
  -v          verbose: children see MAIL_VERBOSE
  --help      this text
  --version   the version of this implementation"
    );
}
