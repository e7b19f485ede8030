//! Making, replacing and removing the files and directories of an
//! instance, each change recorded in the undo log first, and failures
//! reported as the tools the scripts run (mkdir, cp, ...) would word them
//! in the C locale, or else naming the action and the path.
//!
//! Removals go through directory handles: the parent of what is removed
//! is opened from `/` one component at a time, each relative to the one
//! before with `O_NOFOLLOW | O_DIRECTORY`, so that no symbolic link on
//! the way, not even one swapped in while a destroy walks the instance's
//! directories, can take a removal outside them.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{AtFlags, OFlag, openat};
use nix::sys::stat::{Mode, SFlag, fstatat};
use nix::unistd::{UnlinkatFlags, unlinkat};

use super::undo::Undo;
use crate::error::{Error, Result, strerror};
use crate::lifecycle::voice::{gnu_quote, tool_error, tool_io_error};
use crate::maincf::regular;
use crate::msg;

/// mkdir(2) with `mode` (before the umask), recorded for undo.
pub fn make_directory(path: &Path, mode: u32, undo: &mut Undo) -> Result<()> {
    fs::DirBuilder::new()
        .mode(mode)
        .create(path)
        .map_err(|e| tool_io_error(b"mkdir: cannot create directory", path, &e))?;
    undo.made_directory(path);
    Ok(())
}

/// `cp -p` of a prototype into the staging directory, its content
/// already edited: a file that must not exist yet (a stale one from a
/// killed run is replaced, as cp would overwrite it), synced, with `mode`
/// and `times_of`'s times and owner.  Failures are cp's.
pub fn write_new(
    file: &Path,
    content: &[u8],
    mode: u32,
    times_of: Option<&fs::Metadata>,
    undo: &mut Undo,
) -> Result<()> {
    let cp = |what: &str, e: &std::io::Error| tool_io_error(&msg!(b"cp: ", what), file, e);
    let cannot_create = |e: std::io::Error| cp("cannot create regular file", &e);
    if fs::symlink_metadata(file).is_ok() {
        undo.will_replace(file).map_err(cannot_create)?;
        fs::remove_file(file).map_err(cannot_create)?;
    }
    let mut options = fs::File::options();
    options.write(true).create_new(true);
    let mut out = regular::open(file, &mut options).map_err(cannot_create)?;
    undo.made_file(file);
    out.write_all(content)
        .map_err(|e| cp("error writing", &e))?;
    out.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| cp("preserving permissions for", &e))?;
    if let Some(meta) = times_of {
        let preserving_times = |e| cp("preserving times for", &e);
        let times = fs::FileTimes::new()
            .set_accessed(meta.accessed().map_err(preserving_times)?)
            .set_modified(meta.modified().map_err(preserving_times)?);
        out.set_times(times).map_err(preserving_times)?;
        std::os::unix::fs::fchown(&out, Some(meta.uid()), Some(meta.gid()))
            .map_err(|e| cp("failed to preserve ownership for", &e))?;
    }
    // cp does not sync; a write the file system could not keep shows here.
    out.sync_all().map_err(|e| cp("failed to close", &e))
}

/// Renames a staged file into place (the script's `mv`, in its words),
/// durably.
pub fn install(staged: &Path, target: &Path, undo: &mut Undo) -> Result<()> {
    let shown = target.as_os_str().as_bytes();
    if fs::symlink_metadata(target).is_ok() {
        undo.will_replace(target)
            .map_err(|e| Error::io("read", shown, e))?;
    } else {
        undo.made_file(target);
    }
    fs::rename(staged, target).map_err(|e| {
        tool_error(&msg!(
            b"mv: cannot move ",
            gnu_quote(staged.as_os_str().as_bytes()),
            b" to ",
            gnu_quote(shown),
            b": ",
            strerror(&e)
        ))
    })?;
    if let Some(parent) = target.parent() {
        let parent_shown = parent.as_os_str().as_bytes();
        open_directory(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| Error::io("fsync", parent_shown, e))?;
    }
    Ok(())
}

/// A directory opened for fsync(2); nothing else can be opened in its
/// place (`O_DIRECTORY`).
fn open_directory(dir: &Path) -> std::io::Result<fs::File> {
    fs::File::options()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(dir)
}

/// syncfiles.pl's copy: a `.tmp` file beside the copy, with the source's
/// times, mode and owner, renamed into place.
pub fn copy_file(source: &Path, meta: &fs::Metadata, copy: &Path, undo: &mut Undo) -> Result<()> {
    let temp = PathBuf::from(OsString::from_vec(msg!(
        copy.as_os_str().as_bytes(),
        b".tmp"
    )));
    if fs::symlink_metadata(&temp).is_ok() {
        undo.will_replace(&temp)
            .map_err(|e| Error::io("read", temp.as_os_str().as_bytes(), e))?;
        let _ = fs::remove_file(&temp);
    }
    let fail = |what: &[u8], e: std::io::Error| {
        tool_error(&msg!(
            what,
            b" ",
            temp.as_os_str().as_bytes(),
            b": ",
            strerror(&e)
        ))
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true).mode(0o600);
    let mut out = regular::open(&temp, &mut options).map_err(|e| fail(b"unable to create", e))?;
    undo.made_file(&temp);
    let content = regular::read(source).map_err(|e| fail(b"error reading for", e))?;
    out.write_all(&content)
        .map_err(|e| fail(b"error writing to", e))?;
    let mtime = meta
        .modified()
        .map_err(|e| fail(b"error reading times for", e))?;
    out.set_times(fs::FileTimes::new().set_accessed(mtime).set_modified(mtime))
        .map_err(|e| fail(b"error setting times of", e))?;
    out.set_permissions(fs::Permissions::from_mode(meta.mode() & 0o7777))
        .map_err(|e| fail(b"error setting mode of", e))?;
    std::os::unix::fs::fchown(&out, Some(meta.uid()), Some(meta.gid()))
        .map_err(|e| fail(b"error setting owner of", e))?;
    out.sync_all().map_err(|e| fail(b"error writing to", e))?;
    if copy.exists() {
        undo.will_replace(copy)
            .map_err(|e| Error::io("read", copy.as_os_str().as_bytes(), e))?;
    } else {
        undo.made_file(copy);
    }
    fs::rename(&temp, copy).map_err(|e| fail(b"error renaming", e))?;
    Ok(())
}

