//! Spec D4: an instance's directories are its own.  Each of its
//! config_directory, queue_directory and data_directory must be a
//! canonical absolute path (no `.` or `..` component, no repeated or
//! trailing slash, no symbolic link anywhere on the way), must not be a
//! system directory, and must neither be, lie inside, nor contain a
//! directory of the primary, of another instance, or of Postfix itself
//! (its command, daemon, meta, shlib, html, manpage and readme
//! directories).  create and import check the new instance, destroy the
//! one it removes: what a directory that is not the instance's would
//! suffer is a chown, a chmod and removals.
//!
//! The directories are resolved as the kernel would (every symbolic link
//! followed, `..` taken physically) as far as they exist, and taken as
//! written beyond that, so a directory still to be made is judged too.
//! A refusal is `postmulti: fatal: <param>=<value> <why>`; it comes after
//! every refusal the real postmulti makes and before anything changes
//! (docs/compatibility.md, D4).

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::config::Params;
use crate::error::{Error, Result, strerror};
use crate::instance::Instance;
use crate::msg;

/// System directories no instance may be, with everything below them:
/// the system's programs and libraries, and the kernel's file systems.
const SYSTEM_TREES: [&str; 11] = [
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/dev", "/proc",
    "/sys",
];

/// System directories no instance may be, though one may lie below them.
const SYSTEM_DIRECTORIES: [&str; 19] = [
    "/",
    "/etc",
    "/home",
    "/media",
    "/mnt",
    "/opt",
    "/root",
    "/run",
    "/srv",
    "/tmp",
    "/var",
    "/var/cache",
    "/var/lib",
    "/var/lock",
    "/var/log",
    "/var/mail",
    "/var/run",
    "/var/spool",
    "/var/tmp",
];

/// Postfix's own directories, of the installation every instance shares.
const POSTFIX_DIRECTORIES: [&str; 7] = [
    "command_directory",
    "daemon_directory",
    "meta_directory",
    "shlib_directory",
    "html_directory",
    "manpage_directory",
    "readme_directory",
];

/// How symbolic links a resolution follows before it gives up, as the
/// kernel's limit.
const MAX_SYMLINKS: usize = 40;

/// What an instance's directories must keep clear of: every other
/// instance (the primary first) and Postfix's own directories.
#[derive(Debug, Clone)]
pub struct Surroundings {
    instances: Vec<Instance>,
    postfix: Vec<(&'static str, Vec<u8>)>,
}

/// Whose a directory an instance's directory collides with is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// The instance with this configuration directory (the primary too).
    Instance(Vec<u8>),
    /// The installed Postfix.
    Postfix,
}

/// How an instance's directory collides with another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Is,
    Inside,
    Contains,
}

