//! Diagnostics: how postmulti reports warnings and fatal errors.
//!
//! Postfix 3.11's postmulti writes every diagnostic to stderr as
//! `<prog>: <level>: <text>` and sends the same record to syslog with the
//! ident `<prog>`, the pid, and the facility of `syslog_facility`.  Before
//! output, bytes that are not printable are replaced by `?` (well-formed
//! UTF-8 survives when SMTPUTF8 is on).  Unlike Postfix we do not sleep one
//! second before a fatal exit (spec D3).

use std::ffi::CString;
use std::io::Write;
use std::sync::Mutex;

/// Severity of a record; decides the stderr label and the syslog priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Warning,
    Fatal,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Fatal => "fatal",
        }
    }

    fn priority(self) -> libc::c_int {
        match self {
            Level::Warning => libc::LOG_WARNING,
            Level::Fatal => libc::LOG_CRIT,
        }
    }
}

struct Logger {
    prog: Vec<u8>,
    facility: libc::c_int,
    utf8: bool,
}

static LOGGER: Mutex<Option<Logger>> = Mutex::new(None);

/// Opens the syslog channel under `prog` (the basename of argv[0]) with the
/// mail facility, as postmulti does before it reads main.cf.
pub fn init(prog: &[u8]) {
    let ident = CString::new(prog.to_vec()).unwrap_or_else(|_| c"postmulti".to_owned());
    // openlog keeps the pointer: the ident must live as long as the process.
    let ident: &'static std::ffi::CStr = Box::leak(ident.into_boxed_c_str());
    // SAFETY: ident is a valid NUL-terminated string that is never freed.
    unsafe {
        libc::openlog(
            ident.as_ptr(),
            libc::LOG_NDELAY | libc::LOG_PID,
            libc::LOG_MAIL,
        )
    };
    *LOGGER.lock().unwrap_or_else(|e| e.into_inner()) = Some(Logger {
        prog: prog.to_vec(),
        facility: libc::LOG_MAIL,
        utf8: true,
    });
}

/// Applies what main.cf says about logging: the syslog facility and whether
/// UTF-8 in messages is kept (SMTPUTF8 support).
pub fn configure(facility: libc::c_int, utf8: bool) {
    if let Some(logger) = LOGGER.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        logger.facility = facility;
        logger.utf8 = utf8;
    }
}

/// Writes one diagnostic to stderr and syslog.
pub fn log(level: Level, text: &[u8]) {
    let guard = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
    let (prog, facility, utf8) = match guard.as_ref() {
        Some(l) => (l.prog.as_slice(), l.facility, l.utf8),
        None => (&b"postmulti"[..], libc::LOG_MAIL, true),
    };
    let text = printable(text, utf8);
    let mut line = Vec::with_capacity(prog.len() + text.len() + 16);
    line.extend_from_slice(prog);
    line.extend_from_slice(b": ");
    line.extend_from_slice(level.label().as_bytes());
    line.extend_from_slice(b": ");
    line.extend_from_slice(&text);
    line.push(b'\n');
    let _ = std::io::stderr().lock().write_all(&line);

    let mut record = format!("{}: ", level.label()).into_bytes();
    record.extend_from_slice(&text);
    if let Ok(record) = CString::new(record) {
        // SAFETY: both strings are NUL-terminated; "%s" consumes one argument.
        unsafe { libc::syslog(facility | level.priority(), c"%s".as_ptr(), record.as_ptr()) };
    }
}

/// Writes one record the way postlog(1) does for a script: to syslog
/// under `syslog_ident`, to stderr as `<stderr_prog>: <level>: <text>`.
pub fn log_as(syslog_ident: &[u8], stderr_prog: &[u8], level: Level, text: &[u8]) {
    let (facility, utf8) = {
        let guard = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .map_or((libc::LOG_MAIL, true), |l| (l.facility, l.utf8))
    };
    init(syslog_ident);
    configure(facility, utf8);
    if let Some(logger) = LOGGER.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        logger.prog = stderr_prog.to_vec();
    }
    log(level, text);
}

pub fn warn(text: &[u8]) {
    log(Level::Warning, text);
}

/// Maps a `syslog_facility` value to its code, as Postfix spells them.
pub fn facility_code(name: &str) -> Option<libc::c_int> {
    Some(match name {
        "auth" => libc::LOG_AUTH,
        "authpriv" => libc::LOG_AUTHPRIV,
        "cron" => libc::LOG_CRON,
        "daemon" => libc::LOG_DAEMON,
        "ftp" => libc::LOG_FTP,
        "kern" => libc::LOG_KERN,
        "lpr" => libc::LOG_LPR,
        "mail" => libc::LOG_MAIL,
        "news" => libc::LOG_NEWS,
        "syslog" => libc::LOG_SYSLOG,
        "user" => libc::LOG_USER,
        "uucp" => libc::LOG_UUCP,
        "local0" => libc::LOG_LOCAL0,
        "local1" => libc::LOG_LOCAL1,
        "local2" => libc::LOG_LOCAL2,
        "local3" => libc::LOG_LOCAL3,
        "local4" => libc::LOG_LOCAL4,
        "local5" => libc::LOG_LOCAL5,
        "local6" => libc::LOG_LOCAL6,
        "local7" => libc::LOG_LOCAL7,
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
