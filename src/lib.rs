//! postmulti: Postfix's multi-instance manager, as a library behind a thin
//! `main`.  This file owns the start-up sequence, in the order the real
//! postmulti keeps (it is observable: which error wins when several
//! apply): main.cf before the options, the MAIL_CONFIG check, the usage
//! checks, the shared-directory check, then the mode.
//!
//! The layers, bottom up (docs/design.md states the rule):
//! `error`, `sys`, `diag`, `cli`, `maincf` — then `config`, `instance` —
//! then `iterator` and `lifecycle`.

#![deny(unsafe_code)]

pub mod error;

pub mod cli;
pub mod config;
pub mod diag;
pub mod instance;
pub mod iterator;
pub mod lifecycle;
pub mod maincf;
mod sys;
pub mod systemd;

use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use cli::{Mode, Parsed, UsageError};
use error::{Error, Result};

/// Runs postmulti with this process's arguments; the exit status.
pub fn main() -> ExitCode {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    ensure_standard_descriptors();
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    let prog = program_name(argv0.as_bytes()).to_vec();
    diag::init(&prog);
    let args: Vec<OsString> = args.collect();
    match run(&prog, &args) {
        Ok(status) => ExitCode::from(status),
        Err(err) => {
            if let Some(text) = err.fatal_text() {
                diag::log(diag::Level::Fatal, &text);
            }
            ExitCode::from(err.status())
        }
    }
}

fn run(prog: &[u8], args: &[OsString]) -> Result<u8> {
    let parsed = cli::parse(prog, args);
    match parsed {
        Ok(Parsed::Help) => {
            cli::print_help(prog);
            return Ok(0);
        }
        Ok(Parsed::Version) => {
            println!("postmulti (Rust) {}", env!("CARGO_PKG_VERSION"));
            return Ok(0);
        }
        Ok(Parsed::ManPage) => {
            print!("{}", cli::manpage::render());
            return Ok(0);
        }
        Ok(Parsed::Completions(shell)) => {
            return match cli::completions::script(shell.as_bytes()) {
                Some(script) => {
                    print!("{script}");
                    Ok(0)
                }
                None => Err(Error::Fatal(msg!(
                    b"--completions needs one of ",
                    cli::flags::SHELLS.join(", "),
                    b": '",
                    shell.as_bytes(),
                    b"'"
                ))),
            };
        }
        // At boot, before anything could start a process: files only.
        Ok(Parsed::SystemdGenerator(dirs)) => return Ok(systemd::generator::run(&dirs)),
        _ => {}
    }

    let life_cycle = matches!(
        &parsed,
        Ok(Parsed::Run(cli::Invocation {
            mode: Mode::LifeCycle(_),
            ..
        }))
    );
    // Life-cycle actions take their lock before main.cf is read, so that
    // what they read is what the previous action left.
    let _lock = if life_cycle {
        lifecycle::lock::acquire_if_present(&config::directory())?
    } else {
        None
    };
    let primary = config::Primary::load()?;
    let dry_run = matches!(&parsed, Ok(Parsed::Run(run)) if run.extensions.dry_run);
    let cache = if dry_run {
        config::installation::CacheWrites::Forbidden
    } else {
        config::installation::CacheWrites::Allowed
    };
    config::installation::discover(primary.main_cf(), cache);
    let params = config::Params::evaluate(&primary)?;
    export_logging_environment(&params);
    if let Some(dir) = std::env::var_os("MAIL_CONFIG")
        && dir.as_bytes() != maincf::defaults::CONFIG_DIRECTORY
    {
        fatal!(
            b"Non-default configuration directory: MAIL_CONFIG=",
            dir.as_bytes()
        );
    }

    let invocation = match parsed {
        Ok(Parsed::Run(invocation)) => invocation,
        Ok(
            Parsed::Help
            | Parsed::Version
            | Parsed::ManPage
            | Parsed::Completions(_)
            | Parsed::SystemdGenerator(_),
        ) => {
            unreachable!("handled above")
        }
        Err(UsageError::Getopt(line)) => {
            let _ = std::io::stderr().write_all(&line);
            return Err(Error::Fatal(cli::usage_text(prog)));
        }
        Err(UsageError::Fatal(text)) => return Err(Error::Fatal(text)),
    };
    if invocation.verbosity > 0 {
        sys::export("MAIL_VERBOSE", std::ffi::OsStr::new(""));
    }

    let mut claims = instance::Claims::default();
    instance::check_shared_dirs(&params, &mut claims)?;

    let extensions = &invocation.extensions;
    if let Mode::LifeCycle(action) = &invocation.mode {
        let status = lifecycle::perform(
            &params,
            claims,
            &invocation.selection,
            action,
            lifecycle::Options {
                verbose: invocation.verbosity > 0,
                dry_run: extensions.dry_run,
                exist_ok: extensions.exist_ok,
            },
        )?;
        if matches!(action, cli::Action::Enable | cli::Action::Disable)
            && !extensions.dry_run
            && std::io::stderr().is_terminal()
            && let Some(hint) = systemd::status::enable_hint()
        {
            // For an administrator at a terminal only: scripts see exactly
            // the real postmulti's output.
            let _ = writeln!(
                std::io::stderr(),
                "{}: {hint}",
                String::from_utf8_lossy(prog)
            );
        }
        return Ok(status);
    }
    let unloadable = if extensions.keep_going {
        instance::Unloadable::Skip
    } else {
        instance::Unloadable::Fatal
    };
    let loaded = instance::load(&params, &mut claims, unloadable)?;
    let instances = &loaded.instances;
    let selection = invocation.selection.or_all();
    let status = match &invocation.mode {
        Mode::List { json, reverse } => {
            let format = iterator::ListFormat {
                json: *json,
                reverse: *reverse,
                status: extensions.status,
            };
            let boot = extensions
                .status
                .then(|| {
                    systemd::status::boot_units(instances.iter().filter(|i| i.matches(selection)))
                })
                .flatten();
            iterator::list(instances, selection, format, boot.as_ref())?
        }
        Mode::Postfix { command } => iterator::run_postfix_command(
            &params,
            instances,
            selection,
            command,
            extensions.parallel,
        )?,
        Mode::Command { command, reverse } => {
            iterator::run_command(&params, instances, selection, command, *reverse)?
        }
        Mode::LifeCycle(_) => unreachable!("handled above"),
    };
    // --keep-going: a secondary left out makes the run a failure.
    Ok(if loaded.skipped > 0 {
        status.max(1)
    } else {
        status
    })
}

