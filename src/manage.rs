//! Life-cycle mode (`-e action`): the checks and computations postmulti
//! makes itself (which instance, which directories, which name and group,
//! where it goes in the list), then the action, done in-process where that
//! is exact (src/direct.rs) or handed over to Postfix's own
//! `$daemon_directory/postmulti-script` with the environment it expects.
//!
//! One deliberate difference (spec D1): `-e destroy` refuses an instance
//! whose queue still holds mail, after every refusal the real one makes and
//! before anything is changed.

use anyhow::Result;

use crate::cli::{Assignment, Edit, Selection};
use crate::config::{Config, Settings};
use crate::instances::{self, Claims, Instance};
use crate::maincf;
use crate::script::{self, Environment, Exports};
use crate::{direct, fatal};

/// Runs `-e action`; returns only on error (the script replaces us).
pub fn run(
    config: &Config,
    settings: &Settings,
    mut claims: Claims,
    selection: &Selection,
    edit: &Edit,
) -> Result<u8> {
    crate::destroy::finish_interrupted(settings);
    let mut exports = Exports::default();
    let mut instances = Vec::new();
    let target = match edit {
        Edit::Init => instances::primary(settings),
        Edit::Create {
            assignment,
            settings: args,
        }
        | Edit::Import {
            assignment,
            settings: args,
        } => {
            let import = matches!(edit, Edit::Import { .. });
            instances = instances::load_all(settings, &mut claims)?;
            let (new, new_exports) =
                new_instance(settings, &mut claims, assignment, args, import, edit.name())?;
            exports = new_exports;
            insert(&mut instances, new.clone(), selection, &mut claims)?;
            new
        }
        Edit::Assign(assignment) => {
            instances = instances::load_all(settings, &mut claims)?;
            let index = select_existing(&instances, selection)?;
            let mut target = instances[index].clone();
            check_names(assignment)?;
            exports = assign_names(&mut target, assignment, &mut claims)?;
            if !exports.name && !exports.group {
                return Ok(0);
            }
            target
        }
        Edit::Destroy | Edit::Deport => {
            instances = instances::load_all(settings, &mut claims)?;
            let index = select_existing(&instances, selection)?;
            if index == 0 {
                fatal!(b"Cannot remove the primary instance");
            }
            if instances[index].enabled {
                fatal!(b"Cannot remove enabled instances");
            }
            exports.directories = true;
            instances.remove(index)
        }
        Edit::Enable | Edit::Disable => {
            instances = instances::load_all(settings, &mut claims)?;
            instances[select_existing(&instances, selection)?].clone()
        }
    };
    let env = script::helper_environment(config, settings, &target, &instances, &exports)?;
    if let Some(status) = direct::try_run(settings, edit, &target, &exports, &env)? {
        return Ok(status);
    }
    if matches!(edit, Edit::Destroy) && script::would_proceed_with_destroy(config, &target) {
        refuse_destroy_of_queued_mail(settings, &target, &env)?;
    }
    script::exec_script(settings, edit.name(), &env)
}

/// `-I` and `-G` values: safe characters only; names start with `postfix-`
/// and have no `/`.  An empty value (from `-`) clears and is always valid.
fn check_names(assignment: &Assignment) -> Result<()> {
    let safe = |s: &[u8]| {
        s.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!@%-_=+:./".contains(&b))
    };
    if let Some(name) = assignment.name.as_deref().filter(|n| !n.is_empty()) {
        if !safe(name) {
            fatal!(b"Unsafe characters in new instance name: '", name, b"'");
        }
        if name.contains(&b'/') {
            fatal!(b"Illegal '/' character in new instance name: '", name, b"'");
        }
        if !name.starts_with(b"postfix-") {
            fatal!(b"New instance name must start with 'postfix-'");
        }
    }
    if let Some(group) = assignment.group.as_deref().filter(|g| !g.is_empty())
        && !safe(group)
    {
        fatal!(b"Unsafe characters in '-G ", group, b"'");
    }
    Ok(())
}

