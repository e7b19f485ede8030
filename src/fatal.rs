//! The error every failing path ends in: the exact text of a
//! `postmulti: fatal: ...` line (raw bytes, as names and paths may hold
//! any byte), carried through `anyhow` so callers can add context.

use std::fmt;

/// A fatal error with postmulti's wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fatal(pub Vec<u8>);

impl Fatal {
    pub fn new(text: impl Into<Vec<u8>>) -> Fatal {
        Fatal(text.into())
    }

    /// `<what>: <strerror(errno)>`, Postfix's `%m`.
    pub fn io(what: impl AsRef<[u8]>, err: &std::io::Error) -> Fatal {
        let mut text = what.as_ref().to_vec();
        text.extend_from_slice(b": ");
        text.extend_from_slice(strerror(err).as_bytes());
        Fatal(text)
    }
}

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl std::error::Error for Fatal {}

/// The C library's text for an I/O error, without Rust's "(os error N)".
pub fn strerror(err: &std::io::Error) -> String {
    match err.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => err.to_string(),
    }
}

/// Concatenates byte strings into a message.
#[macro_export]
macro_rules! msg {
    ($($part:expr),+ $(,)?) => {{
        let mut text: Vec<u8> = Vec::new();
        $( text.extend_from_slice(AsRef::<[u8]>::as_ref(&$part)); )+
        text
    }};
}

/// Returns early with a [`Fatal`] error made of the given parts.
#[macro_export]
macro_rules! fatal {
    ($($part:expr),+ $(,)?) => {
        return Err($crate::fatal::Fatal::new($crate::msg!($($part),+)).into())
    };
}
