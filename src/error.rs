//! The one error type of the program, and the ways out of it: a fatal
//! line in Postfix's words, an I/O failure that names what was being done
//! and on which path, or "already reported, exit with this status".
//!
//! There is deliberately no `From<std::io::Error>`: every site that can
//! fail must say what it was doing, so the compiler points at each one.

#![forbid(unsafe_code)]

use std::fmt;

/// Concatenates byte strings into a message.
#[macro_export]
macro_rules! msg {
    ($($part:expr),+ $(,)?) => {{
        let mut text: Vec<u8> = Vec::new();
        $( text.extend_from_slice(AsRef::<[u8]>::as_ref(&$part)); )+
        text
    }};
}

/// Returns early with [`Error::Fatal`] made of the given parts.
#[macro_export]
macro_rules! fatal {
    ($($part:expr),+ $(,)?) => {
        return Err($crate::error::Error::Fatal($crate::msg!($($part),+)))
    };
}

/// How a failing path ends.
#[derive(Debug)]
pub enum Error {
    /// `postmulti: fatal: <text>`, the text in Postfix's words (raw bytes:
    /// names and paths may hold any byte).
    Fatal(Vec<u8>),
    /// `postmulti: fatal: <doing> <path>: <strerror>`.
    Io {
        doing: &'static str,
        path: Vec<u8>,
        cause: std::io::Error,
    },
    /// Already reported, in postmulti's voice or another program's (a
    /// child, or one we speak for): exit with this status, saying nothing.
    Exit(u8),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An I/O failure while `doing` something to `path`.
    pub fn io(doing: &'static str, path: impl AsRef<[u8]>, cause: std::io::Error) -> Error {
        Error::Io {
            doing,
            path: path.as_ref().to_vec(),
            cause,
        }
    }

    /// A fatal error whose text ends in `: <strerror>` (Postfix's `%m`),
    /// for messages that word the action their own way.
    pub fn with_errno(text: impl AsRef<[u8]>, cause: &std::io::Error) -> Error {
        Error::Fatal(msg!(text.as_ref(), b": ", strerror(cause)))
    }

    /// The text of the fatal line, if there is one to print.
    pub fn fatal_text(&self) -> Option<Vec<u8>> {
        match self {
            Error::Fatal(text) => Some(text.clone()),
            Error::Io { doing, path, cause } => {
                Some(msg!(doing.as_bytes(), b" ", path, b": ", strerror(cause)))
            }
            Error::Exit(_) => None,
        }
    }

    /// The exit status this error ends the program with.
    pub fn status(&self) -> u8 {
        match self {
            Error::Exit(status) => *status,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fatal_text() {
            Some(text) => f.write_str(&String::from_utf8_lossy(&text)),
            None => write!(f, "exit status {}", self.status()),
        }
    }
}

impl std::error::Error for Error {}

/// The C library's text for an I/O error, without Rust's "(os error N)".
/// A library's error wrapped in an `io::Error` (walkdir's, say) is named
/// by the system error inside it; one with none (ours: "not a regular
/// file") by its own text.
pub fn strerror(err: &std::io::Error) -> String {
    match system_error(err) {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => err.to_string(),
    }
}

/// The errno of `err`, or of the first I/O error among its causes.
fn system_error(err: &std::io::Error) -> Option<i32> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = cause {
        let io = current.downcast_ref::<std::io::Error>();
        if let Some(code) = io.and_then(std::io::Error::raw_os_error) {
            return Some(code);
        }
        cause = match io.and_then(std::io::Error::get_ref) {
            Some(inner) => Some(inner),
            None => current.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_name_the_action_and_the_path_in_the_c_librarys_words() {
        let err = Error::io(
            "open",
            b"/etc/postfix/main.cf",
            std::io::Error::from_raw_os_error(libc::EACCES),
        );
        assert_eq!(
            err.to_string(),
            "open /etc/postfix/main.cf: Permission denied"
        );
        assert_eq!(err.status(), 1);
        assert_eq!(Error::Exit(3).fatal_text(), None);
        assert_eq!(Error::Exit(3).status(), 3);
    }

    #[test]
    fn a_wrapped_system_error_is_named_in_the_c_librarys_words() {
        let full = std::io::Error::from_raw_os_error(libc::ENOSPC);
        let wrapped = std::io::Error::other(full);
        assert_eq!(strerror(&wrapped), "No space left on device");
        let walked = walkdir::WalkDir::new("/nonexistent/postmulti")
            .into_iter()
            .next()
            .unwrap()
            .unwrap_err();
        let err: std::io::Error = walked.into();
        assert_eq!(strerror(&err), "No such file or directory");
        let own = std::io::Error::other("not a regular file");
        assert_eq!(strerror(&own), "not a regular file");
    }
}
