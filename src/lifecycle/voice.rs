//! Speaking for the Postfix programs whose work a life-cycle action does
//! or checks: postmulti-script logs through postlog(1) (syslog tag
//! `<syslog_name>/postmulti-script`; on stderr that tag on a terminal,
//! `<syslog_name>/postlog` otherwise, and before Postfix 3.8 nothing
//! there), postconf prints `postconf: <level>: <text>` on stderr only, and
//! the tools the scripts run (mkdir, chown, rmdir, ...) their own lines,
//! in the C locale.

use std::io::{IsTerminal, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::config::{Params, installation};
use crate::diag::{self, Level};
use crate::error::{Error, strerror};
use crate::msg;

/// postlog's name on stderr for a script logging with `tag`: that tag on a
/// terminal, else `<postlog_name>`, or nothing where the installed
/// postlog writes only to a terminal.
fn stderr_name(tag: &[u8], postlog_name: &[u8]) -> Option<Vec<u8>> {
    if std::io::stderr().is_terminal() {
        return Some(tag.to_vec());
    }
    let writes = installation::current()
        .and_then(|i| i.release())
        .is_none_or(|r| r.postlog_writes_off_terminal());
    writes.then(|| postlog_name.to_vec())
}

/// postmulti-script's `fatal`: the message, and the action ends with
/// status 1.
pub fn script_fatal(params: &Params, text: &[u8]) -> Error {
    let tag = msg!(params.syslog_name, b"/postmulti-script");
    let postlog = msg!(params.syslog_name, b"/postlog");
    diag::postlog(
        &tag,
        stderr_name(&tag, &postlog).as_deref(),
        Level::Fatal,
        text,
    );
    Error::Exit(1)
}

/// A warning of postmulti-script logged by a postlog that runs with the
/// environment of the instance whose syslog name is `postlog_syslog_name`
/// (its name on a non-terminal stderr).
pub fn script_warning(params: &Params, postlog_syslog_name: &[u8], text: &[u8]) {
    let tag = msg!(params.syslog_name, b"/postmulti-script");
    let postlog = msg!(postlog_syslog_name, b"/postlog");
    diag::postlog(
        &tag,
        stderr_name(&tag, &postlog).as_deref(),
        Level::Warning,
        text,
    );
}

/// One line of postconf's on stderr.
pub fn postconf_says(level: &str, text: &[u8]) {
    let line = msg!(b"postconf: ", level, b": ", text, b"\n");
    let _ = std::io::stderr().lock().write_all(&line);
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
