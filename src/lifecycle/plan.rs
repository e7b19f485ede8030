//! What a life-cycle action will do, decided before anything is done:
//! the checks and computations the real postmulti makes in C (which
//! instance, which directories, which name and group, where a new instance
//! goes in the list), with its refusals in its order and words.  Both the
//! in-process actions and postmulti-script's environment are made from
//! the one [`Plan`].

use super::confinement::Surroundings;
use crate::cli::{Action, Assignment, Selection};
use crate::config::Params;
use crate::error::Result;
use crate::instance::{self, Claims, Instance};
use crate::maincf::split_name_value;
use crate::{fatal, msg};

/// A life-cycle action, decided.
#[derive(Debug, Clone)]
pub struct Plan {
    pub action: Action,
    /// The instance acted on, as it will be (a new name or group applied).
    pub target: Instance,
    /// The primary's new `multi_instance_directories`, for the actions
    /// that change the instance list (create, import, destroy, deport).
    pub new_directories: Option<Vec<u8>>,
    /// Whether the name, the group, or both change (create, import, assign).
    pub renames: Renames,
    /// What the target's directories must keep clear of (spec D4): the
    /// other instances of the list, and Postfix's own directories.
    pub surroundings: Surroundings,
}

/// Which of the target's name and group the action changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Renames {
    pub name: bool,
    pub group: bool,
}

/// The outcome of planning.
#[derive(Debug)]
pub enum Planned {
    Act(Box<Plan>),
    NothingToDo(Unchanged),
}

/// Why an action has nothing to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unchanged {
    /// `-e assign` with the name and group the instance already has.
    SameNames,
    /// `--exist-ok`: the instance is registered exactly as requested.
    AlreadyRegistered,
}

impl Plan {
    /// Decides `action` for the instances `selection` picks, loading the
    /// instance list (claiming as it goes) where the action needs it.
    /// With `exist_ok`, a create or import of an instance registered
    /// exactly as requested has nothing to do.
    pub fn make(
        params: &Params,
        mut claims: Claims,
        selection: &Selection,
        action: &Action,
        exist_ok: bool,
    ) -> Result<Planned> {
        let changes_the_list = matches!(
            action,
            Action::Create { .. } | Action::Import { .. } | Action::Destroy | Action::Deport
        );
        // `instances`: the list as the action leaves it.
        let planned = |target: Instance, instances: &[Instance], renames| {
            let others = instances
                .iter()
                .filter(|i| i.config_dir != target.config_dir)
                .cloned()
                .collect();
            Planned::Act(Box::new(Plan {
                action: action.clone(),
                surroundings: Surroundings::new(params, others),
                target,
                new_directories: changes_the_list.then(|| directory_list(instances)),
                renames,
            }))
        };
        Ok(match action {
            Action::Init => planned(instance::primary(params), &[], Renames::default()),
            Action::Create {
                assignment,
                overrides,
            }
            | Action::Import {
                assignment,
                overrides,
            } => {
                let import = matches!(action, Action::Import { .. });
                let mut instances = instance::load_all(params, &mut claims)?;
                let requested = Requested::parse(params, assignment, overrides, import, action)?;
                if exist_ok && requested.is_registered(params, &instances, assignment) {
                    return Ok(Planned::NothingToDo(Unchanged::AlreadyRegistered));
                }
                let (new, renames) = new_instance(params, &mut claims, requested, assignment)?;
                insert(&mut instances, new.clone(), selection, &mut claims)?;
                planned(new, &instances, renames)
            }
            Action::Assign(assignment) => {
                let instances = instance::load_all(params, &mut claims)?;
                let mut target = instances[select_existing(&instances, selection)?].clone();
                check_names(assignment)?;
                let renames = assign_names(&mut target, assignment, &mut claims)?;
                if renames == Renames::default() {
                    return Ok(Planned::NothingToDo(Unchanged::SameNames));
                }
                planned(target, &instances, renames)
            }
            Action::Destroy | Action::Deport => {
                let mut instances = instance::load_all(params, &mut claims)?;
                let index = select_existing(&instances, selection)?;
                if index == 0 {
                    fatal!(b"Cannot remove the primary instance");
                }
                if instances[index].enabled {
                    fatal!(b"Cannot remove enabled instances");
                }
                let target = instances.remove(index);
                planned(target, &instances, Renames::default())
            }
            Action::Enable | Action::Disable => {
                let instances = instance::load_all(params, &mut claims)?;
                let target = instances[select_existing(&instances, selection)?].clone();
                planned(target, &instances, Renames::default())
            }
        })
    }

    /// The script's assign_names edits of the target's main.cf: the new
    /// name and group, where they change (`-` clears).
    pub fn name_edits(&self) -> Vec<Vec<u8>> {
        let mut edits = Vec::new();
        if self.renames.name {
            let name = self.target.name.as_deref().unwrap_or_default();
            edits.push(msg!(b"multi_instance_name = ", name));
        }
        if self.renames.group {
            let group = self.target.group.as_deref().unwrap_or_default();
            edits.push(msg!(b"multi_instance_group = ", group));
        }
        edits
    }
}

