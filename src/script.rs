//! What Postfix's `postmulti-script` expects and how it speaks: the
//! environment postmulti hands it, the hand-over itself, its refusals of
//! an instance that is not initialised or still running, and messages in
//! its voice (it logs through postlog(1)).  Actions done in-process use
//! the same checks and words, so the two paths cannot drift apart.

use std::ffi::{CString, OsStr};
use std::io::IsTerminal;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Result;

use crate::config::{self, Config, Settings};
use crate::fatal::Fatal;
use crate::instances::Instance;
use crate::maincf;
use crate::{ExitQuietly, diag, fatal, msg};

/// What the script is told besides the target's directories: the new
/// instance list, and a new name or group.
#[derive(Debug, Default, Clone, Copy)]
pub struct Exports {
    pub directories: bool,
    pub name: bool,
    pub group: bool,
}

/// An environment block that keeps insertion order, with setenv()'s rule
/// that a variable set again keeps its place.
#[derive(Debug, Default)]
pub struct Environment(pub Vec<(Vec<u8>, Vec<u8>)>);

impl Environment {
    pub fn set(&mut self, name: &[u8], value: &[u8]) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(entry) => entry.1 = value.to_vec(),
            None => self.0.push((name.to_vec(), value.to_vec())),
        }
    }

    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// The script's environment: only what `import_environment` lets through,
/// then PATH, MAIL_CONFIG, the shared and the target's directories, and
/// what changes (the new instance list, name and group).
pub fn helper_environment(
    config: &Config,
    settings: &Settings,
    target: &Instance,
    instances: &[Instance],
    exports: &Exports,
) -> Result<Environment> {
    let mut env = Environment::default();
    let import = config.eval("import_environment")?;
    for entry in split_braced(&import) {
        if entry.contains(&b'=') {
            match maincf::split_name_value(&entry) {
                Ok((name, value)) => env.set(name, value),
                Err(err) => fatal!(b"clean_env: ", err, b" in: ", entry),
            }
        } else if let Some(value) = std::env::var_os(OsStr::from_bytes(&entry)) {
            env.set(&entry, value.as_bytes());
        }
    }
    let path = match env.get(b"PATH").filter(|p| !p.is_empty()) {
        Some(old) => msg!(settings.command_directory, b":", old),
        None => msg!(
            settings.command_directory,
            b":/bin:/usr/bin:/sbin:/usr/sbin"
        ),
    };
    env.set(b"PATH", &path);
    env.set(b"MAIL_CONFIG", &settings.config_dir);
    env.set(b"command_directory", &settings.command_directory);
    env.set(b"daemon_directory", &settings.daemon_directory);
    env.set(b"meta_directory", &settings.meta_directory);
    env.set(b"shlib_directory", &settings.shlib_directory);
    env.set(b"config_directory", &target.config_dir);
    env.set(b"queue_directory", &target.queue_dir);
    env.set(b"data_directory", &target.data_dir);
    if exports.directories {
        let dirs: Vec<&[u8]> = instances
            .iter()
            .skip(1)
            .map(|i| i.config_dir.as_slice())
            .collect();
        env.set(b"multi_instance_directories", &dirs.join(&b' '));
    }
    let or_dash = |v: &Option<Vec<u8>>| v.clone().unwrap_or_else(|| b"-".to_vec());
    if exports.name {
        env.set(b"multi_instance_name", &or_dash(&target.name));
    }
    if exports.group {
        env.set(b"multi_instance_group", &or_dash(&target.group));
    }
    Ok(env)
}

