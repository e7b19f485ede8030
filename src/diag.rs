//! Diagnostics: how postmulti reports warnings and fatal errors, and how
//! it speaks for the Postfix scripts whose work it does (they log through
//! postlog(1)).
//!
//! Postfix 3.11's postmulti writes every diagnostic to stderr as
//! `<prog>: <level>: <text>` and sends the same record to syslog with the
//! ident `<prog>`, the pid, and the facility of `syslog_facility`.  Before
//! output, bytes that are not printable are replaced by `?` (well-formed
//! UTF-8 survives when SMTPUTF8 is on).  Unlike Postfix we do not sleep one
//! second before a fatal exit (spec D3).

#![forbid(unsafe_code)]

use std::ffi::{CStr, CString};
use std::io::Write;
use std::sync::Mutex;

use crate::sys;

/// Severity of a record; decides the stderr label and the syslog priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// msg_info(): no label.
    Info,
    Warning,
    Fatal,
}

impl Level {
    fn label(self) -> &'static [u8] {
        match self {
            Level::Info => b"",
            Level::Warning => b"warning: ",
            Level::Fatal => b"fatal: ",
        }
    }

    fn severity(self) -> libc::c_int {
        match self {
            Level::Info => libc::LOG_INFO,
            Level::Warning => libc::LOG_WARNING,
            Level::Fatal => libc::LOG_CRIT,
        }
    }
}

struct Logger {
    /// postmulti's name on stderr and its syslog ident.
    prog: Vec<u8>,
    facility: libc::c_int,
    utf8: bool,
    /// Every syslog ident used so far.  openlog() keeps the pointer it is
    /// given, so each ident must live as long as the process: each distinct
    /// one is allocated once and kept here.
    idents: Vec<&'static CStr>,
}

static LOGGER: Mutex<Option<Logger>> = Mutex::new(None);

fn with_logger<T>(f: impl FnOnce(&mut Logger) -> T) -> T {
    let mut guard = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
    let logger = guard.get_or_insert_with(|| Logger {
        prog: b"postmulti".to_vec(),
        facility: libc::LOG_MAIL,
        utf8: true,
        idents: Vec::new(),
    });
    f(logger)
}

impl Logger {
    /// Opens the syslog channel under `ident`.
    fn open(&mut self, ident: &[u8]) {
        let known = self.idents.iter().find(|i| i.to_bytes() == ident).copied();
        let ident = known.unwrap_or_else(|| {
            let owned = CString::new(ident).unwrap_or_else(|_| c"postmulti".to_owned());
            let kept: &'static CStr = Box::leak(owned.into_boxed_c_str());
            self.idents.push(kept);
            kept
        });
        sys::openlog(ident, self.facility);
    }

    /// One record: `<stderr_name>: <label><text>` on stderr (unless there
    /// is no name), and `<label><text>` to syslog under the ident
    /// currently open.
    fn write(&self, stderr_name: Option<&[u8]>, level: Level, text: &[u8]) {
        let text = printable(text, self.utf8);
        let label = level.label();
        if let Some(name) = stderr_name {
            let line = crate::msg!(name, b": ", label, text, b"\n");
            let _ = std::io::stderr().lock().write_all(&line);
        }
        // printable() leaves no NUL byte.
        if let Ok(record) = CString::new(crate::msg!(label, text)) {
            sys::syslog(self.facility | level.severity(), &record);
        }
    }
}

/// Opens the syslog channel under `prog` (the basename of argv[0]) with the
/// mail facility, as postmulti does before it reads main.cf.
pub fn init(prog: &[u8]) {
    with_logger(|logger| {
        logger.prog = prog.to_vec();
        logger.open(prog);
    });
}

/// Applies what main.cf says about logging: the syslog facility and whether
/// UTF-8 in messages is kept (SMTPUTF8 support).
pub fn configure(facility: libc::c_int, utf8: bool) {
    with_logger(|logger| {
        logger.facility = facility;
        logger.utf8 = utf8;
    });
}

