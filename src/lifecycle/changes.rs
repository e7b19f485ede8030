//! The changes an in-process life-cycle action makes, as one interface
//! with two implementations: the real one (`native::applied`, each change
//! recorded so that a failure undoes the ones before it) and the dry run's
//! (`preview`, each change recorded to be shown, nothing touched).  The
//! actions are written once, against this trait, so that `--dry-run`
//! computes the very action it describes.

use std::fs::Metadata;
use std::path::{Path, PathBuf};

use super::environment::Environment;
use crate::config::Params;
use crate::error::Result;
use crate::lifecycle::checks::StatusProbe;
use crate::lifecycle::voice::tool_io_error;

/// What a recursive walk of a directory found: each path, and whether it
/// is a directory; the walk never follows a symbolic link.
pub type Tree = Vec<(PathBuf, bool)>;

/// The file operations of the actions, and the queries whose answer the
/// action's own earlier changes may have changed.
pub trait Changes {
    /// Whether `path` is a directory (following symlinks, as `test -d`).
    fn is_directory(&self, path: &Path) -> bool;

    /// Whether something is at `path` (not following a last symlink).
    fn exists(&self, path: &Path) -> bool;

    /// `path` and everything below it; a path that cannot be read is the
    /// error, with the path.
    fn tree(&self, path: &Path) -> std::result::Result<Tree, (PathBuf, std::io::Error)>;

    /// mkdir(2) with `mode` (before the umask).
    fn make_directory(&mut self, path: &Path, mode: u32) -> Result<()>;

    /// A new file with `content` and `mode`, and (as `cp -p`) the times
    /// and owner of `like`; a stale file from a killed run is replaced.
    fn write_new(
        &mut self,
        file: &Path,
        content: &[u8],
        mode: u32,
        like: Option<&Metadata>,
    ) -> Result<()>;

    /// Renames a staged file into place, durably.
    fn install(&mut self, staged: &Path, target: &Path) -> Result<()>;

    /// Says that the new `file` is `original` edited: a dry run shows the
    /// edits.
    fn made_from(&mut self, file: &Path, original: &Path);

    /// syncfiles.pl's copy of `source` (whose metadata is `like`): the
    /// content, times, mode and owner.
    fn copy_file(&mut self, source: &Path, like: &Metadata, copy: &Path) -> Result<()>;

    /// chown (and chgrp, chmod where given) of `path`, of the symlink
    /// itself unless `follow`, failing as those tools report.
    fn set_ownership(
        &mut self,
        path: &Path,
        uid: u32,
        gid: Option<u32>,
        mode: Option<u32>,
        follow: bool,
    ) -> Result<()>;

    /// rmdir(2); the error is the one rmdir would report.
    fn remove_directory(&mut self, dir: &Path) -> std::io::Result<()>;

    /// unlink(2) of a file.
    fn remove_file(&mut self, file: &Path) -> std::io::Result<()>;

    /// `postconf -c <config_dir> -e` of the arguments `edits` computes
    /// from the current main.cf.
    fn set_parameters(
        &mut self,
        config_dir: &[u8],
        edits: &dyn Fn(&[u8]) -> Vec<Vec<u8>>,
    ) -> Result<()>;

    /// Replaces `<config_dir>/main.cf`, which holds `old`, with `new`.
    fn replace_main_cf(&mut self, config_dir: &[u8], old: &[u8], new: &[u8]) -> Result<()>;

    /// What the scripts print as they go (a copied file, a directory that
    /// will not go): printed by the real run only, the dry run shows the
    /// change itself.
    fn print(&mut self, output: &dyn Fn());

    /// Whether the instance runs, asked as the script asks it (`postfix
    /// status`, which leaves a record in the log) or, in a dry run, with
    /// the test that command makes.
    fn instance_is_running(
        &self,
        params: &Params,
        config_dir: &[u8],
        queue_dir: &[u8],
        probe: &StatusProbe,
        env: &Environment,
    ) -> bool;

    /// Writes the destroy journal (see `native::destroy`); a dry run has
    /// nothing to finish.
    fn write_journal(&mut self, journal: &Path, content: &[u8]) -> Result<()>;

    /// Removes the journal again.
    fn remove_journal(&mut self, journal: &Path);
}

/// `mkdir -p`: each missing component of `path` made with `mode`.
pub fn make_directories(changes: &mut dyn Changes, path: &Path, mode: u32) -> Result<()> {
    let mut missing = Vec::new();
    let mut at = Some(path);
    while let Some(p) = at {
        if p.as_os_str().is_empty() || changes.is_directory(p) {
            break;
        }
        missing.push(p);
        at = p.parent();
    }
    for p in missing.into_iter().rev() {
        // GNU mkdir -p's words for a component that exists but is no
        // directory: "File exists" for the last, "Not a directory" above it.
        if changes.exists(p) && p != path {
            let not_a_directory = std::io::Error::from_raw_os_error(libc::ENOTDIR);
            return Err(tool_io_error(
                b"mkdir: cannot create directory",
                p,
                &not_a_directory,
            ));
        }
        changes.make_directory(p, mode)?;
    }
    Ok(())
}
