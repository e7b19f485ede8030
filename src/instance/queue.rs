//! Whether an instance's queue still holds mail (spec D1): a regular file
//! with a well-formed queue-id name in one of the message queues, looking
//! into the one-character hash subdirectories, never following a symlink.

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
        if holds_message(&queue_directory.join(queue))? {
            return Ok(Some(queue));
        }
    }
    Ok(None)
}

/// Postfix's mail_queue_id_ok(): 1 to 255 letters, digits or `_`.
fn is_queue_id(name: &OsStr) -> bool {
    let name = name.as_bytes();
    !name.is_empty()
        && name.len() <= 255
        && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

fn holds_message(dir: &Path) -> Result<bool, (PathBuf, io::Error)> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err((dir.to_path_buf(), e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| (dir.to_path_buf(), e))?;
        let name = entry.file_name();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_file() && is_queue_id(&name) {
            return Ok(true);
        }
        if kind.is_dir() && name.len() == 1 && holds_message(&entry.path())? {
            return Ok(true);
        }
    }
    Ok(false)
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
