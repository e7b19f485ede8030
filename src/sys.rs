//! Every `unsafe` call of the program, behind a safe interface: syslog,
//! changing the process environment (which children inherit), and running
//! a child the way Postfix does, with fork, setenv in the child, and
//! execvp, in the foreground or (for `--parallel`) with its output on
//! descriptors of our choosing.
//!
//! Why not `std::process::Command`: it sorts the environment, while
//! Postfix's setenv keeps an inherited variable in its place and appends
//! new ones, and `-x env` shows the difference; and execvp must search
//! the PATH the child was just given.

// The one module allowed to use `unsafe` (the crate denies it, every
// other module forbids it).
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, OsStr, OsString};
use std::os::fd::{AsRawFd, BorrowedFd};

use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, execve, execvp, fork};

/// openlog(3) with `LOG_NDELAY | LOG_PID`, as Postfix opens its log.  The
/// C library keeps the pointer, hence the `'static` ident.
pub fn openlog(ident: &'static CStr, facility: libc::c_int) {
    // SAFETY: the ident is NUL-terminated and lives as long as the process.
    unsafe { libc::openlog(ident.as_ptr(), libc::LOG_NDELAY | libc::LOG_PID, facility) };
}

/// syslog(3) of one record, `priority` being facility and severity.
pub fn syslog(priority: libc::c_int, record: &CStr) {
    // SAFETY: both strings are NUL-terminated; "%s" consumes one argument.
    unsafe { libc::syslog(priority, c"%s".as_ptr(), record.as_ptr()) };
}

/// Sets a variable of this process's environment, for every child.  Only
/// called during start-up, while the program is single-threaded.
pub fn export(name: &str, value: &OsStr) {
    // SAFETY: start-up runs on the only thread; no other thread can be
    // reading the environment.
    unsafe { std::env::set_var(name, value) };
}

/// Removes a variable from this process's environment (see [`export`]).
pub fn unexport(name: &str) {
    // SAFETY: as for `export`.
    unsafe { std::env::remove_var(name) };
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEnd {
    Exited(i32),
    Killed,
}

/// Runs the program `path` with exactly `argv` and the environment `envp`
/// in a child, and waits for it; as [`run_child`] otherwise.
pub fn run_program(
    path: &CStr,
    argv: &[CString],
    envp: &[CString],
    report_exec_failure: &dyn Fn(Errno),
) -> Result<ChildEnd, Errno> {
    // SAFETY: as in `run_child`; the child only execs, reports and exits.
    match unsafe { fork() }? {
        ForkResult::Child => {
            let err = execve(path, argv, envp).unwrap_err();
            report_exec_failure(err);
            // SAFETY: as in `run_child`.
            unsafe { libc::_exit(1) }
        }
        ForkResult::Parent { child } => wait_for(child),
    }
}

/// Runs `argv` (searched in the PATH of the child's environment) in a
/// child whose environment is ours with `env` set in order, and waits for
/// it.  If the program cannot be executed, the child calls
/// `report_exec_failure` with the error and exits 1.  `Err` if no child
/// could be made or waited for.
pub fn run_child(
    argv: &[CString],
    env: &[(OsString, OsString)],
    report_exec_failure: &dyn Fn(Errno),
) -> Result<ChildEnd, Errno> {
    // SAFETY: the program is single-threaded whenever it runs children, so
    // the child may allocate; it only sets its environment, execs, reports
    // and exits.
    match unsafe { fork() }? {
        ForkResult::Child => {
            for (name, value) in env {
                // SAFETY: the child is single-threaded.
                unsafe { std::env::set_var(name, value) };
            }
            let err = execvp(&argv[0], argv).unwrap_err();
            report_exec_failure(err);
            // SAFETY: _exit ends the child without running the parent's
            // exit handlers or flushing its buffers a second time.
            unsafe { libc::_exit(1) }
        }
        ForkResult::Parent { child } => wait_for(child),
    }
}

/// Where a started child's standard output and error go.
#[derive(Debug, Clone, Copy)]
pub struct Outputs<'a> {
    pub stdout: BorrowedFd<'a>,
    pub stderr: BorrowedFd<'a>,
}

/// Starts `argv` as [`run_child`] does, with its standard output and
/// error on `outputs`, and returns without waiting: [`child_ended`] or
/// [`wait_for`] learn how it ended.  The caller marks every other
/// descriptor it holds close-on-exec, so the child holds only these.
pub fn start_child(
    argv: &[CString],
    env: &[(OsString, OsString)],
    outputs: Outputs,
    report_exec_failure: &dyn Fn(Errno),
) -> Result<Pid, Errno> {
    let (stdout, stderr) = (outputs.stdout.as_raw_fd(), outputs.stderr.as_raw_fd());
    // SAFETY: as in `run_child`.
    match unsafe { fork() }? {
        ForkResult::Child => {
            // SAFETY: dup2 on descriptors the parent keeps open across the
            // fork; the copies on 1 and 2 survive the exec.
            let moved = unsafe { libc::dup2(stdout, 1) >= 0 && libc::dup2(stderr, 2) >= 0 };
            if !moved {
                // SAFETY: as in `run_child`.
                unsafe { libc::_exit(1) }
            }
            for (name, value) in env {
                // SAFETY: the child is single-threaded.
                unsafe { std::env::set_var(name, value) };
            }
            let err = execvp(&argv[0], argv).unwrap_err();
            report_exec_failure(err);
            // SAFETY: as in `run_child`.
            unsafe { libc::_exit(1) }
        }
        ForkResult::Parent { child } => Ok(child),
    }
}

/// How `child` ended, if it has; never waits.
pub fn child_ended(child: Pid) -> Result<Option<ChildEnd>, Errno> {
    loop {
        match waitpid(child, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(Some(ChildEnd::Exited(code))),
            Ok(WaitStatus::Signaled(..)) => return Ok(Some(ChildEnd::Killed)),
            Ok(WaitStatus::StillAlive) => return Ok(None),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(err) => return Err(err),
        }
    }
}

/// Waits for `child` to end.
pub fn wait_for(child: Pid) -> Result<ChildEnd, Errno> {
    loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(ChildEnd::Exited(code)),
            Ok(WaitStatus::Signaled(..)) => return Ok(ChildEnd::Killed),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(err) => return Err(err),
        }
    }
}
