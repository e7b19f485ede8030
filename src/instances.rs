//! The instance set: the primary instance, the secondaries listed in its
//! `multi_instance_directories`, the table of claimed directories and names
//! that keeps instances from sharing them, and the `-a/-g/-i` selection.
//!
//! The real postmulti forks `postconf -xc <dir>` for every secondary on
//! every run.  We read each secondary's main.cf in-process and fall back to
//! exactly that postconf call only when the file holds something whose
//! diagnostics we would otherwise have to imitate (see [`secondary`]).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};

use anyhow::Result;

use crate::cli::Selection;
use crate::config::{self, Settings};
use crate::fatal::Fatal;
use crate::maincf;
use crate::{fatal, msg, secondary};

/// One Postfix instance as postmulti sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The config directory exactly as listed (no normalisation).
    pub config_dir: Vec<u8>,
    pub queue_dir: Vec<u8>,
    pub data_dir: Vec<u8>,
    pub name: Option<Vec<u8>>,
    pub group: Option<Vec<u8>>,
    pub enabled: bool,
    pub primary: bool,
}

impl Instance {
    /// Whether `-a`, `-g` or `-i` picks this instance.
    pub fn matches(&self, selection: &Selection) -> bool {
        match selection {
            Selection::Unspecified => false,
            Selection::All => true,
            Selection::Group(g) => self.group.as_ref() == Some(g),
            Selection::Name(s) => {
                if self.primary && s == b"-" {
                    return true;
                }
                let compared: &[u8] = match &self.name {
                    None => &self.config_dir,
                    Some(_) if s.first() == Some(&b'/') => &self.config_dir,
                    Some(name) => match name.strip_prefix(b"postfix-") {
                        Some(short) if !s.starts_with(b"postfix-") => short,
                        _ => name,
                    },
                };
                s.as_slice() == compared
            }
        }
    }
}

/// Values (names and directories share one namespace) and who claimed them,
/// as `<config_dir>, <parameter>`.
#[derive(Debug, Default)]
pub struct Claims {
    owners: HashMap<Vec<u8>, Vec<u8>>,
}

impl Claims {
    /// Claims `value` for `config_dir`'s `param`; the same claimant may
    /// claim a value again (that is what makes duplicate listings legal).
    pub fn claim(&mut self, config_dir: &[u8], param: &str, value: &[u8]) -> Result<()> {
        let requestor = msg!(config_dir, b", ", param);
        match self.owners.get(value) {
            None => {
                self.owners.insert(value.to_vec(), requestor);
                Ok(())
            }
            Some(owner) if *owner == requestor => Ok(()),
            Some(owner) => fatal!(
                b"instance ",
                requestor,
                b"=",
                value,
                b" conflicts with instance ",
                owner,
                b"=",
                value
            ),
        }
    }

    /// The owner of `value`, if claimed.
    pub fn owner(&self, value: &[u8]) -> Option<&[u8]> {
        self.owners.get(value).map(Vec::as_slice)
    }

    /// Claims an instance's name (if any), config, queue and data directory.
    pub fn claim_instance(&mut self, instance: &Instance) -> Result<()> {
        if let Some(name) = &instance.name {
            self.claim(&instance.config_dir, "multi_instance_name", name)?;
        }
        self.claim(
            &instance.config_dir,
            "config_directory",
            &instance.config_dir,
        )?;
        self.claim(&instance.config_dir, "queue_directory", &instance.queue_dir)?;
        self.claim(&instance.config_dir, "data_directory", &instance.data_dir)
    }
}

/// Checks that the shared directories exist and claims them (all but
/// meta_directory, which normally equals config_directory).
pub fn check_shared_dirs(settings: &Settings, claims: &mut Claims) -> Result<()> {
    let shared: [(&str, &[u8], bool); 4] = [
        ("command_directory", &settings.command_directory, true),
        ("daemon_directory", &settings.daemon_directory, true),
        ("meta_directory", &settings.meta_directory, false),
        ("shlib_directory", &settings.shlib_directory, true),
    ];
    for (param, value, claimed) in shared {
        if value.first() != Some(&b'/') {
            continue;
        }
        match std::fs::metadata(OsStr::from_bytes(value)) {
            Err(e) => {
                return Err(
                    Fatal::io(msg!(param, b" = '", value, b"': directory not found"), &e).into(),
                );
            }
            Ok(m) if !m.is_dir() => fatal!(param, b" = '", value, b"' is not a directory"),
            Ok(_) => {}
        }
        if claimed {
            claims.claim(&settings.config_dir, param, value)?;
        }
    }
    Ok(())
}

/// The primary instance (never loaded from a subprocess).
pub fn primary(settings: &Settings) -> Instance {
    let single = config::split_list(&settings.multi_instance_directories)
        .next()
        .is_none();
    Instance {
        config_dir: settings.config_dir.clone(),
        queue_dir: settings.queue_directory.clone(),
        data_dir: settings.data_directory.clone(),
        name: non_empty(&settings.name),
        group: non_empty(&settings.group),
        enabled: settings.enable || single,
        primary: true,
    }
}

fn non_empty(value: &[u8]) -> Option<Vec<u8>> {
    (!value.is_empty()).then(|| value.to_vec())
}

/// Loads every instance, primary first, claiming as it goes.
pub fn load_all(settings: &Settings, claims: &mut Claims) -> Result<Vec<Instance>> {
    let primary = primary(settings);
    claims.claim_instance(&primary)?;
    let mut instances = vec![primary];
    for dir in config::split_list(&settings.multi_instance_directories) {
        let instance = load_secondary(settings, dir)?;
        claims.claim_instance(&instance)?;
        instances.push(instance);
    }
    Ok(instances)
}

