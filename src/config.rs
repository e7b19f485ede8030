//! The primary instance's configuration, read as the mail_conf library
//! reads it at postmulti's start-up: `$MAIL_CONFIG/main.cf` (default
//! `/etc/postfix/main.cf`), `$name` expansion with the built-in defaults,
//! booleans, minimum lengths, and the few validations that can make the
//! real postmulti fail before it looks at its options.

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use anyhow::Result;

use crate::defaults::{self, CONFIG_DIRECTORY};
use crate::expand;
use crate::fatal::Fatal;
use crate::maincf::MainCf;
use crate::{diag, fatal, msg};

/// The primary main.cf and the directory it was read from.
pub struct Config {
    /// `$MAIL_CONFIG` if set (any value), else the compiled default.
    pub config_dir: Vec<u8>,
    cf: MainCf,
}

/// Separators of `multi_instance_directories` and of the command lists.
pub const LIST_SEPARATORS: &[u8] = b", \t\r\n";

/// Splits a list value on Postfix's list separators, dropping empty tokens.
pub fn split_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|b| LIST_SEPARATORS.contains(b))
        .filter(|t| !t.is_empty())
}

impl Config {
    /// Where the primary main.cf is read from: `$MAIL_CONFIG` if set (any
    /// value; it is checked later), else the compiled-in default.
    pub fn directory() -> Vec<u8> {
        match std::env::var_os("MAIL_CONFIG") {
            Some(dir) => dir.as_bytes().to_vec(),
            None => CONFIG_DIRECTORY.to_vec(),
        }
    }

    /// Reads the primary main.cf; its warnings go out as postmulti's own.
    pub fn load() -> Result<Config> {
        let config_dir = Config::directory();
        let path = main_cf_path(&config_dir);
        // Postfix opens, then reads: a directory opens fine and fails to read.
        let shown = path.as_os_str().as_bytes();
        let mut content = Vec::new();
        std::fs::File::open(&path)
            .map_err(|e| Fatal::io(msg!(b"open ", shown), &e))?
            .read_to_end(&mut content)
            .map_err(|e| Fatal::io(msg!(b"read ", shown), &e))?;
        let seed: [(&[u8], &[u8]); 1] = [(b"config_directory", &config_dir)];
        let cf = MainCf::parse(&content, &path, &seed, &mut |w| diag::warn(&w))
            .map_err(|e| Fatal(e.0))?;
        Ok(Config { config_dir, cf })
    }

    /// A configuration from text, for tests.
    #[cfg(test)]
    pub fn from_text(config_dir: &[u8], text: &[u8]) -> Config {
        let seed: [(&[u8], &[u8]); 1] = [(b"config_directory", config_dir)];
        let cf = MainCf::parse(text, std::path::Path::new("main.cf"), &seed, &mut |_| {}).unwrap();
        Config {
            config_dir: config_dir.to_vec(),
            cf,
        }
    }

    /// The value as written in main.cf (or the built-in default), unexpanded.
    pub fn raw(&self, name: &str) -> Option<&[u8]> {
        defaults::setting(&self.cf, name.as_bytes())
    }

    /// Whether main.cf itself sets `name`.
    pub fn is_set(&self, name: &str) -> bool {
        self.cf.get(name.as_bytes()).is_some()
    }

    /// The value of `name` with `$name` references expanded recursively.
    pub fn eval(&self, name: &str) -> Result<Vec<u8>> {
        let raw = self.raw(name).unwrap_or_default();
        let mut lookup = |n: &[u8]| defaults::setting(&self.cf, n).map(<[u8]>::to_vec);
        match expand::expand(raw, &mut lookup, true) {
            Ok(e) => Ok(e.value),
            Err(e) => {
                for w in &e.warnings {
                    diag::warn(w);
                }
                fatal!(b"dictionary mail_dict: macro processing error")
            }
        }
    }

    /// A string parameter that must be at least `min` bytes long.
    pub fn eval_min(&self, name: &str, min: usize) -> Result<Vec<u8>> {
        let value = self.eval(name)?;
        if value.len() < min {
            fatal!(
                format!("bad string length {} < {min}: {name} = ", value.len()),
                value
            );
        }
        Ok(value)
    }

    /// A yes/no parameter (any case).
    pub fn eval_bool(&self, name: &str) -> Result<bool> {
        let value = self.eval(name)?;
        match parse_bool(&value) {
            Some(b) => Ok(b),
            None => fatal!(b"bad boolean configuration: ", name, b" = ", value),
        }
    }

    /// `file <config_dir>/main.cf: parameter <name>: ` for validation errors.
    fn param_prefix(&self, name: &str) -> Vec<u8> {
        msg!(
            b"file ",
            self.config_dir,
            b"/main.cf: parameter ",
            name,
            b": "
        )
    }
}

/// A path from the bytes of a parameter value.
pub fn path(bytes: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(bytes))
}

/// `<dir>/main.cf`.
pub fn main_cf_path(dir: &[u8]) -> PathBuf {
    let mut path = dir.to_vec();
    path.extend_from_slice(b"/main.cf");
    PathBuf::from(OsStr::from_bytes(&path))
}

/// Postfix booleans: `yes` or `no` in any case.
pub fn parse_bool(value: &[u8]) -> Option<bool> {
    if value.eq_ignore_ascii_case(b"yes") {
        Some(true)
    } else if value.eq_ignore_ascii_case(b"no") {
        Some(false)
    } else {
        None
    }
}