/// Why one of an instance's directories is not its own.
#[derive(Debug)]
pub enum Escape {
    /// Not an absolute path.
    Relative { param: &'static str, value: Vec<u8> },
    /// A symbolic link on the way could not be followed.
    Unresolvable {
        param: &'static str,
        value: Vec<u8>,
        cause: io::Error,
    },
    /// Spelled otherwise than it resolves.
    NotCanonical {
        param: &'static str,
        value: Vec<u8>,
        resolved: Vec<u8>,
    },
    /// One of [`SYSTEM_DIRECTORIES`] or [`SYSTEM_TREES`].
    SystemDirectory { param: &'static str, value: Vec<u8> },
    /// Below one of [`SYSTEM_TREES`].
    InsideSystemDirectory {
        param: &'static str,
        value: Vec<u8>,
        tree: &'static str,
    },
    /// The same as, inside, or holding another's directory.
    Collides {
        param: &'static str,
        value: Vec<u8>,
        relation: Relation,
        owner: Owner,
        owner_param: &'static str,
        /// The other directory, resolved.
        dir: Vec<u8>,
    },
}

impl Surroundings {
    /// The primary's surroundings of an instance: `others` (the instances
    /// it is not, the primary first) and Postfix's own directories as the
    /// primary main.cf sets them (one that cannot be evaluated, or is
    /// `no`, is not a directory to keep clear of).
    pub fn new(params: &Params, others: Vec<Instance>) -> Surroundings {
        let postfix = POSTFIX_DIRECTORIES
            .iter()
            .filter_map(|&name| {
                let value = match name {
                    "command_directory" => params.command_directory.clone(),
                    "daemon_directory" => params.daemon_directory.clone(),
                    "meta_directory" => params.meta_directory.clone(),
                    "shlib_directory" => params.shlib_directory.clone(),
                    _ => params.eval(name).ok()?,
                };
                Some((name, value))
            })
            .collect();
        Surroundings {
            instances: others,
            postfix,
        }
    }

    /// D4's refusal of `target`, as the fatal error it ends the action with.
    pub fn confine(&self, target: &Instance) -> Result<()> {
        self.escape(target)
            .map_err(|escape| Error::Fatal(escape.text()))
    }

    /// The first of `target`'s directories (config, queue, data) that is
    /// not its own, and why.
    pub fn escape(&self, target: &Instance) -> std::result::Result<(), Escape> {
        let own = [
            ("config_directory", &target.config_dir),
            ("queue_directory", &target.queue_dir),
            ("data_directory", &target.data_dir),
        ];
        for (param, value) in own {
            let resolved = canonical(param, value)?;
            system_directory(param, value)?;
            for instance in &self.instances {
                let owner = Owner::Instance(instance.config_dir.clone());
                for (owner_param, dir) in [
                    ("config_directory", &instance.config_dir),
                    ("queue_directory", &instance.queue_dir),
                    ("data_directory", &instance.data_dir),
                ] {
                    collision(param, value, &resolved, &owner, owner_param, dir)?;
                }
            }
            for (owner_param, dir) in &self.postfix {
                collision(param, value, &resolved, &Owner::Postfix, owner_param, dir)?;
            }
        }
        Ok(())
    }
}

impl Escape {
    /// The refusal's text: `<param>=<value> <why>`.
    pub fn text(&self) -> Vec<u8> {
        match self {
            Escape::Relative { param, value } => {
                msg!(param, b"=", value, b" is not an absolute path")
            }
            Escape::Unresolvable {
                param,
                value,
                cause,
            } => msg!(
                param,
                b"=",
                value,
                b" cannot be resolved: ",
                strerror(cause)
            ),
            Escape::NotCanonical {
                param,
                value,
                resolved,
            } => msg!(
                param,
                b"=",
                value,
                b" is not a canonical path (it is ",
                resolved,
                b")"
            ),
            Escape::SystemDirectory { param, value } => {
                msg!(param, b"=", value, b" is a system directory")
            }
            Escape::InsideSystemDirectory { param, value, tree } => msg!(
                param,
                b"=",
                value,
                b" is inside the system directory ",
                tree
            ),
            Escape::Collides {
                param,
                value,
                relation,
                owner,
                owner_param,
                dir,
            } => {
                let whose = match owner {
                    Owner::Instance(config_dir) => {
                        msg!(b"the ", owner_param, b" of instance ", config_dir)
                    }
                    Owner::Postfix => msg!(b"Postfix's ", owner_param),
                };
                let how = match relation {
                    Relation::Is => msg!(b" is ", whose),
                    Relation::Inside => msg!(b" is inside ", dir, b", ", whose),
                    Relation::Contains => msg!(b" contains ", dir, b", ", whose),
                };
                msg!(param, b"=", value, how)
            }
        }
    }
}

/// `value` resolved, if it is canonical; else why not.
fn canonical(param: &'static str, value: &[u8]) -> std::result::Result<Vec<u8>, Escape> {
    if value.first() != Some(&b'/') {
        return Err(Escape::Relative {
            param,
            value: value.to_vec(),
        });
    }
    let resolved = resolve(value).map_err(|cause| Escape::Unresolvable {
        param,
        value: value.to_vec(),
        cause,
    })?;
    if resolved != value {
        return Err(Escape::NotCanonical {
            param,
            value: value.to_vec(),
            resolved,
        });
    }
    Ok(resolved)
}

/// Refuses a (canonical) `value` that is a system directory or lies
/// inside one of the system's trees.
fn system_directory(param: &'static str, value: &[u8]) -> std::result::Result<(), Escape> {
    let is = |dir: &str| value == dir.as_bytes();
    if SYSTEM_DIRECTORIES
        .iter()
        .chain(&SYSTEM_TREES)
        .any(|d| is(d))
    {
        return Err(Escape::SystemDirectory {
            param,
            value: value.to_vec(),
        });
    }
    match SYSTEM_TREES.iter().find(|t| is_inside(value, t.as_bytes())) {
        Some(tree) => Err(Escape::InsideSystemDirectory {
            param,
            value: value.to_vec(),
            tree,
        }),
        None => Ok(()),
    }
}

/// Refuses `resolved` (the target's `param`, spelled `value`) if it is,
/// lies inside or contains `other`, `owner`'s `owner_param`; a relative
/// `other` is no directory anyone could collide with.
fn collision(
    param: &'static str,
    value: &[u8],
    resolved: &[u8],
    owner: &Owner,
    owner_param: &'static str,
    other: &[u8],
) -> std::result::Result<(), Escape> {
    if other.first() != Some(&b'/') {
        return Ok(());
    }
    let dir = resolve(other).unwrap_or_else(|_| other.to_vec());
    let relation = if resolved == dir.as_slice() {
        Relation::Is
    } else if is_inside(resolved, &dir) {
        Relation::Inside
    } else if is_inside(&dir, resolved) {
        Relation::Contains
    } else {
        return Ok(());
    };
    Err(Escape::Collides {
        param,
        value: value.to_vec(),
        relation,
        owner: owner.clone(),
        owner_param,
        dir,
    })
}

/// Whether the resolved path `path` lies strictly below the resolved
/// directory `dir`.
fn is_inside(path: &[u8], dir: &[u8]) -> bool {
    if dir == b"/" {
        return path != b"/";
    }
    path.len() > dir.len() && path.starts_with(dir) && path[dir.len()] == b'/'
}

/// The absolute `path` as the kernel would reach it: every symbolic link
/// followed, `.` dropped and `..` taken as the parent of what was reached,
/// as far as the path exists; beyond that, as written with `.` and `..`
/// applied (realpath -m).  Fails on a link loop or a component that
/// cannot be looked at.
pub fn resolve(path: &[u8]) -> io::Result<Vec<u8>> {
    // Components still to walk, the next one last.
    let mut pending: Vec<Vec<u8>> = components(path).rev().collect();
    let mut reached: Vec<Vec<u8>> = Vec::new();
    let mut exists = true;
    let mut links = 0;
    while let Some(component) = pending.pop() {
        match component.as_slice() {
            b"." => continue,
            b".." => {
                reached.pop();
                continue;
            }
            _ => {}
        }
        reached.push(component);
        if !exists {
            continue;
        }
        let here = joined(&reached);
        match std::fs::symlink_metadata(OsStr::from_bytes(&here)) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(io::Error::from_raw_os_error(libc::ELOOP));
                }
                let target = std::fs::read_link(OsStr::from_bytes(&here))?.into_os_string();
                let target = target.into_vec();
                reached.pop();
                if target.first() == Some(&b'/') {
                    reached.clear();
                }
                pending.extend(components(&target).rev());
            }
            Ok(_) => {}
            Err(err) if matches!(err.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {
                exists = false;
            }
            Err(err) => return Err(err),
        }
    }
    Ok(joined(&reached))
}