/// Replaces `file` with `content` at once: a temporary file beside it
/// (mode 0600; a stale one is reused), synced, renamed over it, and the
/// rename synced; a reader finds the old file or the new one, whole.
pub fn write_atomically(file: &Path, content: &[u8]) -> Result<()> {
    let temp = PathBuf::from(OsString::from_vec(msg!(
        file.as_os_str().as_bytes(),
        b".tmp"
    )));
    let shown = temp.as_os_str().as_bytes();
    let mut options = fs::File::options();
    options.write(true).create(true).truncate(true).mode(0o600);
    let mut out = regular::open(&temp, &mut options).map_err(|e| Error::io("open", shown, e))?;
    out.write_all(content)
        .and_then(|()| out.sync_all())
        .map_err(|e| Error::io("write", shown, e))?;
    fs::rename(&temp, file).map_err(|e| Error::io("rename", shown, e))?;
    let parent = file.parent().unwrap_or(Path::new("/"));
    open_directory(parent)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| Error::io("fsync", parent.as_os_str().as_bytes(), e))
}

/// rmdir(2) of `dir`, through its parent's handle.
pub fn remove_directory(dir: &Path) -> std::io::Result<()> {
    let (parent, name) = open_parent(dir)?;
    Ok(unlinkat(&parent, name, UnlinkatFlags::RemoveDir)?)
}

/// unlink(2) of `file` (a symbolic link itself, never its target),
/// through its parent's handle; a regular file is remembered for undo
/// first.
pub fn remove_file(file: &Path, undo: &mut Undo) -> std::io::Result<()> {
    let (parent, name) = open_parent(file)?;
    let found = fstatat(&parent, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
    if SFlag::from_bits_truncate(found.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG {
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        let opened = openat(&parent, name, flags, Mode::empty())?;
        undo.will_remove(file, fs::File::from(opened))?;
    }
    Ok(unlinkat(&parent, name, UnlinkatFlags::NoRemoveDir)?)
}

/// The directory holding `path`, opened from `/` without following a
/// symbolic link anywhere on the way, and `path`'s last component.  Only a
/// path of plain components can be walked so (EINVAL otherwise).
fn open_parent(path: &Path) -> std::io::Result<(OwnedFd, &OsStr)> {
    let invalid = || std::io::Error::from_raw_os_error(libc::EINVAL);
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(invalid());
    };
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let mut components = parent.components();
    if components.next() != Some(Component::RootDir) {
        return Err(invalid());
    }
    let mut dir = nix::fcntl::open("/", flags, Mode::empty())?;
    for component in components {
        let Component::Normal(step) = component else {
            return Err(invalid());
        };
        dir = openat(&dir, step, flags, Mode::empty())?;
    }
    Ok((dir, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn removals_never_follow_a_symbolic_link_on_the_way() {
        let scratch = tempfile::tempdir().unwrap();
        let top = scratch.path().canonicalize().unwrap();
        let outside = top.join("other-instance/queue");
        fs::create_dir_all(outside.join("active")).unwrap();
        fs::write(outside.join("main.cf"), "x").unwrap();
        fs::create_dir_all(top.join("instance")).unwrap();
        symlink(&outside, top.join("instance/queue")).unwrap();
        let err = remove_directory(&top.join("instance/queue/active")).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOTDIR));
        let mut undo = Undo::default();
        let err = remove_file(&top.join("instance/queue/main.cf"), &mut undo).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOTDIR));
        assert!(outside.join("active").is_dir() && outside.join("main.cf").is_file());
        // The link itself goes, as rm -f removes it.
        remove_file(&top.join("instance/queue"), &mut undo).unwrap();
        assert!(outside.is_dir());
        let err = remove_directory(&top.join("instance/../other-instance/queue/active"));
        assert_eq!(err.unwrap_err().raw_os_error(), Some(libc::EINVAL));
        undo.commit();
    }

    #[test]
    fn a_removed_file_is_put_back_by_undo() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path().canonicalize().unwrap();
        fs::create_dir(dir.join("empty")).unwrap();
        fs::write(dir.join("main.cf"), "a = 1\n").unwrap();
        let mut undo = Undo::default();
        remove_file(&dir.join("main.cf"), &mut undo).unwrap();
        remove_directory(&dir.join("empty")).unwrap();
        assert!(!dir.join("main.cf").exists() && !dir.join("empty").exists());
        undo.roll_back();
        assert_eq!(fs::read(dir.join("main.cf")).unwrap(), b"a = 1\n");
    }
}
