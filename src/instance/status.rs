//! What runs and what waits: whether an instance's master process runs
//! (the test `postfix status` makes, by the lock on `pid/master.pid`), its
//! pid, and the number of messages in each queue; from the files alone,
//! without starting a process.

use std::fs::OpenOptions;
use std::io::Read;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::queue::{self, MESSAGE_QUEUES};
use crate::maincf::regular;

/// The master process of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Master {
    /// It holds the lock on its pid file; the pid, if the file names one.
    Running(Option<u32>),
    Stopped,
}

/// Whether a master process holds the lock on `<queue_dir>/pid/master.pid`.
pub fn master(queue_dir: &Path) -> Master {
    let pid_file = queue_dir.join("pid/master.pid");
    let Ok(mut file) = regular::open(&pid_file, OpenOptions::new().read(true)) else {
        return Master::Stopped;
    };
    let mut text = String::new();
    let pid = file
        .read_to_string(&mut text)
        .ok()
        .and_then(|_| text.trim().parse().ok());
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Err((_, Errno::EWOULDBLOCK)) => Master::Running(pid),
        _ => Master::Stopped,
    }
}

/// What `master -t`, the test behind `postfix status`, would answer, as
/// far as the files alone tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MasterTest {
    /// No pid file (master -t's `access()` fails), or a plain one that
    /// nobody holds locked: "not running".
    NotRunning,
    /// A master holds the lock, or the pid file is not a plain file we can
    /// open: only master -t itself says what it makes of that.
    AskMaster,
}

/// [`MasterTest`] for the instance whose queue directory is `queue_dir`:
/// master -t's steps, `access(F_OK)` then `open(O_RDWR)` and a
/// non-blocking exclusive lock, without creating the file.
pub fn master_test(queue_dir: &Path) -> MasterTest {
    let pid_file = queue_dir.join("pid/master.pid");
    if std::fs::metadata(&pid_file).is_err() {
        return MasterTest::NotRunning;
    }
    match regular::open(&pid_file, OpenOptions::new().read(true).write(true)) {
        Ok(file) => match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(_) => MasterTest::NotRunning,
            Err(_) => MasterTest::AskMaster,
        },
        Err(_) => MasterTest::AskMaster,
    }
}

/// The messages in each of [`MESSAGE_QUEUES`], `None` where the queue
/// could not be read; and the first thing that could not be read.
pub struct QueueCounts {
    pub counts: [Option<u64>; MESSAGE_QUEUES.len()],
    pub unreadable: Option<(PathBuf, std::io::Error)>,
}

/// Counts the messages of every queue under `queue_dir`.
pub fn queue_counts(queue_dir: &Path) -> QueueCounts {
    let mut unreadable = None;
    let counts = MESSAGE_QUEUES.map(|q| match queue::count(queue_dir, q) {
        Ok(n) => Some(n),
        Err(err) => {
            unreadable.get_or_insert(err);
            None
        }
    });
    QueueCounts { counts, unreadable }
}

/// The systemd unit that starts an instance at boot, and its state
/// (`ActiveState`: active, inactive, failed, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootUnit {
    pub unit: Vec<u8>,
    pub active_state: Vec<u8>,
}

/// Each instance's boot unit, by configuration directory.
pub type BootUnits = std::collections::HashMap<Vec<u8>, BootUnit>;