/// `multi_instance_directories` for a list of instances: the secondaries'
/// configuration directories, separated by spaces.
fn directory_list(instances: &[Instance]) -> Vec<u8> {
    let dirs: Vec<&[u8]> = instances
        .iter()
        .skip(1)
        .map(|i| i.config_dir.as_slice())
        .collect();
    dirs.join(&b' ')
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
) -> Result<Renames> {
    let mut renames = Renames::default();
    let current = |v: &Option<Vec<u8>>| v.clone().unwrap_or_default();
    if let Some(name) = &assignment.name
        && *name != current(&target.name)
    {
        claims.claim(&target.config_dir, "multi_instance_name", name)?;
        target.name = (!name.is_empty()).then(|| name.clone());
        renames.name = true;
    }
    if let Some(group) = &assignment.group
        && *group != current(&target.group)
    {
        target.group = (!group.is_empty()).then(|| group.clone());
        renames.group = true;
    }
    Ok(renames)
}

/// The instance `-e create` or `-e import` asks for: its configuration
/// directory, and a create's queue and data directories as given on the
/// command line (derived from the primary's when needed, after the
/// configuration directory's checks, as the real postmulti orders them).
struct Requested {
    config_dir: Vec<u8>,
    queue_dir: Option<Vec<u8>>,
    data_dir: Option<Vec<u8>>,
    import: bool,
}

impl Requested {
    fn parse(
        params: &Params,
        assignment: &Assignment,
        overrides: &[Vec<u8>],
        import: bool,
        action: &Action,
    ) -> Result<Requested> {
        check_names(assignment)?;
        let (mut config_dir, mut queue_dir, mut data_dir) = (None, None, None);
        for setting in overrides {
            let Ok((name, value)) = split_name_value(setting) else {
                fatal!(b"Malformed parameter setting '", setting, b"'");
            };
            let slot = match name {
                b"config_directory" => &mut config_dir,
                b"queue_directory" if !import => &mut queue_dir,
                b"data_directory" if !import => &mut data_dir,
                _ => fatal!(
                    b"Parameter '",
                    name,
                    b"' not valid with action ",
                    action.name()
                ),
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
        let config_dir = match config_dir {
            Some(dir) => dir,
            None => private_path(
                "config_directory",
                &params.config_dir,
                assignment.name.as_deref(),
            )?,
        };
        Ok(Requested {
            config_dir,
            queue_dir,
            data_dir,
            import,
        })
    }

    /// A create's queue and data directories.
    fn directories(&self, params: &Params, name: Option<&[u8]>) -> Result<(Vec<u8>, Vec<u8>)> {
        let queue_dir = match &self.queue_dir {
            Some(dir) => dir.clone(),
            None => private_path("queue_directory", &params.queue_directory, name)?,
        };
        let data_dir = match &self.data_dir {
            Some(dir) => dir.clone(),
            None => private_path("data_directory", &params.data_directory, name)?,
        };
        Ok((queue_dir, data_dir))
    }

    /// `--exist-ok`: whether a secondary with this configuration directory
    /// is registered with exactly the requested name, group and (for a
    /// create) directories.  An import's directories are those its main.cf
    /// names, which is where the registered instance's were read from.
    fn is_registered(
        &self,
        params: &Params,
        instances: &[Instance],
        assignment: &Assignment,
    ) -> bool {
        let Some(registered) = instances
            .iter()
            .skip(1)
            .find(|i| i.config_dir == self.config_dir)
        else {
            return false;
        };
        let wanted = |value: &Option<Vec<u8>>| value.clone().filter(|v| !v.is_empty());
        let same_directories = self.import
            || self
                .directories(params, assignment.name.as_deref())
                .is_ok_and(|(queue_dir, data_dir)| {
                    registered.queue_dir == queue_dir && registered.data_dir == data_dir
                });
        registered.name == wanted(&assignment.name)
            && registered.group == wanted(&assignment.group)
            && same_directories
    }
}

/// The instance `-e create` or `-e import` adds, its configuration
/// directory checked (an import's directories are read from its main.cf).
fn new_instance(
    params: &Params,
    claims: &mut Claims,
    requested: Requested,
    assignment: &Assignment,
) -> Result<(Instance, Renames)> {
    let config_dir = &requested.config_dir;
    if let Some(owner) = claims.owner(config_dir) {
        fatal!(
            b"new config_directory=",
            config_dir,
            b" is already in use by instance ",
            owner,
            b"=",
            config_dir
        );
    }
    let mut instance = if requested.import {
        instance::load_secondary(params, config_dir)?
    } else {
        let (queue_dir, data_dir) = requested.directories(params, assignment.name.as_deref())?;
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
    let renames = assign_names(&mut instance, assignment, claims)?;
    Ok((instance, renames))
}

/// A secondary's directory derived from the primary's `value` and the new
/// instance name, with make_private_path()'s exact treatment of slashes:
/// `/etc/postfix` gives `/etc/postfix-out`, but `/var/spool/postfix/`
/// gives `/var/spool/postfix/postfix-out`.
fn private_path(param: &str, value: &[u8], name: Option<&[u8]>) -> Result<Vec<u8>> {
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
