//! Making and replacing the files and directories of an instance, each
//! change recorded in the undo log first, and failures reported as the
//! tools the scripts run (mkdir, chown, ...) would word them in the C
//! locale, or else naming the action and the path.

use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

use super::undo::Undo;
use crate::error::{Error, Result, strerror};
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

/// `mkdir -p`: each missing component made with `mode`, recorded for undo.
pub fn make_directories(path: &Path, mode: u32, undo: &mut Undo) -> Result<()> {
    let mut missing = Vec::new();
    let mut at = Some(path);
    while let Some(p) = at {
        if p.as_os_str().is_empty() || p.is_dir() {
            break;
        }
        missing.push(p);
        at = p.parent();
    }
    for p in missing.into_iter().rev() {
        // GNU mkdir -p's words for a component that exists but is no
        // directory: "File exists" for the last, "Not a directory" above it.
        if fs::metadata(p).is_ok() && p != path {
            let not_a_directory = std::io::Error::from_raw_os_error(libc::ENOTDIR);
            return Err(tool_io_error(
                b"mkdir: cannot create directory",
                p,
                &not_a_directory,
            ));
        }
        make_directory(p, mode, undo)?;
    }
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

/// `<what> '<path>': <strerror>` on stderr, as coreutils words it; the
/// action then fails with status 1, as the script would.
pub fn tool_io_error(what: &[u8], path: &Path, err: &std::io::Error) -> Error {
    tool_error(&msg!(
        what,
        b" ",
        gnu_quote(path.as_os_str().as_bytes()),
        b": ",
        strerror(err)
    ))
}

/// A helper program's own error line on stderr; the action fails with
/// status 1.
pub fn tool_error(line: &[u8]) -> Error {
    let _ = std::io::stderr().write_all(&msg!(line, b"\n"));
    Error::Exit(1)
}

/// A file name as coreutils quotes it in messages in the C locale: in
/// apostrophes, with backslash escapes for apostrophes, backslashes and
/// unprintable bytes.
pub fn gnu_quote(name: &[u8]) -> Vec<u8> {
    let mut out = vec![b'\''];
    for &b in name {
        match b {
            b'\'' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
        }
    }
    out.push(b'\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(gnu_quote(b"/var/spool/x"), b"'/var/spool/x'");
        assert_eq!(gnu_quote(b"a'b\\c\nd\xc3"), b"'a\\'b\\\\c\\nd\\303'");
    }
}