/// The five parameters postmulti needs from a secondary main.cf, expanded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecondaryValues {
    pub queue_directory: Vec<u8>,
    pub data_directory: Vec<u8>,
    pub multi_instance_name: Vec<u8>,
    pub multi_instance_group: Vec<u8>,
    pub multi_instance_enable: Vec<u8>,
}

/// Loads the secondary instance in `dir`.
pub fn load_secondary(settings: &Settings, dir: &[u8]) -> Result<Instance> {
    let values = match secondary::read_in_process(dir) {
        Some(values) => values,
        None => read_with_postconf(settings, dir)?,
    };
    let enabled = match config::parse_bool(&values.multi_instance_enable) {
        Some(b) => b,
        None => fatal!(
            b"Unexpected ",
            dir,
            b"/main.cf entry: multi_instance_enable = ",
            values.multi_instance_enable
        ),
    };
    Ok(Instance {
        config_dir: dir.to_vec(),
        queue_dir: values.queue_directory,
        data_dir: values.data_directory,
        name: non_empty(&values.multi_instance_name),
        group: non_empty(&values.multi_instance_group),
        enabled,
        primary: false,
    })
}

/// Asks `postconf -xc <dir>` as the real postmulti does, so that postconf's
/// own warnings and errors reach the caller unchanged.
fn read_with_postconf(settings: &Settings, dir: &[u8]) -> Result<SecondaryValues> {
    let postconf = settings.command_path("postconf");
    let mut child = Command::new(&postconf)
        .arg("-xc")
        .arg(OsStr::from_bytes(dir))
        .args(secondary::PARAMETERS)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Fatal::io(msg!(b"Cannot parse ", dir, b"/main.cf file"), &e))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut values = SecondaryValues::default();
    let mut found = 0;
    for line in BufReader::new(stdout).split(b'\n') {
        let line =
            line.map_err(|e| Fatal::io(msg!(b"Cannot parse ", dir, b"/main.cf file"), &e))?;
        let Ok((name, value)) = maincf::split_name_value(&line) else {
            let _ = child.wait();
            fatal!(b"Invalid ", dir, b"/main.cf parameter: ", line);
        };
        let slot = match name {
            b"queue_directory" => &mut values.queue_directory,
            b"data_directory" => &mut values.data_directory,
            b"multi_instance_name" => &mut values.multi_instance_name,
            b"multi_instance_group" => &mut values.multi_instance_group,
            b"multi_instance_enable" => &mut values.multi_instance_enable,
            _ => continue,
        };
        if name == b"multi_instance_enable" && config::parse_bool(value).is_none() {
            let _ = child.wait();
            fatal!(
                b"Unexpected ",
                dir,
                b"/main.cf entry: multi_instance_enable = ",
                value
            );
        }
        *slot = value.to_vec();
        found += 1;
    }
    if found != secondary::PARAMETERS.len() {
        let _ = child.wait();
        fatal!(
            b"Failed to obtain all required ",
            dir,
            b"/main.cf parameters"
        );
    }
    match child.wait() {
        Ok(status) if status.success() => Ok(values),
        _ => fatal!(b"Cannot parse ", dir, b"/main.cf file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(dir: &str, name: Option<&str>, group: Option<&str>, primary: bool) -> Instance {
        Instance {
            config_dir: dir.into(),
            queue_dir: vec![],
            data_dir: vec![],
            name: name.map(Into::into),
            group: group.map(Into::into),
            enabled: true,
            primary,
        }
    }

    fn by_name(s: &str) -> Selection {
        Selection::Name(s.into())
    }

    #[test]
    fn name_selection() {
        let out = instance("/etc/postfix-out", Some("postfix-out"), Some("mta"), false);
        assert!(out.matches(&by_name("postfix-out")));
        assert!(out.matches(&by_name("out")));
        assert!(out.matches(&by_name("/etc/postfix-out")));
        assert!(!out.matches(&by_name("/etc/postfix-out/")));
        assert!(!out.matches(&by_name("-")));
        let nameless = instance("/etc/postfix-x", None, None, false);
        assert!(nameless.matches(&by_name("/etc/postfix-x")));
        assert!(!nameless.matches(&by_name("x")));
        let primary = instance("/etc/postfix", Some("postfix-main"), None, true);
        assert!(primary.matches(&by_name("-")));
        let foo = instance("/etc/foo", Some("foo"), None, false);
        assert!(foo.matches(&by_name("foo")));
        assert!(!foo.matches(&by_name("postfix-foo")));
    }

    #[test]
    fn group_selection_skips_groupless() {
        let a = instance("/a", Some("postfix-a"), Some("mta"), false);
        let b = instance("/b", Some("postfix-b"), None, false);
        let g = Selection::Group(b"mta".to_vec());
        assert!(a.matches(&g));
        assert!(!b.matches(&g));
        assert!(!a.matches(&Selection::Unspecified));
    }

    #[test]
    fn claims_allow_the_same_claimant_twice() {
        let mut claims = Claims::default();
        claims
            .claim(b"/etc/postfix-a", "queue_directory", b"/q")
            .unwrap();
        claims
            .claim(b"/etc/postfix-a", "queue_directory", b"/q")
            .unwrap();
        let err = claims
            .claim(b"/etc/postfix-b", "queue_directory", b"/q")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "instance /etc/postfix-b, queue_directory=/q conflicts with instance /etc/postfix-a, queue_directory=/q"
        );
        let err = claims
            .claim(b"/etc/postfix-a", "data_directory", b"/q")
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("instance /etc/postfix-a, data_directory=/q conflicts")
        );
    }
}
