//! Putting back what a failed postmulti-script did to make an instance.
//! Before the script runs a create or an import, the state it may change
//! is recorded: the primary's and the instance's main.cf and master.cf,
//! which of the instance's directories exist (and, for the missing ones,
//! the highest missing ancestor `mkdir -p` will make), and the owner and
//! mode of those that do.  If the script fails, the files get their old
//! contents back (main.cf through postconf's protocol), what did not exist
//! is removed (everything in it was made by this action; symbolic links
//! are removed, never followed), and owners and modes are restored.  So a
//! failed create never leaves a half-made instance registered.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::plan::Plan;
use crate::config::Params;
use crate::maincf::write::update_main_cf;
use crate::maincf::{main_cf_path, path, regular};
use crate::msg;

/// What the script may change, as it was.
pub struct Snapshot {
    primary_dir: Vec<u8>,
    primary_main_cf: Option<Vec<u8>>,
    instance_dir: Vec<u8>,
    instance_main_cf: Option<Vec<u8>>,
    instance_master_cf: Option<Vec<u8>>,
    /// Directories that did not exist, each the highest missing one.
    made: Vec<PathBuf>,
    /// Directories that existed: owner, group and mode.
    kept: Vec<(PathBuf, u32, u32, u32)>,
}

impl Snapshot {
    /// Records the state a create or import of `plan` may change.
    pub fn take(params: &Params, plan: &Plan) -> Snapshot {
        let target = &plan.target;
        let instance = &target.config_dir;
        let mut made = Vec::new();
        let mut kept = Vec::new();
        for dir in [&target.config_dir, &target.queue_dir, &target.data_dir] {
            let dir = path(dir);
            match fs::symlink_metadata(&dir) {
                Ok(meta) => kept.push((dir, meta.uid(), meta.gid(), meta.mode() & 0o7777)),
                Err(_) => {
                    let highest = highest_missing(&dir);
                    if !made.contains(&highest) {
                        made.push(highest);
                    }
                }
            }
        }
        Snapshot {
            primary_dir: params.config_dir.clone(),
            primary_main_cf: regular::read(&main_cf_path(&params.config_dir)).ok(),
            instance_dir: instance.clone(),
            instance_main_cf: regular::read(&main_cf_path(instance)).ok(),
            instance_master_cf: regular::read(&path(&msg!(instance, b"/master.cf"))).ok(),
            made,
            kept,
        }
    }

    /// Puts everything back, as far as it can (a step that fails does not
    /// stop the others).
    pub fn restore(self) {
        if let Some(old) = &self.primary_main_cf {
            restore_main_cf(&self.primary_dir, old);
        }
        for dir in &self.made {
            remove_made_tree(dir);
        }
        if let Some(old) = &self.instance_main_cf {
            restore_main_cf(&self.instance_dir, old);
        }
        if let Some(old) = &self.instance_master_cf {
            let master = path(&msg!(self.instance_dir, b"/master.cf"));
            if fs::read(&master).ok().as_ref() != Some(old) {
                let _ = fs::write(master, old);
            }
        }
        for (dir, uid, gid, mode) in &self.kept {
            let _ = std::os::unix::fs::lchown(dir, Some(*uid), Some(*gid));
            if fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
                let _ = fs::set_permissions(dir, fs::Permissions::from_mode(*mode));
            }
        }
    }
}

/// Writes `old` back to `<dir>/main.cf` if it changed.
fn restore_main_cf(dir: &[u8], old: &[u8]) {
    let _ = update_main_cf(dir, |_| Ok(old.to_vec()));
}

/// The highest ancestor of `dir` (or `dir` itself) that does not exist.
fn highest_missing(dir: &Path) -> PathBuf {
    let mut highest = dir;
    while let Some(parent) = highest.parent() {
        if parent.as_os_str().is_empty() || fs::symlink_metadata(parent).is_ok() {
            break;
        }
        highest = parent;
    }
    highest.to_path_buf()
}

/// Removes a directory this action made, with everything in it, depth
/// first; a symbolic link is removed itself, never followed.
fn remove_made_tree(top: &Path) {
    let Ok(meta) = fs::symlink_metadata(top) else {
        return;
    };
    if !meta.is_dir() {
        let _ = fs::remove_file(top);
        return;
    }
    if let Ok(entries) = fs::read_dir(top) {
        for entry in entries.flatten() {
            remove_made_tree(&entry.path());
        }
    }
    let _ = fs::remove_dir(top);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_trees_are_removed_without_following_links() {
        let scratch = tempfile::tempdir().unwrap();
        let outside = scratch.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("keep"), "x").unwrap();
        let made = scratch.path().join("new/a/b");
        fs::create_dir_all(&made).unwrap();
        fs::write(made.join("main.cf"), "x").unwrap();
        std::os::unix::fs::symlink(&outside, made.join("link")).unwrap();
        assert_eq!(
            highest_missing(&scratch.path().join("new2/x/y")),
            scratch.path().join("new2")
        );
        remove_made_tree(&scratch.path().join("new"));
        assert!(!scratch.path().join("new").exists());
        assert!(outside.join("keep").exists());
    }
}
