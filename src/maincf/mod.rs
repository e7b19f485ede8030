//! main.cf and master.cf handling, with Postfix's semantics and nothing
//! else of postmulti's: reading (logical lines, `name = value`), `$name`
//! expansion, the built-in defaults, postconf's editor, postconf's
//! protocol for writing main.cf, and opening the files postmulti reads
//! and writes (regular files only, never blocking).

#![forbid(unsafe_code)]

pub mod defaults;
pub mod edit;
pub mod expand;
pub mod fnv;
pub mod hostname;
pub mod idna;
pub mod mastercf;
pub mod parameters;
pub mod parse;
pub mod regular;
pub mod write;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::OnceLock;

pub use parse::{
    LIST_SEPARATORS, LineEvent, MainCf, c_string, is_space, parse_bool, scan_logical_lines,
    split_list, split_name_value, trim,
};

/// A path from the bytes of a parameter value.
pub fn path(bytes: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(bytes))
}

/// `<dir>/main.cf`.
pub fn main_cf_path(dir: &[u8]) -> PathBuf {
    let mut path = dir.to_vec();
    path.extend_from_slice(b"/main.cf");
    PathBuf::from(OsStr::from_bytes(&path))
}

/// How a Postfix release reads main.cf and expands values, where releases
/// differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syntax {
    /// readllines() warns "text after null byte may be ignored" (Postfix
    /// 3.9 and later).
    pub warns_null_bytes: bool,
    /// `${name{text}}` calls a named function, `domain_to_ascii` or
    /// `domain_to_utf8` (3.11 and later; before, the `{` is an attribute
    /// name syntax error).
    pub named_functions: bool,
}

impl Syntax {
    /// Postfix 3.11's.
    pub const CURRENT: Syntax = Syntax {
        warns_null_bytes: true,
        named_functions: true,
    };

    /// That of release `major.minor` (neither was backported).
    pub fn of_release(major: u64, minor: u64) -> Syntax {
        Syntax {
            warns_null_bytes: (major, minor) >= (3, 9),
            named_functions: (major, minor) >= (3, 11),
        }
    }

    /// The installed Postfix's (see [`set_installed_syntax`]); Postfix
    /// 3.11's until it is known.
    pub fn installed() -> Syntax {
        INSTALLED_SYNTAX.get().copied().unwrap_or(Syntax::CURRENT)
    }
}

static INSTALLED_SYNTAX: OnceLock<Syntax> = OnceLock::new();

/// Makes `syntax` the one main.cf is read and expanded with, once, at
/// start-up (when the installed release is known).
pub fn set_installed_syntax(syntax: Syntax) {
    let _ = INSTALLED_SYNTAX.set(syntax);
}