/// Applies `-I`/`-G` where they change something; a new name is claimed.
fn assign_names(
    target: &mut Instance,
    assignment: &Assignment,
    claims: &mut Claims,
) -> Result<Exports> {
    let mut exports = Exports::default();
    let current = |v: &Option<Vec<u8>>| v.clone().unwrap_or_default();
    if let Some(name) = &assignment.name
        && *name != current(&target.name)
    {
        claims.claim(&target.config_dir, "multi_instance_name", name)?;
        target.name = (!name.is_empty()).then(|| name.clone());
        exports.name = true;
    }
    if let Some(group) = &assignment.group
        && *group != current(&target.group)
    {
        target.group = (!group.is_empty()).then(|| group.clone());
        exports.group = true;
    }
    Ok(exports)
}

/// The instance `-e create` or `-e import` adds, with its directories
/// from the command line, derived from the primary's, or (import) read
/// from its own main.cf.
fn new_instance(
    settings: &Settings,
    claims: &mut Claims,
    assignment: &Assignment,
    args: &[Vec<u8>],
    import: bool,
    action: &str,
) -> Result<(Instance, Exports)> {
    check_names(assignment)?;
    let (mut config_dir, mut queue_dir, mut data_dir) = (None, None, None);
    for arg in args {
        let Ok((name, value)) = maincf::split_name_value(arg) else {
            fatal!(b"Malformed parameter setting '", arg, b"'");
        };
        let slot = match name {
            b"config_directory" => &mut config_dir,
            b"queue_directory" if !import => &mut queue_dir,
            b"data_directory" if !import => &mut data_dir,
            _ => fatal!(b"Parameter '", name, b"' not valid with action ", action),
        };
        if value.first() != Some(&b'/') {
            fatal!(b"Parameter setting '", name, b"' is not an absolute path");
        }
        let mut end = value.len() - 1;
        while end > 0 && value[end] == b'/' {
            end -= 1;
        }
        if end == 0 {
            fatal!(b"Parameter setting '", name, b"' is the root directory");
        }
        *slot = Some(value[..=end].to_vec());
    }
    let name = assignment.name.as_deref();
    let config_dir = match config_dir {
        Some(dir) => dir,
        None => private_path("config_directory", &settings.config_dir, name)?,
    };
    if let Some(owner) = claims.owner(&config_dir) {
        fatal!(
            b"new config_directory=",
            config_dir,
            b" is already in use by instance ",
            owner,
            b"=",
            config_dir
        );
    }
    let mut instance = if import {
        instances::load_secondary(settings, &config_dir)?
    } else {
        let queue_dir = match queue_dir {
            Some(dir) => dir,
            None => private_path("queue_directory", &settings.queue_directory, name)?,
        };
        let data_dir = match data_dir {
            Some(dir) => dir,
            None => private_path("data_directory", &settings.data_directory, name)?,
        };
        Instance {
            config_dir: config_dir.clone(),
            queue_dir,
            data_dir,
            name: None,
            group: None,
            enabled: false,
            primary: false,
        }
    };
    let mut exports = assign_names(&mut instance, assignment, claims)?;
    exports.directories = true;
    Ok((instance, exports))
}

/// A secondary's directory derived from the primary's `value` and the new
/// instance name, with make_private_path()'s exact treatment of slashes:
/// `/etc/postfix` gives `/etc/postfix-out`, but `/var/spool/postfix/`
/// gives `/var/spool/postfix/postfix-out`.
pub fn private_path(param: &str, value: &[u8], name: Option<&[u8]>) -> Result<Vec<u8>> {
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        fatal!(b"Missing ", param, b" parameter value");
    };
    if value.first() != Some(&b'/') {
        fatal!(
            b"Invalid default ",
            param,
            b" parameter value: '",
            value,
            b"': specify an absolute pathname"
        );
    }
    let mut base = value.to_vec();
    let mut end = base.iter().rposition(|&b| b == b'/').unwrap_or(0);
    if end + 1 == base.len() {
        while end > 1 && base[end - 1] == b'/' {
            end -= 1;
            base.truncate(end);
        }
        end = base.iter().rposition(|&b| b == b'/').unwrap_or(0);
    }
    while end > 0 && base[end] == b'/' {
        base.truncate(end);
        end -= 1;
    }
    let mut path = if base.len() > 1 { base } else { Vec::new() };
    path.push(b'/');
    path.extend_from_slice(name);
    Ok(path)
}

