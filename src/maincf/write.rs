//! Replacing `<config_dir>/main.cf` with postconf's own cooperative
//! protocol (Postfix's edit_file_open()/edit_file_close(), as
//! `postconf -e` uses them), so that an update made here and one made by a
//! real `postconf -e` at the same time serialise instead of losing one.
//!
//! The protocol: create or reuse `main.cf.tmp` with mode 0600, take an
//! exclusive flock() on it, make sure the file locked is still the one at
//! that path, truncate it, read the current main.cf, write the new text,
//! fchmod 0644, fsync and rename it over main.cf while still holding the
//! lock.  Two additions of ours: nothing is written when the text does not
//! change (postconf always rewrites), and the directory is fsync'ed after
//! the rename so the new name is durable too.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::regular;
use crate::error::{Error, Result};
use crate::msg;

/// The temporary file's permissions until it is complete; anything else
/// found under the temporary name is a crash leftover not to be trusted.
const TEMP_MODE: u32 = 0o600;
/// The permissions postconf gives every main.cf it writes.
const FINAL_MODE: u32 = 0o644;

/// What [`update_main_cf`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The new text equals the old one; main.cf was left alone.
    Unchanged,
    /// main.cf was replaced with the new text.
    Replaced,
}

/// Replaces `<config_dir>/main.cf` with `edit(current text)`, where the
/// current text is read only once the update lock is held, so no
/// concurrent update is lost.  Errors carry postconf's wording; an error
/// from `edit` is passed through.  Either way the temporary file is
/// removed.
pub fn update_main_cf<F>(config_dir: &[u8], edit: F) -> Result<Outcome>
where
    F: FnOnce(&[u8]) -> Result<Vec<u8>>,
{
    // Byte concatenation, as postconf builds the name (`-c /x/` gives `/x//main.cf`).
    let path = msg!(config_dir, "/main.cf");
    let temp = TempFile::open_locked(msg!(path, ".tmp"))?;
    let current = match read_current(&path) {
        Ok(current) => current,
        Err(err) => {
            temp.discard_quietly();
            return Err(err);
        }
    };
    let new = match edit(&current) {
        Ok(new) => new,
        Err(err) => {
            temp.discard_quietly();
            return Err(err);
        }
    };
    if new == current {
        temp.discard()?;
        return Ok(Outcome::Unchanged);
    }
    temp.commit(&new, &path)?;
    sync_directory(Path::new(os(&path)).parent().unwrap_or(Path::new("/")))?;
    Ok(Outcome::Replaced)
}

/// `main.cf.tmp`, open for writing and exclusively locked.
struct TempFile {
    path: Vec<u8>,
    file: Flock<File>,
}

impl TempFile {
    /// Opens (creating if needed) and locks the temporary file, looping
    /// until the locked file is a trustworthy one still at `path`.  Blocks
    /// while another updater holds the lock.
    fn open_locked(path: Vec<u8>) -> Result<TempFile> {
        loop {
            // No O_TRUNC: the content is not ours until we hold the lock.
            // A FIFO or device under the temporary name is refused, at
            // once (postconf would wait on it for ever).
            let file = regular::open(
                Path::new(os(&path)),
                OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .mode(TEMP_MODE),
            )
            .map_err(|err| Error::io("open", &path, err))?;
            let file = lock_exclusive(file).map_err(|err| Error::io("lock", &path, err))?;
            let held = file
                .metadata()
                .map_err(|err| Error::io("open", &path, err))?;
            // Another updater may have renamed or removed the file while we
            // waited for the lock: start over with whatever is there now.
            let Ok(named) = fs::metadata(os(&path)) else {
                continue;
            };
            if (held.dev(), held.ino()) != (named.dev(), named.ino()) {
                continue;
            }
            // A crash may leave the file half-renamed (two links) or with
            // the final permissions: remove it rather than write to it.
            if !named.is_file() || named.nlink() > 1 || named.mode() & 0o7777 != TEMP_MODE {
                remove(&path)?;
                continue;
            }
            file.set_len(0)
                .map_err(|err| Error::io("truncate", &path, err))?;
            return Ok(TempFile { path, file });
        }
    }

