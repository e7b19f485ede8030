//! Speaking for the Postfix programs whose work a life-cycle action does
//! or checks: postmulti-script logs through postlog(1) (syslog tag
//! `<syslog_name>/postmulti-script`; on stderr that tag on a terminal,
//! `<syslog_name>/postlog` otherwise, and before Postfix 3.8 nothing
//! there), and postconf prints `postconf: <level>: <text>` on stderr only.

use std::io::{IsTerminal, Write};

use crate::config::{Params, installation};
use crate::diag::{self, Level};
use crate::error::Error;
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
