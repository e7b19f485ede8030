//! The primary instance's configuration, read as the mail_conf library
//! reads it at postmulti's start-up: `$MAIL_CONFIG/main.cf` (default
//! `/etc/postfix/main.cf`), `$name` expansion with the built-in defaults,
//! booleans, minimum lengths, and the few validations that can make the
//! real postmulti fail before it looks at its options.

use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::maincf::defaults::{self, CONFIG_DIRECTORY};
use crate::maincf::{MainCf, expand, main_cf_path, parse_bool, path};
use crate::{diag, fatal, msg};

/// The primary main.cf and the directory it was read from.
pub struct Primary {
    /// `$MAIL_CONFIG` if set (any value), else the compiled default.
    pub config_dir: Vec<u8>,
    cf: MainCf,
}

/// Where the primary main.cf is read from: `$MAIL_CONFIG` if set (any
/// value; it is checked later), else the compiled-in default.
pub fn directory() -> Vec<u8> {
    match std::env::var_os("MAIL_CONFIG") {
        Some(dir) => dir.as_bytes().to_vec(),
        None => CONFIG_DIRECTORY.to_vec(),
    }
}

impl Primary {
    /// Reads the primary main.cf; its warnings go out as postmulti's own.
    pub fn load() -> Result<Primary> {
        let config_dir = directory();
        let path = main_cf_path(&config_dir);
        // Postfix opens, then reads: a directory opens fine and fails to read.
        let shown = path.as_os_str().as_bytes();
        let mut content = Vec::new();
        std::fs::File::open(&path)
            .map_err(|e| Error::io("open", shown, e))?
            .read_to_end(&mut content)
            .map_err(|e| Error::io("read", shown, e))?;
        let seed: [(&[u8], &[u8]); 1] = [(b"config_directory", &config_dir)];
        let cf = MainCf::parse(&content, &path, &seed, &mut |w| diag::warn(&w))
            .map_err(|e| Error::Fatal(e.0))?;
        Ok(Primary { config_dir, cf })
    }

    /// A configuration from text, for tests.
    #[cfg(test)]
    pub fn from_text(config_dir: &[u8], text: &[u8]) -> Primary {
        let seed: [(&[u8], &[u8]); 1] = [(b"config_directory", config_dir)];
        let cf = MainCf::parse(text, std::path::Path::new("main.cf"), &seed, &mut |_| {}).unwrap();
        Primary {
            config_dir: config_dir.to_vec(),
            cf,
        }
    }

    /// The value as written in main.cf (or the built-in default), unexpanded.
    pub fn raw(&self, name: &str) -> Option<&[u8]> {
        defaults::setting(&self.cf, name.as_bytes())
    }

    /// The parsed main.cf.
    pub fn main_cf(&self) -> &MainCf {
        &self.cf
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

/// Everything postmulti needs from the primary main.cf, evaluated once.
pub struct Params {
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
    pub commands: CommandLists,
}

/// The three lists that classify `-p` commands (`postmulti_*_commands`).
#[derive(Debug, Clone, Default)]
pub struct CommandLists {
    pub start: Vec<u8>,
    pub stop: Vec<u8>,
    pub control: Vec<u8>,
}

impl Params {
    /// Evaluates the parameters in the order the mail_conf library does,
    /// so that the first bad one is the one reported.
    pub fn evaluate(config: &Primary) -> Result<Params> {
        let facility = config.eval_min("syslog_facility", 1)?;
        let Some(code) = diag::facility_named(&facility) else {
            fatal!(
                config.param_prefix("syslog_facility"),
                b"unrecognized value: ",
                facility
            );
        };
        let multi_instance_directories = config.eval("multi_instance_directories")?;
        let group = config.eval("multi_instance_group")?;
        let name = config.eval("multi_instance_name")?;
        let utf8 = config.eval_bool("smtputf8_enable")?;
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
        Ok(Params {
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
            commands: CommandLists {
                start: config.eval("postmulti_start_commands")?,
                stop: config.eval("postmulti_stop_commands")?,
                control: config.eval("postmulti_control_commands")?,
            },
        })
    }

    /// `<command_directory>/<program>`.
    pub fn command_path(&self, program: &str) -> PathBuf {
        path(&msg!(self.command_directory, b"/", program))
    }
}

fn check_mail_owner(config: &Primary, owner: &[u8]) -> Result<()> {
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

fn check_setgid_group(config: &Primary, group: &[u8]) -> Result<()> {
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
        let cf = Primary::from_text(
            b"/etc/postfix",
            b"extra = ${config_directory}-b\nmulti_instance_directories = ${config_directory}-a, $extra\n",
        );
        assert_eq!(
            cf.eval("multi_instance_directories").unwrap(),
            b"/etc/postfix-a, /etc/postfix-b"
        );
        assert_eq!(cf.eval("syslog_name").unwrap(), b"postfix");
        let named = Primary::from_text(b"/etc/postfix", b"multi_instance_name = postfix-x\n");
        assert_eq!(named.eval("syslog_name").unwrap(), b"postfix-x");
    }
}
