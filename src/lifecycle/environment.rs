//! The environment postmulti-script expects, made from the plan: only
//! what `import_environment` lets through, then PATH, MAIL_CONFIG, the
//! shared and the target's directories, and what changes.  The Postfix
//! commands the in-process actions run get it too.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use super::plan::Plan;
use crate::config::Params;
use crate::error::Result;
use crate::maincf::{self, LIST_SEPARATORS};
use crate::{fatal, msg};

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

/// The script's environment for `plan`.
pub fn environment(params: &Params, plan: &Plan) -> Result<Environment> {
    let mut env = Environment::default();
    let import = params.eval("import_environment")?;
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
        Some(old) => msg!(params.command_directory, b":", old),
        None => msg!(params.command_directory, b":/bin:/usr/bin:/sbin:/usr/sbin"),
    };
    let target = &plan.target;
    env.set(b"PATH", &path);
    env.set(b"MAIL_CONFIG", &params.config_dir);
    env.set(b"command_directory", &params.command_directory);
    env.set(b"daemon_directory", &params.daemon_directory);
    env.set(b"meta_directory", &params.meta_directory);
    env.set(b"shlib_directory", &params.shlib_directory);
    env.set(b"config_directory", &target.config_dir);
    env.set(b"queue_directory", &target.queue_dir);
    env.set(b"data_directory", &target.data_dir);
    if let Some(directories) = &plan.new_directories {
        env.set(b"multi_instance_directories", directories);
    }
    let or_dash = |v: &Option<Vec<u8>>| v.clone().unwrap_or_else(|| b"-".to_vec());
    if plan.renames.name {
        env.set(b"multi_instance_name", &or_dash(&target.name));
    }
    if plan.renames.group {
        env.set(b"multi_instance_group", &or_dash(&target.group));
    }
    Ok(env)
}

/// Splits a parameter list on commas and whitespace, with `{ ... }`
/// grouping (the braces and the space inside them removed).
fn split_braced(value: &[u8]) -> Vec<Vec<u8>> {
    let mut items = Vec::new();
    let mut i = 0;
    while i < value.len() {
        if LIST_SEPARATORS.contains(&value[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut depth = 0;
        while i < value.len() && (depth > 0 || !LIST_SEPARATORS.contains(&value[i])) {
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