/// Claims the new instance and places it: at the end, first (`-a`), or
/// before the first secondary that `-g`/`-i` selects.
fn insert(
    instances: &mut Vec<Instance>,
    new: Instance,
    selection: &Selection,
    claims: &mut Claims,
) -> Result<()> {
    claims.claim_instance(&new)?;
    let position = match selection {
        Selection::Unspecified => None,
        Selection::All => (instances.len() > 1).then_some(1),
        _ => match instances.iter().skip(1).position(|i| i.matches(selection)) {
            Some(p) => Some(p + 1),
            None => fatal!(b"No matching secondary instances"),
        },
    };
    match position {
        Some(p) => instances.insert(p, new),
        None => instances.push(new),
    }
    Ok(())
}

/// The first instance `-i` selects.
fn select_existing(instances: &[Instance], selection: &Selection) -> Result<usize> {
    let Selection::Name(wanted) = selection else {
        fatal!(b"Select an instance via '-i name'");
    };
    match instances.iter().position(|i| i.matches(selection)) {
        Some(index) => Ok(index),
        None => fatal!(b"No instance named ", wanted),
    }
}

/// Spec D1: refuse to destroy an instance whose queue holds a message,
/// in the voice of postmulti-script (which logs through postlog).
fn refuse_destroy_of_queued_mail(
    settings: &Settings,
    target: &Instance,
    env: &Environment,
) -> Result<()> {
    let Some(refusal) = crate::destroy::queued_mail_refusal(target) else {
        return Ok(());
    };
    // The script asks `postfix status` before this point, and that leaves
    // a "not running" record in the log; so does the refusal.
    script::postfix_status_says_running(settings, &target.config_dir, env);
    Err(script::script_fatal(settings, &refusal))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn derived(value: &str) -> String {
        String::from_utf8(
            private_path("queue_directory", value.as_bytes(), Some(b"postfix-out")).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn private_path_quirks() {
        assert_eq!(derived("/etc/postfix"), "/etc/postfix-out");
        assert_eq!(derived("/var/spool/postfix"), "/var/spool/postfix-out");
        assert_eq!(
            derived("/var/spool/postfix/"),
            "/var/spool/postfix/postfix-out"
        );
        assert_eq!(derived("/var/spool/postfix//"), "/var/spool/postfix-out");
        assert_eq!(derived("/postfix"), "/postfix/postfix-out");
        assert_eq!(derived("/"), "/postfix-out");
        assert_eq!(derived("/a//b"), "/a/postfix-out");
    }

    #[test]
    fn private_path_errors() {
        assert_eq!(
            private_path("config_directory", b"/etc/postfix", None)
                .unwrap_err()
                .to_string(),
            "Missing config_directory parameter value"
        );
        assert_eq!(
            private_path("data_directory", b"relative", Some(b"postfix-a"))
                .unwrap_err()
                .to_string(),
            "Invalid default data_directory parameter value: 'relative': specify an absolute pathname"
        );
    }

    #[test]
    fn name_checks() {
        let check = |name: &str, group: &str| {
            let a = Assignment {
                name: Some(name.into()),
                group: Some(group.into()),
            };
            check_names(&a).err().map(|e| e.to_string())
        };
        assert_eq!(check("postfix-a", "a/b"), None);
        assert_eq!(check("", ""), None);
        assert_eq!(
            check("foo", ""),
            Some("New instance name must start with 'postfix-'".into())
        );
        assert_eq!(
            check("postfix-a b", ""),
            Some("Unsafe characters in new instance name: 'postfix-a b'".into())
        );
        assert_eq!(
            check("postfix-a/b", ""),
            Some("Illegal '/' character in new instance name: 'postfix-a/b'".into())
        );
        assert_eq!(
            check("postfix-a", "a b"),
            Some("Unsafe characters in '-G a b'".into())
        );
    }
}