/// The basename of argv[0], unless it ends in `/`.
fn program_name(argv0: &[u8]) -> &[u8] {
    match argv0.iter().rposition(|&b| b == b'/') {
        Some(i) if i + 1 < argv0.len() => &argv0[i + 1..],
        _ => argv0,
    }
}

/// Makes sure fds 0, 1 and 2 are open (on /dev/null if need be), so that
/// nothing we open later lands on them: open() returns the lowest free
/// descriptor, so /dev/null is opened until it lands above 2.
fn ensure_standard_descriptors() {
    use std::os::fd::IntoRawFd;
    loop {
        match std::fs::File::options()
            .read(true)
            .write(true)
            .open("/dev/null")
        {
            Ok(file) if file_descriptor(&file) <= 2 => {
                // Keep it open: it now stands for the missing descriptor.
                let _ = file.into_raw_fd();
            }
            Ok(_) => return,
            Err(err) => {
                let err = Error::io("open", b"/dev/null", err);
                diag::log(diag::Level::Fatal, &err.fatal_text().unwrap_or_default());
                std::process::exit(1);
            }
        }
    }
}

fn file_descriptor(file: &std::fs::File) -> i32 {
    use std::os::fd::AsRawFd;
    file.as_raw_fd()
}

/// What the mail_conf library exports at start-up: `MAIL_LOGTAG`, and no
/// postlog service variables unless `maillog_file` is in use.
fn export_logging_environment(params: &config::Params) {
    sys::export(
        "MAIL_LOGTAG",
        std::ffi::OsStr::from_bytes(&params.syslog_name),
    );
    if params.eval("maillog_file").unwrap_or_default().is_empty() {
        sys::unexport("POSTLOG_SERVICE");
        sys::unexport("POSTLOG_HOSTNAME");
    }
}
