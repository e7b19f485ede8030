//! The life-cycle lock: one exclusive flock() on the primary configuration
//! directory, held from before main.cf is read until the action is
//! complete, so that concurrent `postmulti -e` runs take turns and none
//! acts on a list another one is changing.
//!
//! A directory, not a lock file: nothing new appears in /etc/postfix, and
//! the directory outlives every rename of main.cf.  The descriptor is
//! inherited across exec, so when postmulti-script does the work the lock
//! stays held until the script and its children are done.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;

use nix::fcntl::{FcntlArg, FdFlag, Flock, FlockArg, fcntl};

use crate::error::{Error, Result};

/// The held lock; dropping it (or exiting) releases it.
pub struct LifeCycleLock {
    _dir: Flock<File>,
}

/// Waits for and takes the lock on `config_dir`; `None` if the directory
/// cannot be opened (reading main.cf will then fail with the real error).
pub fn acquire_if_present(config_dir: &[u8]) -> Result<Option<LifeCycleLock>> {
    match open_directory(config_dir) {
        Ok(_) => acquire(config_dir).map(Some),
        Err(_) => Ok(None),
    }
}

/// Waits for and takes the lock on `config_dir`.
pub fn acquire(config_dir: &[u8]) -> Result<LifeCycleLock> {
    let dir = open_directory(config_dir).map_err(|e| Error::io("open", config_dir, e))?;
    let dir = Flock::lock(dir, FlockArg::LockExclusive)
        .map_err(|(_, errno)| Error::io("lock", config_dir, errno.into()))?;
    // Keep it across exec: the script inherits the lock.
    fcntl(&*dir, FcntlArg::F_SETFD(FdFlag::empty()))
        .map_err(|errno| Error::io("lock", config_dir, errno.into()))?;
    Ok(LifeCycleLock { _dir: dir })
}

/// The directory itself: `O_DIRECTORY`, so that a FIFO or device in its
/// place is refused at once instead of blocking the open.
fn open_directory(dir: &[u8]) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(OsStr::from_bytes(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_second_holder_waits_for_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().as_os_str().as_bytes().to_vec();
        let first = acquire(&path).unwrap();
        let (tx, rx) = mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let _second = acquire(&path).unwrap();
            tx.send(()).unwrap();
        });
        assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
        drop(first);
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        waiter.join().unwrap();
    }
}