    /// Writes `content`, gives the file its final mode, flushes it to disk
    /// and renames it to `final_path`, all before the lock is released.
    fn commit(self, content: &[u8], final_path: &[u8]) -> Result<()> {
        let mut file: &File = &self.file;
        let done = file
            .write_all(content)
            .and_then(|()| file.set_permissions(fs::Permissions::from_mode(FINAL_MODE)))
            .and_then(|()| file.sync_all())
            .and_then(|()| fs::rename(os(&self.path), os(final_path)));
        if let Err(err) = done {
            let failure = Error::io("close", &self.path, err);
            self.discard()?;
            return Err(failure);
        }
        Ok(())
    }

    /// Abandons the update: removes the file while still holding the lock.
    fn discard(self) -> Result<()> {
        remove(&self.path)
    }

    /// [`discard`](Self::discard) on the way out of another error, which
    /// is the one worth reporting.
    fn discard_quietly(self) {
        let _ = fs::remove_file(os(&self.path));
    }
}

/// flock(LOCK_EX), waiting as long as it takes, as postconf does.
fn lock_exclusive(mut file: File) -> std::io::Result<Flock<File>> {
    loop {
        match Flock::lock(file, FlockArg::LockExclusive) {
            Ok(locked) => return Ok(locked),
            Err((again, Errno::EINTR)) => file = again,
            Err((_, errno)) => return Err(errno.into()),
        }
    }
}

/// unlink(), where a file already gone is fine.
fn remove(path: &[u8]) -> Result<()> {
    match fs::remove_file(os(path)) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io("unlink", path, err))
        }
        _ => Ok(()),
    }
}

/// The text of main.cf, read while the update lock is held.
/// `<config_dir>/main.cf` as an update would read it.
pub fn read_main_cf(config_dir: &[u8]) -> Result<Vec<u8>> {
    read_current(&msg!(config_dir, "/main.cf"))
}

fn read_current(path: &[u8]) -> Result<Vec<u8>> {
    let mut file = regular::open(Path::new(os(path)), OpenOptions::new().read(true))
        .map_err(|err| Error::with_errno(msg!("open ", path, " for reading"), &err))?;
    let mut content = Vec::new();
    file.read_to_end(&mut content)
        .map_err(|err| Error::io("read", path, err))?;
    Ok(content)
}

/// Makes the rename durable.  Some file systems cannot fsync a directory
/// (EINVAL); there is nothing more to do on those.
fn sync_directory(dir: &Path) -> Result<()> {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(dir);
    match opened.and_then(|d| d.sync_all()) {
        Err(err) if err.raw_os_error() != Some(libc::EINVAL) => {
            Err(Error::io("fsync", dir.as_os_str().as_bytes(), err))
        }
        _ => Ok(()),
    }
}

