//! main.cf and master.cf handling, with Postfix's semantics and nothing
//! else of postmulti's: reading (logical lines, `name = value`), `$name`
//! expansion, the built-in defaults, postconf's editor, postconf's
//! protocol for writing main.cf, and opening the files postmulti reads
//! and writes (regular files only, never blocking).

#![forbid(unsafe_code)]

pub mod defaults;
pub mod edit;
pub mod expand;
pub mod idna;
pub mod mastercf;
pub mod parameters;
pub mod parse;
pub mod regular;
pub mod write;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

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