/// Everything postmulti needs from the primary main.cf, evaluated once.
pub struct Settings {
    pub config_dir: Vec<u8>,
    pub command_directory: Vec<u8>,
    pub daemon_directory: Vec<u8>,
    pub meta_directory: Vec<u8>,
    pub shlib_directory: Vec<u8>,
    pub queue_directory: Vec<u8>,
    pub data_directory: Vec<u8>,
    pub syslog_name: Vec<u8>,
    pub multi_instance_directories: Vec<u8>,
    pub name: Vec<u8>,
    pub group: Vec<u8>,
    pub enable: bool,
    pub start_commands: Vec<u8>,
    pub stop_commands: Vec<u8>,
    pub control_commands: Vec<u8>,
}

impl Settings {
    /// Evaluates the parameters in the order the mail_conf library does,
    /// so that the first bad one is the one reported.
    pub fn evaluate(config: &Config) -> Result<Settings> {
        let facility = config.eval_min("syslog_facility", 1)?;
        let Some(code) = std::str::from_utf8(&facility)
            .ok()
            .and_then(diag::facility_code)
        else {
            fatal!(
                config.param_prefix("syslog_facility"),
                b"unrecognized value: ",
                facility
            );
        };
        let multi_instance_directories = config.eval("multi_instance_directories")?;
        let group = config.eval("multi_instance_group")?;
        let name = config.eval("multi_instance_name")?;
        let utf8 = match config
            .raw("smtputf8_enable")
            .filter(|_| config.is_set("smtputf8_enable"))
        {
            Some(_) => config.eval_bool("smtputf8_enable")?,
            None => defaults::smtputf8_default(&config.eval("compatibility_level")?),
        };
        diag::configure(code, utf8);
        let syslog_name = config.eval_min("syslog_name", 1)?;
        let mail_owner = config.eval_min("mail_owner", 1)?;
        let setgid_group = config.eval_min("setgid_group", 1)?;
        let daemon_directory = config.eval_min("daemon_directory", 1)?;
        let data_directory = config.eval_min("data_directory", 1)?;
        let command_directory = config.eval_min("command_directory", 1)?;
        let meta_directory = config.eval_min("meta_directory", 1)?;
        let queue_directory = config.eval_min("queue_directory", 1)?;
        let shlib_directory = config.eval_min("shlib_directory", 1)?;
        let enable = config.eval_bool("multi_instance_enable")?;
        check_mail_owner(config, &mail_owner)?;
        check_setgid_group(config, &setgid_group)?;
        Ok(Settings {
            config_dir: config.config_dir.clone(),
            command_directory,
            daemon_directory,
            meta_directory,
            shlib_directory,
            queue_directory,
            data_directory,
            syslog_name,
            multi_instance_directories,
            name,
            group,
            enable,
            start_commands: config.eval("postmulti_start_commands")?,
            stop_commands: config.eval("postmulti_stop_commands")?,
            control_commands: config.eval("postmulti_control_commands")?,
        })
    }

    /// `<command_directory>/<program>`.
    pub fn command_path(&self, program: &str) -> PathBuf {
        PathBuf::from(OsStr::from_bytes(&msg!(
            self.command_directory,
            b"/",
            program
        )))
    }
}

fn check_mail_owner(config: &Config, owner: &[u8]) -> Result<()> {
    let name = String::from_utf8_lossy(owner);
    match nix::unistd::User::from_name(&name) {
        Ok(Some(user)) if user.uid.is_root() => fatal!(
            config.param_prefix("mail_owner"),
            b"user ",
            owner,
            b" has privileged user ID"
        ),
        Ok(Some(user)) if user.gid.as_raw() == 0 => fatal!(
            config.param_prefix("mail_owner"),
            b"user ",
            owner,
            b" has privileged group ID"
        ),
        Ok(Some(_)) => Ok(()),
        _ => fatal!(
            config.param_prefix("mail_owner"),
            b"unknown user name value: ",
            owner
        ),
    }
}

fn check_setgid_group(config: &Config, group: &[u8]) -> Result<()> {
    let name = String::from_utf8_lossy(group);
    match nix::unistd::Group::from_name(&name) {
        Ok(Some(g)) if g.gid.as_raw() == 0 => fatal!(
            config.param_prefix("setgid_group"),
            b"group ",
            group,
            b" has privileged group ID"
        ),
        Ok(Some(_)) => Ok(()),
        _ => fatal!(
            config.param_prefix("setgid_group"),
            b"unknown group name: ",
            group
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_with_main_cf_values_and_defaults() {
        let cf = Config::from_text(
            b"/etc/postfix",
            b"extra = ${config_directory}-b\nmulti_instance_directories = ${config_directory}-a, $extra\n",
        );
        assert_eq!(
            cf.eval("multi_instance_directories").unwrap(),
            b"/etc/postfix-a, /etc/postfix-b"
        );
        assert_eq!(cf.eval("syslog_name").unwrap(), b"postfix");
        let named = Config::from_text(b"/etc/postfix", b"multi_instance_name = postfix-x\n");
        assert_eq!(named.eval("syslog_name").unwrap(), b"postfix-x");
    }

    #[test]
    fn booleans_ignore_case() {
        assert_eq!(parse_bool(b"YES"), Some(true));
        assert_eq!(parse_bool(b"No"), Some(false));
        assert_eq!(parse_bool(b"true"), None);
    }

    #[test]
    fn list_splitting_drops_empty_tokens() {
        let got: Vec<&[u8]> = split_list(b" a,,b\t c ,").collect();
        assert_eq!(got, vec![&b"a"[..], b"b", b"c"]);
        assert_eq!(split_list(b", ,").count(), 0);
    }
}