/// The non-empty components of a path, in order.
fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = Vec<u8>> + '_ {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
}

/// `/a/b/c` from `[a, b, c]`; `/` from none.
fn joined(components: &[Vec<u8>]) -> Vec<u8> {
    if components.is_empty() {
        return b"/".to_vec();
    }
    components
        .iter()
        .flat_map(|c| [&b"/"[..], c])
        .flatten()
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn instance(config: &str, queue: &str, data: &str) -> Instance {
        Instance {
            config_dir: config.into(),
            queue_dir: queue.into(),
            data_dir: data.into(),
            name: None,
            group: None,
            enabled: false,
            primary: false,
        }
    }

    fn bytes(path: &std::path::Path) -> Vec<u8> {
        path.as_os_str().as_bytes().to_vec()
    }

    fn text(surroundings: &Surroundings, target: &Instance) -> Option<String> {
        surroundings
            .escape(target)
            .err()
            .map(|e| String::from_utf8(e.text()).unwrap())
    }

    #[test]
    fn resolution_follows_links_and_dot_dot_as_far_as_the_path_exists() {
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(top.join("real/sub")).unwrap();
        symlink(top.join("real"), top.join("link")).unwrap();
        symlink("real/sub", top.join("relative")).unwrap();
        symlink("loop", top.join("loop")).unwrap();
        let at = |p: &str| msg!(bytes(&top), p);
        assert_eq!(resolve(&at("/real/sub")).unwrap(), at("/real/sub"));
        assert_eq!(resolve(&at("/link/sub/new")).unwrap(), at("/real/sub/new"));
        assert_eq!(resolve(&at("/relative/..")).unwrap(), at("/real"));
        assert_eq!(resolve(&at("//real/./sub/")).unwrap(), at("/real/sub"));
        assert_eq!(resolve(&at("/new/../real")).unwrap(), at("/real"));
        assert_eq!(resolve(b"/").unwrap(), b"/");
        assert_eq!(resolve(b"/etc/../etc/postfix").unwrap(), b"/etc/postfix");
        let looped = resolve(&at("/loop/x")).unwrap_err();
        assert_eq!(looped.raw_os_error(), Some(libc::ELOOP));
    }

    #[test]
    fn system_directories_and_paths_that_are_not_canonical_are_refused() {
        let none = Surroundings {
            instances: Vec::new(),
            postfix: Vec::new(),
        };
        let refused =
            |config: &str, queue: &str, data: &str| text(&none, &instance(config, queue, data));
        assert_eq!(
            refused(
                "/etc/postfix-a",
                "/var/spool/postfix-a",
                "/var/lib/postfix-a"
            ),
            None
        );
        assert_eq!(
            refused(
                "/etc/../etc/postfix",
                "/var/spool/postfix-a",
                "/var/lib/postfix-a"
            )
            .unwrap(),
            "config_directory=/etc/../etc/postfix is not a canonical path (it is /etc/postfix)"
        );
        assert_eq!(
            refused(
                "/etc/postfix-a",
                "/var/spool/postfix-a/",
                "/var/lib/postfix-a"
            )
            .unwrap(),
            "queue_directory=/var/spool/postfix-a/ is not a canonical path (it is /var/spool/postfix-a)"
        );
        assert_eq!(
            refused("/etc/postfix-a", "/var/spool/postfix-a", "/usr/local").unwrap(),
            "data_directory=/usr/local is inside the system directory /usr"
        );
        assert_eq!(
            refused("/etc/postfix-a", "/var/spool", "/var/lib/postfix-a").unwrap(),
            "queue_directory=/var/spool is a system directory"
        );
        assert_eq!(
            refused("/etc/postfix-a", "/var/spool/postfix-a", "relative").unwrap(),
            "data_directory=relative is not an absolute path"
        );
        assert_eq!(refused("/tmp/pf-out", "/tmp/q-out", "/tmp/d-out"), None);
    }

    #[test]
    fn the_primarys_other_instances_and_postfixs_directories_are_refused() {
        let primary = Instance {
            primary: true,
            ..instance("/etc/postfix", "/var/spool/postfix", "/var/lib/postfix")
        };
        let other = instance("/etc/postfix-b", "/srv/b/queue", "/srv/b/data");
        let surroundings = Surroundings {
            instances: vec![primary, other],
            postfix: vec![
                ("daemon_directory", b"/opt/postfix/libexec".to_vec()),
                ("html_directory", b"no".to_vec()),
            ],
        };
        let refused = |config: &str, queue: &str, data: &str| {
            text(&surroundings, &instance(config, queue, data))
        };
        assert_eq!(
            refused(
                "/etc/postfix-a",
                "/var/spool/postfix-a",
                "/var/lib/postfix-a"
            ),
            None
        );
        assert_eq!(
            refused(
                "/etc/postfix-a",
                "/var/spool/postfix/postfix-a",
                "/var/lib/postfix-a"
            )
            .unwrap(),
            "queue_directory=/var/spool/postfix/postfix-a is inside /var/spool/postfix, \
             the queue_directory of instance /etc/postfix"
        );
        assert_eq!(
            refused("/etc/postfix-a", "/var/spool/postfix-a", "/srv/b").unwrap(),
            "data_directory=/srv/b contains /srv/b/queue, the queue_directory of instance /etc/postfix-b"
        );
        assert_eq!(
            refused("/etc/postfix-a", "/srv/b/data", "/var/lib/postfix-a").unwrap(),
            "queue_directory=/srv/b/data is the data_directory of instance /etc/postfix-b"
        );
        assert_eq!(
            refused(
                "/etc/postfix-a",
                "/var/spool/postfix-a",
                "/opt/postfix/libexec/data"
            )
            .unwrap(),
            "data_directory=/opt/postfix/libexec/data is inside /opt/postfix/libexec, \
             Postfix's daemon_directory"
        );
    }
}