/// Writes one of postmulti's own diagnostics to stderr and syslog.
pub fn log(level: Level, text: &[u8]) {
    with_logger(|logger| logger.write(Some(&logger.prog), level, text));
}

pub fn warn(text: &[u8]) {
    log(Level::Warning, text);
}

pub fn info(text: &[u8]) {
    log(Level::Info, text);
}

/// Writes one record the way postlog(1) does for a Postfix script: to
/// syslog under `tag`, to stderr as `<stderr_name>: <level>: <text>` if it
/// writes there; then postmulti's own ident is in force again.
pub fn postlog(tag: &[u8], stderr_name: Option<&[u8]>, level: Level, text: &[u8]) {
    with_logger(|logger| {
        logger.open(tag);
        logger.write(stderr_name, level, text);
        let prog = logger.prog.clone();
        logger.open(&prog);
    });
}

/// Writes one record to syslog only, as postlog(1) does for a Postfix
/// script whose output is discarded: under `tag`, with `facility` (the
/// instance's, which need not be postmulti's); then postmulti's own ident
/// and facility are in force again.
pub fn postlog_to_syslog(tag: &[u8], facility: libc::c_int, level: Level, text: &[u8]) {
    with_logger(|logger| {
        let own_facility = std::mem::replace(&mut logger.facility, facility);
        logger.open(tag);
        logger.write(None, level, text);
        logger.facility = own_facility;
        let prog = logger.prog.clone();
        logger.open(&prog);
    });
}

/// Maps a `syslog_facility` value to its facility, as Postfix spells them.
pub fn facility_named(name: &[u8]) -> Option<libc::c_int> {
    Some(match name {
        b"auth" => libc::LOG_AUTH,
        b"authpriv" => libc::LOG_AUTHPRIV,
        b"cron" => libc::LOG_CRON,
        b"daemon" => libc::LOG_DAEMON,
        b"ftp" => libc::LOG_FTP,
        b"kern" => libc::LOG_KERN,
        b"lpr" => libc::LOG_LPR,
        b"mail" => libc::LOG_MAIL,
        b"news" => libc::LOG_NEWS,
        b"syslog" => libc::LOG_SYSLOG,
        b"user" => libc::LOG_USER,
        b"uucp" => libc::LOG_UUCP,
        b"local0" => libc::LOG_LOCAL0,
        b"local1" => libc::LOG_LOCAL1,
        b"local2" => libc::LOG_LOCAL2,
        b"local3" => libc::LOG_LOCAL3,
        b"local4" => libc::LOG_LOCAL4,
        b"local5" => libc::LOG_LOCAL5,
        b"local6" => libc::LOG_LOCAL6,
        b"local7" => libc::LOG_LOCAL7,
        _ => return None,
    })
}

/// Replaces every byte that is not printable ASCII (or, with `utf8`, not
/// part of a well-formed UTF-8 character) by `?`, resynchronising at the
/// next byte, like Postfix's printable().
pub fn printable(text: &[u8], utf8: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if (0x20..0x7f).contains(&b) {
            out.push(b);
            i += 1;
            continue;
        }
        if utf8 && b >= 0x80 {
            let len = utf8_char_len(&text[i..]);
            if len > 0 {
                out.extend_from_slice(&text[i..i + len]);
                i += len;
                continue;
            }
        }
        out.push(b'?');
        i += 1;
    }
    out
}

/// Length of the well-formed multi-byte UTF-8 character at the start of
/// `s`, or 0 if there is none.
fn utf8_char_len(s: &[u8]) -> usize {
    let want = match s[0] {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return 0,
    };
    match s.get(..want).map(std::str::from_utf8) {
        Some(Ok(_)) => want,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_keeps_utf8_and_replaces_the_rest() {
        assert_eq!(printable("naïve".as_bytes(), true), "naïve".as_bytes());
        assert_eq!(printable(b"na\xC3ve\x01\x7F", true), b"na?ve??");
        assert_eq!(printable(b"\xE2\x82", true), b"??");
        assert_eq!(printable("é\t".as_bytes(), false), b"???");
    }
}