fn os(path: &[u8]) -> &OsStr {
    OsStr::from_bytes(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::maincf::edit::{Dialect, EditMode, EditRequest, apply};
    use std::os::unix::fs::symlink;
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    fn dir_bytes(dir: &tempfile::TempDir) -> Vec<u8> {
        dir.path().as_os_str().as_bytes().to_vec()
    }

    fn with_main_cf(content: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("main.cf"), content).unwrap();
        dir
    }

    /// Sets `name = value` as `postconf -e` would.
    fn set(dir: &[u8], name: &str, value: &str) -> Result<Outcome> {
        let arg = format!("{name}={value}");
        let (request, _) = EditRequest::new(EditMode::Set, &[arg], Dialect::CURRENT)
            .map_err(|refusal| Error::Fatal(refusal.fatal.unwrap_or_default()))?;
        update_main_cf(dir, |old| Ok(apply(old, b"main.cf", &request).0))
    }

    #[test]
    fn replaces_main_cf_with_mode_0644_and_no_leftover() {
        let dir = with_main_cf("a = 1\n");
        fs::set_permissions(
            dir.path().join("main.cf"),
            fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        assert_eq!(set(&dir_bytes(&dir), "b", "2").unwrap(), Outcome::Replaced);
        let main_cf = dir.path().join("main.cf");
        assert_eq!(fs::read_to_string(&main_cf).unwrap(), "a = 1\nb = 2\n");
        assert_eq!(fs::metadata(&main_cf).unwrap().mode() & 0o7777, 0o644);
        assert!(!dir.path().join("main.cf.tmp").exists());
    }

    #[test]
    fn an_unchanged_text_is_not_written() {
        let dir = with_main_cf("a = 1\n");
        let main_cf = dir.path().join("main.cf");
        let before = fs::metadata(&main_cf).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(set(&dir_bytes(&dir), "a", "1").unwrap(), Outcome::Unchanged);
        let after = fs::metadata(&main_cf).unwrap();
        assert_eq!(after.ino(), before.ino());
        assert_eq!(after.modified().unwrap(), before.modified().unwrap());
        assert!(!dir.path().join("main.cf.tmp").exists());
    }

    #[test]
    fn a_leftover_0600_temp_file_is_truncated_and_reused() {
        let dir = with_main_cf("a = 1\n");
        let temp = dir.path().join("main.cf.tmp");
        fs::write(&temp, "garbage from a crash, longer than the result\n").unwrap();
        fs::set_permissions(&temp, fs::Permissions::from_mode(0o600)).unwrap();
        let inode = fs::metadata(&temp).unwrap().ino();
        set(&dir_bytes(&dir), "b", "2").unwrap();
        let main_cf = dir.path().join("main.cf");
        assert_eq!(fs::read_to_string(&main_cf).unwrap(), "a = 1\nb = 2\n");
        assert_eq!(fs::metadata(&main_cf).unwrap().ino(), inode);
    }

    #[test]
    fn other_leftovers_are_unlinked_not_written() {
        // Final permissions, and a second link (a crash during the rename).
        for (mode, links) in [(0o644, 1), (0o600, 2)] {
            let dir = with_main_cf("a = 1\n");
            let temp = dir.path().join("main.cf.tmp");
            fs::write(&temp, "old\n").unwrap();
            fs::set_permissions(&temp, fs::Permissions::from_mode(mode)).unwrap();
            if links == 2 {
                fs::hard_link(&temp, dir.path().join("keep")).unwrap();
            }
            // Held open so that its inode cannot be recycled for the new file.
            let leftover = File::open(&temp).unwrap();
            set(&dir_bytes(&dir), "b", "2").unwrap();
            let main_cf = dir.path().join("main.cf");
            assert_eq!(fs::read_to_string(&main_cf).unwrap(), "a = 1\nb = 2\n");
            assert_eq!(leftover.metadata().unwrap().nlink(), links - 1);
            assert!(!temp.exists());
            assert_eq!(std::io::read_to_string(leftover).unwrap(), "old\n");
        }
    }

    #[test]
    fn a_missing_main_cf_is_reported_and_the_temp_file_removed() {
        let dir = tempfile::tempdir().unwrap();
        let err = set(&dir_bytes(&dir), "a", "1").unwrap_err();
        let text = err.to_string();
        let expected = format!(
            "open {}/main.cf for reading: No such file or directory",
            dir.path().display()
        );
        assert_eq!(text, expected);
        assert!(!dir.path().join("main.cf.tmp").exists());
    }

    #[test]
    fn an_unopenable_temp_file_is_reported() {
        let dir = with_main_cf("a = 1\n");
        symlink("/nonexistent/dir/x", dir.path().join("main.cf.tmp")).unwrap();
        let err = set(&dir_bytes(&dir), "b", "2").unwrap_err();
        let text = err.to_string();
        let expected = format!(
            "open {}/main.cf.tmp: No such file or directory",
            dir.path().display()
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn a_fifo_under_the_temporary_name_is_refused_at_once() {
        let dir = with_main_cf("a = 1\n");
        let temp = dir.path().join("main.cf.tmp");
        nix::unistd::mkfifo(&temp, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let err = set(&dir_bytes(&dir), "b", "2").unwrap_err();
        let expected = format!("open {}: not a regular file", temp.display());
        assert_eq!(err.to_string(), expected);
        assert_eq!(
            fs::read_to_string(dir.path().join("main.cf")).unwrap(),
            "a = 1\n"
        );
    }

    #[test]
    fn a_fifo_for_main_cf_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let main_cf = dir.path().join("main.cf");
        nix::unistd::mkfifo(&main_cf, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        let err = set(&dir_bytes(&dir), "b", "2").unwrap_err();
        let expected = format!("open {} for reading: not a regular file", main_cf.display());
        assert_eq!(err.to_string(), expected);
        assert!(!dir.path().join("main.cf.tmp").exists());
    }

    #[test]
    fn an_error_from_the_editor_leaves_main_cf_alone() {
        let dir = with_main_cf("a = 1\n");
        let err = update_main_cf(&dir_bytes(&dir), |_| Err(Error::Fatal(b"no".to_vec())));
        assert_eq!(err.unwrap_err().to_string(), "no");
        assert_eq!(
            fs::read_to_string(dir.path().join("main.cf")).unwrap(),
            "a = 1\n"
        );
        assert!(!dir.path().join("main.cf.tmp").exists());
    }

    // Another updater holds the lock, then renames its temp file over
    // main.cf: we must wait, notice the locked file is no longer the temp
    // file, start over and build on the other update.
    #[test]
    fn waits_for_and_builds_on_a_concurrent_update() {
        let dir = with_main_cf("a = 1\n");
        let temp = dir.path().join("main.cf.tmp");
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&temp)
            .unwrap();
        let held = lock_exclusive(file).unwrap();
        let dir_path = dir_bytes(&dir);
        let ours = std::thread::spawn(move || set(&dir_path, "ours", "1").unwrap());
        std::thread::sleep(Duration::from_millis(200));
        assert!(!ours.is_finished());
        (&*held).write_all(b"a = 1\ntheirs = 1\n").unwrap();
        fs::rename(&temp, dir.path().join("main.cf")).unwrap();
        drop(held);
        assert_eq!(ours.join().unwrap(), Outcome::Replaced);
        assert_eq!(
            fs::read_to_string(dir.path().join("main.cf")).unwrap(),
            "a = 1\ntheirs = 1\nours = 1\n"
        );
    }

    #[test]
    fn concurrent_updates_all_land() {
        const WRITERS: usize = 12;
        let dir = with_main_cf("# shared\nbase = 0\n");
        let start = Arc::new(Barrier::new(WRITERS));
        let writers: Vec<_> = (0..WRITERS)
            .map(|i| {
                let dir = dir_bytes(&dir);
                let start = Arc::clone(&start);
                std::thread::spawn(move || {
                    let arg = format!("key{i:02}=value {i}");
                    let (request, _) =
                        EditRequest::new(EditMode::Set, &[arg], Dialect::CURRENT).unwrap();
                    start.wait();
                    update_main_cf(&dir, |old| {
                        // Widen the window in which a lost update could happen.
                        std::thread::sleep(Duration::from_millis(5));
                        Ok(apply(old, b"main.cf", &request).0)
                    })
                    .unwrap()
                })
            })
            .collect();
        for writer in writers {
            assert_eq!(writer.join().unwrap(), Outcome::Replaced);
        }
        let path = dir.path().join("main.cf");
        let content = fs::read(&path).unwrap();
        let cf = crate::maincf::MainCf::parse(&content, &path, &[], &mut |w| {
            panic!("warning {}", String::from_utf8_lossy(&w))
        })
        .unwrap();
        assert_eq!(cf.get(b"base"), Some(&b"0"[..]));
        for i in 0..WRITERS {
            let value = format!("value {i}");
            assert_eq!(
                cf.get(format!("key{i:02}").as_bytes()),
                Some(value.as_bytes())
            );
        }
        assert_eq!(cf.names().count(), WRITERS + 1);
        assert!(!dir.path().join("main.cf.tmp").exists());
    }
}
