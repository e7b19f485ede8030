//! The mail in an instance's queues: a message is a regular file with a
//! well-formed queue-id name in one of the message queues, looking into
//! the one-character hash subdirectories, never following a symlink, and
//! never opening a file.  Whether any is left decides a destroy (spec D1);
//! how many there are, `-l --status`.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The message queues, in the order they are inspected.
pub const MESSAGE_QUEUES: [&str; 6] = [
    "maildrop", "incoming", "active", "deferred", "hold", "corrupt",
];

/// The first queue under `queue_directory` that holds a message, or the
/// directory that could not be read and why.
pub fn first_nonempty_queue(
    queue_directory: &Path,
) -> Result<Option<&'static str>, (PathBuf, io::Error)> {
    for queue in MESSAGE_QUEUES {
        if messages(&queue_directory.join(queue), Walk::UntilFirst)? > 0 {
            return Ok(Some(queue));
        }
    }
    Ok(None)
}

/// The number of messages in `queue` (one of [`MESSAGE_QUEUES`]) under
/// `queue_directory`, or the directory that could not be read and why.
pub fn count(queue_directory: &Path, queue: &str) -> Result<u64, (PathBuf, io::Error)> {
    messages(&queue_directory.join(queue), Walk::All)
}

/// How far to look.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Walk {
    UntilFirst,
    All,
}

/// Postfix's mail_queue_id_ok(): 1 to 255 letters, digits or `_`.
fn is_queue_id(name: &OsStr) -> bool {
    let name = name.as_bytes();
    !name.is_empty()
        && name.len() <= 255
        && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The messages under `dir` (a missing directory holds none).
fn messages(dir: &Path, walk: Walk) -> Result<u64, (PathBuf, io::Error)> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err((dir.to_path_buf(), e)),
    };
    let mut found = 0;
    for entry in entries {
        let entry = entry.map_err(|e| (dir.to_path_buf(), e))?;
        let name = entry.file_name();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_file() && is_queue_id(&name) {
            found += 1;
        } else if kind.is_dir() && name.len() == 1 {
            found += messages(&entry.path(), walk)?;
        }
        if found > 0 && walk == Walk::UntilFirst {
            break;
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn finds_messages_in_order_and_in_hash_directories() {
        let q = tempfile::tempdir().unwrap();
        for d in ["maildrop", "deferred/A", "hold"] {
            fs::create_dir_all(q.path().join(d)).unwrap();
        }
        assert_eq!(first_nonempty_queue(q.path()).unwrap(), None);
        fs::write(q.path().join("maildrop/.junk"), "").unwrap();
        fs::write(q.path().join("hold/4B2C21"), "").unwrap();
        assert_eq!(first_nonempty_queue(q.path()).unwrap(), Some("hold"));
        fs::write(q.path().join("deferred/A/6E86421"), "x").unwrap();
        assert_eq!(first_nonempty_queue(q.path()).unwrap(), Some("deferred"));
    }

    #[test]
    fn counts_every_message() {
        let q = tempfile::tempdir().unwrap();
        for d in ["deferred/A", "deferred/B/C", "active"] {
            fs::create_dir_all(q.path().join(d)).unwrap();
        }
        for f in [
            "deferred/A/1AB",
            "deferred/A/2CD",
            "deferred/B/C/3EF",
            "deferred/4GH",
            "active/5IJ",
        ] {
            fs::write(q.path().join(f), "").unwrap();
        }
        fs::write(q.path().join("deferred/not-a-queue-id"), "").unwrap();
        fs::create_dir(q.path().join("deferred/long")).unwrap();
        fs::write(q.path().join("deferred/long/6KL"), "").unwrap();
        assert_eq!(count(q.path(), "deferred").unwrap(), 4);
        assert_eq!(count(q.path(), "active").unwrap(), 1);
        assert_eq!(count(q.path(), "hold").unwrap(), 0);
    }

    #[test]
    fn symlinks_are_not_messages_and_not_followed() {
        let q = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        fs::write(elsewhere.path().join("ABC123"), "").unwrap();
        fs::create_dir(q.path().join("incoming")).unwrap();
        std::os::unix::fs::symlink(
            elsewhere.path().join("ABC123"),
            q.path().join("incoming/ABC123"),
        )
        .unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), q.path().join("incoming/B")).unwrap();
        assert_eq!(first_nonempty_queue(q.path()).unwrap(), None);
    }

    #[test]
    fn missing_queue_directory_is_empty() {
        assert_eq!(
            first_nonempty_queue(Path::new("/nonexistent/queue")).unwrap(),
            None
        );
    }
}