/// Splits a parameter list on commas and whitespace, with `{ ... }`
/// grouping (the braces and the space inside them removed).
pub fn split_braced(value: &[u8]) -> Vec<Vec<u8>> {
    let separators = config::LIST_SEPARATORS;
    let mut items = Vec::new();
    let mut i = 0;
    while i < value.len() {
        if separators.contains(&value[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut depth = 0;
        while i < value.len() && (depth > 0 || !separators.contains(&value[i])) {
            match value[i] {
                b'{' => depth += 1,
                b'}' => depth -= 1,
                _ => {}
            }
            i += 1;
        }
        let item = &value[start..i];
        match item.strip_prefix(b"{").and_then(|s| s.strip_suffix(b"}")) {
            Some(inner) => items.push(maincf::trim(inner).to_vec()),
            None => items.push(item.to_vec()),
        }
    }
    items
}

/// Replaces this process by `$daemon_directory/postmulti-script -e action`.
pub fn exec_script(settings: &Settings, action: &str, env: &Environment) -> Result<u8> {
    let script = msg!(settings.daemon_directory, b"/postmulti-script");
    let to_c = |b: &[u8]| CString::new(b.to_vec());
    let argv = [to_c(&script), to_c(b"-e"), to_c(action.as_bytes())];
    let envp: Vec<CString> = env
        .0
        .iter()
        .filter_map(|(n, v)| CString::new(msg!(n, b"=", v)).ok())
        .collect();
    let (Ok(path), Ok(e), Ok(a)) = (&argv[0], &argv[1], &argv[2]) else {
        fatal!(script, b": Invalid argument")
    };
    let err = nix::unistd::execve(path, &[path, e, a], &envp).unwrap_err();
    Err(Fatal::io(script, &std::io::Error::from_raw_os_error(err as i32)).into())
}

/// Whether a master process holds the lock on `<queue_dir>/pid/master.pid`,
/// the test `postfix status` makes (through `master -t`), without the
/// log line postfix-script would write.
pub fn master_is_running(queue_dir: &[u8]) -> bool {
    let pid_file = Path::new(OsStr::from_bytes(queue_dir)).join("pid/master.pid");
    let Ok(file) = std::fs::File::open(pid_file) else {
        return false;
    };
    // SAFETY: flock on a descriptor we own; the lock goes with the file.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    locked != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK)
}

/// Prints `text` as postmulti-script's `fatal` does (through postlog: the
/// syslog tag `<syslog_name>/postmulti-script`; on stderr that tag on a
/// terminal, `<syslog_name>/postlog` otherwise) and ends with status 1.
pub fn script_fatal(settings: &Settings, text: &[u8]) -> anyhow::Error {
    let tag = msg!(settings.syslog_name, b"/postmulti-script");
    let stderr_prog = if std::io::stderr().is_terminal() {
        tag.clone()
    } else {
        msg!(settings.syslog_name, b"/postlog")
    };
    diag::log_as(&tag, &stderr_prog, diag::Level::Fatal, text);
    ExitQuietly(1).into()
}

/// The script's first check for every action but init: `postmulti -e
/// init` must have set the wrapper and `multi_instance_enable = yes`
/// (exactly `yes`: the script compares case-sensitively).  `values` are
/// the two as `postconf -hx` prints them.
pub fn check_initialised(settings: &Settings, wrapper: &[u8], enable: &[u8]) -> Result<()> {
    if wrapper.is_empty() {
        return Err(script_fatal(
            settings,
            b"multi_instance_wrapper is empty, run 'postmulti -e init' first.",
        ));
    }
    if enable != b"yes" {
        return Err(script_fatal(
            settings,
            b"multi_instance_enable!=yes, run 'postmulti -e init' first.",
        ));
    }
    Ok(())
}

/// Whether the script's refusals of `destroy` (not initialised, no
/// main.cf, still running) would all pass.
pub fn would_proceed_with_destroy(config: &Config, target: &Instance) -> bool {
    let wrapper = config.eval("multi_instance_wrapper").unwrap_or_default();
    let enable = config.eval("multi_instance_enable").unwrap_or_default();
    !wrapper.is_empty()
        && enable == b"yes"
        && !target.config_dir.is_empty()
        && is_regular_file(&config::main_cf_path(&target.config_dir))
        && !master_is_running(&target.queue_dir)
}

/// `postfix -c <dir> status`, quietly, as the script asks it before
/// `deport` and `destroy`; besides the answer it leaves postfix-script's
/// record in the log, as the script's call does.
pub fn postfix_status_says_running(
    settings: &Settings,
    config_dir: &[u8],
    env: &Environment,
) -> bool {
    // argv[0] as the script's PATH lookup gives it.
    Command::new(settings.command_path("postfix"))
        .arg0("postfix")
        .arg("-c")
        .arg(OsStr::from_bytes(config_dir))
        .arg("status")
        .env_clear()
        .envs(
            env.0
                .iter()
                .map(|(n, v)| (OsStr::from_bytes(n), OsStr::from_bytes(v))),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether `path` is a regular file (following symlinks, as `test -f`).
pub fn is_regular_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braced_lists() {
        assert_eq!(
            split_braced(b"A B=1, { C = 2 }  {D}"),
            vec![
                b"A".to_vec(),
                b"B=1".to_vec(),
                b"C = 2".to_vec(),
                b"D".to_vec()
            ]
        );
    }
}
