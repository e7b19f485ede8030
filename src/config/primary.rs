//! The primary instance's configuration, read as the mail_conf library
//! reads it at postmulti's start-up: `$MAIL_CONFIG/main.cf` (default
//! `/etc/postfix/main.cf`), validated as mail_params_init() validates it
//! (`mail_params`), and the parameters postmulti uses taken from the
//! library's dictionary.

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use super::mail_params::{self, Dictionary};
use crate::error::{Error, Result};
use crate::maincf::defaults::CONFIG_DIRECTORY;
use crate::maincf::{MainCf, main_cf_path, parse_bool, path, regular, split_list};
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
        let mut file = std::fs::File::open(&path).map_err(|e| Error::io("open", shown, e))?;
        let size = file.metadata().map_or(0, |m| m.len());
        let content =
            regular::read_sized(&mut file, size).map_err(|e| Error::io("read", shown, e))?;
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

    /// The parsed main.cf.
    pub fn main_cf(&self) -> &MainCf {
        &self.cf
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
    /// The library's dictionary after start-up.
    dictionary: Dictionary,
}

/// The three lists that classify `-p` commands (`postmulti_*_commands`).
#[derive(Debug, Clone, Default)]
pub struct CommandLists {
    pub start: Vec<u8>,
    pub stop: Vec<u8>,
    pub control: Vec<u8>,
}

/// postmulti's own parameters, read right after the library's.
const POSTMULTI_PARAMETERS: [(&str, &str); 3] = [
    ("postmulti_start_commands", "start"),
    ("postmulti_stop_commands", "stop abort drain quick-stop"),
    ("postmulti_control_commands", "reload flush"),
];

impl Params {
    /// Validates the primary main.cf as the mail_conf library does at
    /// start-up (see `mail_params`), reads postmulti's own parameters,
    /// then makes the maillog_file check of the logging set-up.
    pub fn evaluate(config: &Primary) -> Result<Params> {
        let initialised = mail_params::init(&config.config_dir, &config.cf)?;
        let mut dictionary = initialised.dictionary;
        let mut own = Vec::new();
        for (name, default) in POSTMULTI_PARAMETERS {
            let value = match dictionary.lookup_eval(name)? {
                Some(value) => value,
                None => {
                    let value = dictionary.eval(default.as_bytes())?;
                    dictionary.store(name, &value);
                    value
                }
            };
            own.push(value);
        }
        let [start, stop, control] = <[Vec<u8>; 3]>::try_from(own).expect("three commands");
        let value = |name: &str| dictionary.value(name);
        let maillog_file = value("maillog_file")?;
        if !maillog_file.is_empty() {
            let prefixes = value("maillog_file_prefixes")?;
            if !split_list(&prefixes).any(|p| maillog_file.starts_with(p)) {
                fatal!(
                    b"maillog_file value '",
                    maillog_file,
                    b"' does not match any prefix in maillog_file_prefixes"
                );
            }
        }
        let enable = parse_bool(&value("multi_instance_enable")?).unwrap_or(false);
        Ok(Params {
            config_dir: config.config_dir.clone(),
            command_directory: value("command_directory")?,
            daemon_directory: value("daemon_directory")?,
            meta_directory: value("meta_directory")?,
            shlib_directory: value("shlib_directory")?,
            queue_directory: value("queue_directory")?,
            data_directory: value("data_directory")?,
            syslog_name: value("syslog_name")?,
            multi_instance_directories: value("multi_instance_directories")?,
            name: value("multi_instance_name")?,
            group: value("multi_instance_group")?,
            enable,
            commands: CommandLists {
                start,
                stop,
                control,
            },
            dictionary,
        })
    }

    /// The value of a parameter of the primary main.cf as the library
    /// would give it now (expanded; empty if undefined).
    pub fn eval(&self, name: &str) -> Result<Vec<u8>> {
        self.dictionary.value(name)
    }

    /// `<command_directory>/<program>`.
    pub fn command_path(&self, program: &str) -> PathBuf {
        path(&msg!(self.command_directory, b"/", program))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_evaluated_as_the_library_leaves_them() {
        crate::config::installation::for_tests();
        let cf = Primary::from_text(
            b"/etc/postfix",
            b"myhostname = mail.example\nextra = ${config_directory}-b\n\
              multi_instance_directories = ${config_directory}-a, $extra\n\
              multi_instance_name = postfix-x\n",
        );
        let params = Params::evaluate(&cf).unwrap();
        assert_eq!(
            params.multi_instance_directories,
            b"/etc/postfix-a, /etc/postfix-b"
        );
        assert_eq!(params.syslog_name, b"postfix-x");
        assert_eq!(params.commands.stop, b"stop abort drain quick-stop");
        assert_eq!(params.eval("mydomain").unwrap(), b"example");
    }
}
