//! Making and replacing the files and directories of an instance, each
//! change recorded in the undo log first, and failures reported as the
//! tools the scripts run (mkdir, cp, ...) would word them in the C
//! locale, or else naming the action and the path.

use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::undo::Undo;
use crate::error::{Error, Result, strerror};
use crate::lifecycle::voice::{tool_error, tool_io_error};
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

/// Writes a file that must not exist yet (a stale one from a killed run is
/// replaced), synced, with `mode`, and `times_of`'s times and owner (cp -p).
pub fn write_new(
    file: &Path,
    content: &[u8],
    mode: u32,
    times_of: Option<&fs::Metadata>,
    undo: &mut Undo,
) -> Result<()> {
    let shown = file.as_os_str().as_bytes();
    if fs::symlink_metadata(file).is_ok() {
        undo.will_replace(file)
            .map_err(|e| Error::io("read", shown, e))?;
        fs::remove_file(file).map_err(|e| Error::io("remove", shown, e))?;
    }
    let mut out = fs::File::options()
        .write(true)
        .create_new(true)
        .open(file)
        .map_err(|e| Error::io("create", shown, e))?;
    undo.made_file(file);
    let write = |e| Error::io("write", shown, e);
    out.write_all(content).map_err(write)?;
    out.set_permissions(fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("chmod", shown, e))?;
    if let Some(meta) = times_of {
        let times = fs::FileTimes::new()
            .set_accessed(meta.accessed().map_err(write)?)
            .set_modified(meta.modified().map_err(write)?);
        out.set_times(times)
            .map_err(|e| Error::io("set the times of", shown, e))?;
        std::os::unix::fs::fchown(&out, Some(meta.uid()), Some(meta.gid()))
            .map_err(|e| Error::io("chown", shown, e))?;
    }
    out.sync_all().map_err(|e| Error::io("fsync", shown, e))
}

/// Renames a staged file into place (the script's `mv`), durably.
pub fn install(staged: &Path, target: &Path, undo: &mut Undo) -> Result<()> {
    let shown = target.as_os_str().as_bytes();
    if fs::symlink_metadata(target).is_ok() {
        undo.will_replace(target)
            .map_err(|e| Error::io("read", shown, e))?;
    } else {
        undo.made_file(target);
    }
    fs::rename(staged, target).map_err(|e| Error::io("rename into", shown, e))?;
    if let Some(parent) = target.parent() {
        let parent_shown = parent.as_os_str().as_bytes();
        fs::File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| Error::io("fsync", parent_shown, e))?;
    }
    Ok(())
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
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .map_err(|e| fail(b"unable to create", e))?;
    undo.made_file(&temp);
    let content = fs::read(source).map_err(|e| fail(b"error reading for", e))?;
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
