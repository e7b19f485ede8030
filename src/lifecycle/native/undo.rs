//! The undo log of one life-cycle action done in-process: every directory
//! and file it makes, every owner or mode it changes, every file it
//! replaces, remembered before the change, so that a failure half-way puts
//! each of them back and leaves the files as they were.

use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::maincf::regular;

enum Change {
    MadeDirectory(PathBuf),
    MadeFile(PathBuf),
    Metadata {
        path: PathBuf,
        uid: u32,
        gid: u32,
        mode: u32,
    },
    Replaced {
        path: PathBuf,
        content: Vec<u8>,
        metadata: fs::Metadata,
    },
    ReplacedMainCf {
        config_dir: Vec<u8>,
        content: Vec<u8>,
    },
}

/// The changes made so far, newest last.
#[derive(Default)]
pub struct Undo(Vec<Change>);

impl Undo {
    /// `path` is a directory this action made.
    pub fn made_directory(&mut self, path: &Path) {
        self.0.push(Change::MadeDirectory(path.to_path_buf()));
    }

    /// `path` is a file this action made.
    pub fn made_file(&mut self, path: &Path) {
        self.0.push(Change::MadeFile(path.to_path_buf()));
    }

    /// Call before changing the owner, group or mode of `path` (the object
    /// itself, not a symlink's target).
    pub fn will_change_metadata(&mut self, path: &Path) -> std::io::Result<()> {
        let m = fs::symlink_metadata(path)?;
        self.0.push(Change::Metadata {
            path: path.to_path_buf(),
            uid: m.uid(),
            gid: m.gid(),
            mode: m.mode() & 0o7777,
        });
        Ok(())
    }

    /// Call before replacing or removing the regular file `path`; anything
    /// else there (a FIFO, a device) is refused, never read.
    pub fn will_replace(&mut self, path: &Path) -> std::io::Result<()> {
        let metadata = fs::symlink_metadata(path)?;
        let content = regular::read(path)?;
        self.0.push(Change::Replaced {
            path: path.to_path_buf(),
            content,
            metadata,
        });
        Ok(())
    }

    /// Call before removing the regular file `path`, open as `file`.
    pub fn will_remove(&mut self, path: &Path, mut file: fs::File) -> std::io::Result<()> {
        let metadata = file.metadata()?;
        let mut content = Vec::new();
        file.read_to_end(&mut content)?;
        self.0.push(Change::Replaced {
            path: path.to_path_buf(),
            content,
            metadata,
        });
        Ok(())
    }

    /// Call after `<config_dir>/main.cf` was rewritten (under postconf's
    /// protocol) from `content`.
    pub fn replaced_main_cf(&mut self, config_dir: &[u8], content: Vec<u8>) {
        self.0.push(Change::ReplacedMainCf {
            config_dir: config_dir.to_vec(),
            content,
        });
    }

    /// Forgets everything: the action is complete.
    pub fn commit(mut self) {
        self.0.clear();
    }

    /// Puts back what was changed, newest first.  Best effort: a step that
    /// fails does not stop the others.
    pub fn roll_back(mut self) {
        while let Some(change) = self.0.pop() {
            match change {
                Change::MadeDirectory(path) => {
                    let _ = fs::remove_dir(path);
                }
                Change::MadeFile(path) => {
                    let _ = fs::remove_file(path);
                }
                Change::Metadata {
                    path,
                    uid,
                    gid,
                    mode,
                } => {
                    let _ = std::os::unix::fs::lchown(&path, Some(uid), Some(gid));
                    if !fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                        let _ = fs::set_permissions(&path, fs::Permissions::from_mode(mode));
                    }
                }
                Change::Replaced {
                    path,
                    content,
                    metadata,
                } => restore_file(&path, &content, &metadata),
                Change::ReplacedMainCf {
                    config_dir,
                    content,
                } => {
                    let _ = crate::maincf::write::update_main_cf(&config_dir, |_| Ok(content));
                }
            }
        }
    }
}

impl Drop for Undo {
    /// An action that returns early with an error rolls back by default.
    fn drop(&mut self) {
        if !self.0.is_empty() {
            Undo(std::mem::take(&mut self.0)).roll_back();
        }
    }
}

/// Writes `content` back to `path` through a temporary file and rename, with
/// the old owner, mode and modification time.
fn restore_file(path: &Path, content: &[u8], metadata: &fs::Metadata) {
    let mut temp = path.as_os_str().as_bytes().to_vec();
    temp.extend_from_slice(b".undo");
    let temp = Path::new(OsStr::from_bytes(&temp));
    if write_back(temp, content, metadata)
        .and_then(|()| fs::rename(temp, path))
        .is_err()
    {
        let _ = fs::remove_file(temp);
    }
}

/// `content` into the regular file `temp`, with `metadata`'s times,
/// owner and mode.
fn write_back(temp: &Path, content: &[u8], metadata: &fs::Metadata) -> std::io::Result<()> {
    let mut options = fs::File::options();
    options.write(true).create(true).truncate(true);
    let mut file = regular::open(temp, &mut options)?;
    file.write_all(content)?;
    let times = fs::FileTimes::new()
        .set_accessed(metadata.accessed()?)
        .set_modified(metadata.modified()?);
    file.set_times(times)?;
    std::os::unix::fs::fchown(&file, Some(metadata.uid()), Some(metadata.gid()))?;
    file.set_permissions(fs::Permissions::from_mode(metadata.mode() & 0o7777))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolls_back_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("kept");
        fs::write(&kept, "old").unwrap();
        fs::set_permissions(&kept, fs::Permissions::from_mode(0o640)).unwrap();
        let mut undo = Undo::default();
        let made = dir.path().join("made");
        fs::create_dir(&made).unwrap();
        undo.made_directory(&made);
        let inner = made.join("file");
        fs::write(&inner, "x").unwrap();
        undo.made_file(&inner);
        undo.will_replace(&kept).unwrap();
        fs::write(&kept, "new").unwrap();
        undo.will_change_metadata(&kept).unwrap();
        fs::set_permissions(&kept, fs::Permissions::from_mode(0o600)).unwrap();
        undo.roll_back();
        assert!(!made.exists());
        assert_eq!(fs::read(&kept).unwrap(), b"old");
        assert_eq!(fs::metadata(&kept).unwrap().mode() & 0o7777, 0o640);
    }

    #[test]
    fn commit_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        let made = dir.path().join("made");
        fs::create_dir(&made).unwrap();
        let mut undo = Undo::default();
        undo.made_directory(&made);
        undo.commit();
        assert!(made.is_dir());
    }

    #[test]
    fn dropping_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let made = dir.path().join("made");
        fs::create_dir(&made).unwrap();
        {
            let mut undo = Undo::default();
            undo.made_directory(&made);
        }
        assert!(!made.exists());
    }
}
