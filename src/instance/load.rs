//! Loading the instance list: the primary from the evaluated parameters,
//! each secondary from its own main.cf, in-process where postconf would
//! print nothing (see `secondary`), else through exactly the
//! `postconf -xc <dir> ...` call the real postmulti makes, so that
//! postconf's own warnings and errors reach the caller unchanged.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};

use super::secondary::{self, SecondaryValues};
use super::{Claims, Instance};
use crate::config::Params;
use crate::error::{Error, Result};
use crate::maincf::{self, parse_bool, split_list};
use crate::{diag, fatal, msg};

/// The primary instance (never loaded from a subprocess).
pub fn primary(params: &Params) -> Instance {
    let single = split_list(&params.multi_instance_directories)
        .next()
        .is_none();
    Instance {
        config_dir: params.config_dir.clone(),
        queue_dir: params.queue_directory.clone(),
        data_dir: params.data_directory.clone(),
        name: non_empty(&params.name),
        group: non_empty(&params.group),
        enabled: params.enable || single,
        primary: true,
    }
}

fn non_empty(value: &[u8]) -> Option<Vec<u8>> {
    (!value.is_empty()).then(|| value.to_vec())
}

/// What to do with a secondary whose main.cf cannot be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unloadable {
    /// The real postmulti's way: a fatal error.
    Fatal,
    /// `--keep-going`: one warning, and the instance is left out.
    Skip,
}

/// The instance list, and how many secondaries were left out.
pub struct Loaded {
    pub instances: Vec<Instance>,
    pub skipped: usize,
}

/// Loads every instance, primary first, claiming as it goes.
pub fn load_all(params: &Params, claims: &mut Claims) -> Result<Vec<Instance>> {
    Ok(load(params, claims, Unloadable::Fatal)?.instances)
}

/// Loads every instance, primary first, claiming as it goes; a secondary
/// whose main.cf cannot be loaded is dealt with as `unloadable` says.
pub fn load(params: &Params, claims: &mut Claims, unloadable: Unloadable) -> Result<Loaded> {
    let primary = primary(params);
    claims.claim_instance(&primary)?;
    let mut loaded = Loaded {
        instances: vec![primary],
        skipped: 0,
    };
    for dir in split_list(&params.multi_instance_directories) {
        let instance = match (load_secondary(params, dir), unloadable) {
            (Ok(instance), _) => instance,
            (Err(err), Unloadable::Skip) => {
                let why = err.fatal_text().unwrap_or_default();
                diag::warn(&msg!(b"skipping instance ", dir, b": ", why));
                loaded.skipped += 1;
                continue;
            }
            (Err(err), Unloadable::Fatal) => return Err(err),
        };
        claims.claim_instance(&instance)?;
        loaded.instances.push(instance);
    }
    Ok(loaded)
}

/// Loads the secondary instance in `dir`.
pub fn load_secondary(params: &Params, dir: &[u8]) -> Result<Instance> {
    let values = match secondary::read_in_process(dir) {
        Some(values) => values,
        None => read_with_postconf(params, dir)?,
    };
    let enabled = match parse_bool(&values.multi_instance_enable) {
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
fn read_with_postconf(params: &Params, dir: &[u8]) -> Result<SecondaryValues> {
    secondary::refuse_special_files(dir)?;
    let postconf = params.command_path("postconf");
    let mut child = Command::new(&postconf)
        .arg("-xc")
        .arg(OsStr::from_bytes(dir))
        .args(secondary::PARAMETERS)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Error::with_errno(msg!(b"Cannot parse ", dir, b"/main.cf file"), &e))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut values = SecondaryValues::default();
    let mut found = 0;
    for line in BufReader::new(stdout).split(b'\n') {
        let line =
            line.map_err(|e| Error::with_errno(msg!(b"Cannot parse ", dir, b"/main.cf file"), &e))?;
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
        if name == b"multi_instance_enable" && parse_bool(value).is_none() {
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
