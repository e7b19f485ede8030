//! Reading main.cf the way Postfix does: physical lines joined into logical
//! lines (continuations start with whitespace; comments and blank lines in
//! between are dropped), `name = value` split with whitespace trimmed, the
//! last definition of a name winning, and the same warnings and errors.

use std::path::Path;

use super::Syntax;
use super::fnv::FnvHashMap;

/// One logical line: its text and the physical lines it spans (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalLine {
    pub text: Vec<u8>,
    pub first: usize,
    pub last: usize,
}

/// Postfix's ISSPACE: space, tab, newline, vertical tab, form feed, CR.
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What reading main.cf produces, in file order.
pub enum LineEvent {
    /// The text of a warning readllines() prints at this point.
    Warning(Vec<u8>),
    Line(LogicalLine),
}

/// Reads logical lines one at a time, handing each line and each warning
/// to `handle` in the order Postfix produces them, until `handle` returns
/// false (a fatal error stops Postfix there, before later warnings).
pub fn scan_logical_lines(content: &[u8], path: &[u8], handle: &mut dyn FnMut(LineEvent) -> bool) {
    scan_logical_lines_as(content, path, Syntax::installed(), handle);
}

/// [`scan_logical_lines`] as the release of `syntax` reads them.
pub fn scan_logical_lines_as(
    content: &[u8],
    path: &[u8],
    syntax: Syntax,
    handle: &mut dyn FnMut(LineEvent) -> bool,
) {
    let mut pos = 0;
    let mut lineno = 0;
    while pos < content.len() {
        let mut buf: Vec<u8> = Vec::new();
        let mut first = 0;
        let mut got_null = false;
        loop {
            let start = buf.len();
            let end = content[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(content.len(), |i| pos + i);
            let physical = &content[pos..end];
            let newline = end < content.len();
            pos = if newline { end + 1 } else { end };
            got_null |= physical.contains(&0);
            if newline || !physical.is_empty() {
                lineno += 1;
            }
            let blank_or_comment = match physical.iter().position(|&b| !is_space(b)) {
                None => true,
                Some(i) => physical[i] == b'#',
            };
            if !blank_or_comment {
                buf.extend_from_slice(physical);
            }
            if start == 0 {
                first = lineno;
            }
            if !newline {
                break;
            }
            if !buf.is_empty() {
                match content.get(pos) {
                    Some(&next) if next == b'#' || is_space(next) => {}
                    _ => break,
                }
            }
        }
        if got_null && syntax.warns_null_bytes {
            let mut msg = path.to_vec();
            if first == lineno {
                msg.extend_from_slice(format!(", line {lineno}: ").as_bytes());
            } else {
                msg.extend_from_slice(format!(", line {first}-{lineno}: ").as_bytes());
            }
            msg.extend_from_slice(b"text after null byte may be ignored");
            if !handle(LineEvent::Warning(msg)) {
                return;
            }
        }
        if buf.is_empty() {
            continue;
        }
        if is_space(buf[0]) {
            let shown = c_string(&buf);
            let mut msg = path.to_vec();
            msg.extend_from_slice(b": logical line must not start with whitespace: \"");
            msg.extend_from_slice(&shown[..shown.len().min(30)]);
            if buf.len() > 30 {
                msg.extend_from_slice(b"...");
            }
            msg.push(b'"');
            if !handle(LineEvent::Warning(msg)) {
                return;
            }
            continue;
        }
        let line = LogicalLine {
            text: buf,
            first,
            last: lineno,
        };
        if !handle(LineEvent::Line(line)) {
            return;
        }
    }
}

/// The text up to the first NUL byte, as C string functions see it.
pub fn c_string(text: &[u8]) -> &[u8] {
    text.iter()
        .position(|&b| b == 0)
        .map_or(text, |i| &text[..i])
}

/// Splits `name = value`; the error text is split_nameval()'s.
pub fn split_name_value(text: &[u8]) -> Result<(&[u8], &[u8]), &'static str> {
    let text = c_string(text);
    let name_start = text
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(text.len());
    if name_start == text.len() || text[name_start] == b'=' {
        return Err("missing attribute name");
    }
    let name_end = name_start
        + text[name_start..]
            .iter()
            .position(|&b| is_space(b) || b == b'=')
            .unwrap_or(text.len() - name_start);
    let eq = name_end
        + text[name_end..]
            .iter()
            .position(|&b| !is_space(b))
            .unwrap_or(text.len() - name_end);
    if text.get(eq) != Some(&b'=') {
        return Err("missing '=' after attribute name");
    }
    Ok((&text[name_start..name_end], trim(&text[eq + 1..])))
}

/// Removes leading and trailing ISSPACE bytes.
pub fn trim(text: &[u8]) -> &[u8] {
    let start = text
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(text.len());
    let end = text
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(start, |i| i + 1);
    &text[start..end]
}

/// A parsed main.cf: the last value of each name, in the file's terms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MainCf {
    values: FnvHashMap<Vec<u8>, Vec<u8>>,
    /// Names in the order of their first definition.
    order: Vec<Vec<u8>>,
}

/// A main.cf that cannot be loaded: the text of Postfix's fatal error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError(pub Vec<u8>);

impl MainCf {
    /// Parses `content` as dict_load_fp() does, reporting warnings through
    /// `warn`; `seed` holds names the library defines before reading the
    /// file (postmulti pre-seeds `config_directory`).
    pub fn parse(
        content: &[u8],
        path: &Path,
        seed: &[(&[u8], &[u8])],
        warn: &mut dyn FnMut(Vec<u8>),
    ) -> Result<MainCf, SyntaxError> {
        MainCf::parse_as(content, path, seed, warn, Syntax::installed())
    }

    /// [`MainCf::parse`] as the release of `syntax` reads main.cf.
    pub fn parse_as(
        content: &[u8],
        path: &Path,
        seed: &[(&[u8], &[u8])],
        warn: &mut dyn FnMut(Vec<u8>),
        syntax: Syntax,
    ) -> Result<MainCf, SyntaxError> {
        use std::os::unix::ffi::OsStrExt;
        let path = path.as_os_str().as_bytes();
        let mut cf = MainCf::default();
        for (name, value) in seed {
            cf.set(name, value);
        }
        let mut error = None;
        scan_logical_lines_as(content, path, syntax, &mut |event| {
            let line = match event {
                LineEvent::Warning(w) => {
                    warn(w);
                    return true;
                }
                LineEvent::Line(line) => line,
            };
            let (name, value) = match split_name_value(&line.text) {
                Ok(pair) => pair,
                Err(err) => {
                    let mut msg = path.to_vec();
                    msg.extend_from_slice(format!(", line {}: {err}: \"", line.first).as_bytes());
                    msg.extend_from_slice(c_string(&line.text));
                    msg.push(b'"');
                    error = Some(SyntaxError(msg));
                    return false;
                }
            };
            if let Some(old) = cf.values.get(name)
                && old.as_slice() != value
            {
                let mut msg = path.to_vec();
                msg.extend_from_slice(
                    format!(", line {}: overriding earlier entry: ", line.first).as_bytes(),
                );
                msg.extend_from_slice(name);
                msg.push(b'=');
                msg.extend_from_slice(old);
                warn(msg);
            }
            cf.set(name, value);
            true
        });
        if let Some(error) = error {
            return Err(error);
        }
        Ok(cf)
    }

    fn set(&mut self, name: &[u8], value: &[u8]) {
        if self.values.insert(name.to_vec(), value.to_vec()).is_none() {
            self.order.push(name.to_vec());
        }
    }

    /// The raw value of `name`, if main.cf defines it.
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.values.get(name).map(Vec::as_slice)
    }

    /// Every defined name, in the order of first definition.
    pub fn names(&self) -> impl Iterator<Item = &[u8]> {
        self.order.iter().map(Vec::as_slice)
    }
}

/// Separators of `multi_instance_directories` and of the command lists.
pub const LIST_SEPARATORS: &[u8] = b", \t\r\n";

/// Splits a list value on Postfix's list separators, dropping empty tokens.
pub fn split_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|b| LIST_SEPARATORS.contains(b))
        .filter(|t| !t.is_empty())
}

/// Postfix booleans: `yes` or `no` in any case.
pub fn parse_bool(value: &[u8]) -> Option<bool> {
    if value.eq_ignore_ascii_case(b"yes") {
        Some(true)
    } else if value.eq_ignore_ascii_case(b"no") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `content` into logical lines; `warn` receives the text of each
    /// warning readllines() would print for the file at `path`.
    fn logical_lines(
        content: &[u8],
        path: &[u8],
        warn: &mut dyn FnMut(Vec<u8>),
    ) -> Vec<LogicalLine> {
        let mut lines = Vec::new();
        scan_logical_lines(content, path, &mut |event| {
            match event {
                LineEvent::Warning(w) => warn(w),
                LineEvent::Line(line) => lines.push(line),
            }
            true
        });
        lines
    }

    fn lines(input: &[u8]) -> (Vec<(String, usize, usize)>, Vec<String>) {
        let mut warnings = Vec::new();
        let got = logical_lines(input, b"memory buffer", &mut |w| {
            warnings.push(String::from_utf8_lossy(&w).into_owned())
        });
        (
            got.into_iter()
                .map(|l| {
                    (
                        String::from_utf8_lossy(&l.text).into_owned(),
                        l.first,
                        l.last,
                    )
                })
                .collect(),
            warnings,
        )
    }

    fn one(input: &[u8]) -> (String, usize, usize) {
        let (l, _) = lines(input);
        l.into_iter().next().unwrap_or_default()
    }

    // The cases of Postfix's own readllines() test table.
    #[test]
    fn readllines_cases() {
        let (got, warnings) = lines(b" abcde\nfghij\n");
        assert_eq!(got, vec![("fghij".into(), 2, 2)]);
        assert_eq!(
            warnings,
            vec!["memory buffer: logical line must not start with whitespace: \" abcde\""]
        );
        assert_eq!(one(b" #abcde\nfghij\n"), ("fghij".into(), 2, 2));
        assert_eq!(one(b"#abc\ndef"), ("def".into(), 2, 2));
        assert_eq!(one(b"\nabc\n"), ("abc".into(), 2, 2));
        assert_eq!(one(b" \nabc\n"), ("abc".into(), 2, 2));
        assert_eq!(one(b"abc def"), ("abc def".into(), 1, 1));
        assert_eq!(lines(b"#abc def").0, vec![]);
        assert_eq!(one(b"abc\n def\n"), ("abc def".into(), 1, 2));
        assert_eq!(one(b"abc\n #def\n ghi"), ("abc ghi".into(), 1, 3));
        assert_eq!(one(b"abc\n#def\n ghi"), ("abc ghi".into(), 1, 3));
        assert_eq!(one(b"abc\n \n ghi"), ("abc ghi".into(), 1, 3));
        assert_eq!(one(b"abc\n\n ghi"), ("abc ghi".into(), 1, 3));
        assert_eq!(one(b"abc\n #def\n"), ("abc".into(), 1, 2));
        assert_eq!(one(b"abc\n ").0, "abc");
    }

    #[test]
    fn null_bytes_warn_with_the_line_range() {
        let (_, w) = lines(b"abc\0def");
        assert_eq!(
            w,
            vec!["memory buffer, line 1: text after null byte may be ignored"]
        );
        let (_, w) = lines(b"abc\0\n def");
        assert_eq!(
            w,
            vec!["memory buffer, line 1-2: text after null byte may be ignored"]
        );
        let (_, w) = lines(b"#abc\0\ndef");
        assert_eq!(
            w,
            vec!["memory buffer, line 2: text after null byte may be ignored"]
        );
    }

    /// Postfix 3.8 and earlier say nothing about a null byte.
    #[test]
    fn null_bytes_are_warned_about_since_3_9() {
        let warnings = |syntax| {
            let mut w = Vec::new();
            MainCf::parse_as(
                b"a = b\0c\n",
                Path::new("m"),
                &[],
                &mut |m| w.push(m),
                syntax,
            )
            .unwrap();
            w.len()
        };
        assert_eq!(warnings(Syntax::of_release(3, 9)), 1);
        assert_eq!(warnings(Syntax::of_release(3, 8)), 0);
    }

    #[test]
    fn continuation_keeps_leading_whitespace() {
        assert_eq!(one(b"x = 1\n\t 2\n").0, "x = 1\t 2");
    }

    #[test]
    fn name_value_splitting() {
        assert_eq!(
            split_name_value(b"  a =  b c  "),
            Ok((&b"a"[..], &b"b c"[..]))
        );
        assert_eq!(split_name_value(b"a=b # c"), Ok((&b"a"[..], &b"b # c"[..])));
        assert_eq!(split_name_value(b"a ="), Ok((&b"a"[..], &b""[..])));
        assert_eq!(split_name_value(b"= b"), Err("missing attribute name"));
        assert_eq!(
            split_name_value(b"a b"),
            Err("missing '=' after attribute name")
        );
    }

    #[test]
    fn last_definition_wins_and_differing_ones_warn() {
        let mut warnings = Vec::new();
        let cf = MainCf::parse(
            b"a = 1\na = 1\nb = x\na = 2\n",
            Path::new("/etc/postfix/main.cf"),
            &[],
            &mut |w| warnings.push(String::from_utf8(w).unwrap()),
        )
        .unwrap();
        assert_eq!(cf.get(b"a"), Some(&b"2"[..]));
        assert_eq!(
            warnings,
            vec!["/etc/postfix/main.cf, line 4: overriding earlier entry: a=1"]
        );
    }

    #[test]
    fn warnings_come_in_file_order() {
        let mut warnings = Vec::new();
        let result = MainCf::parse(
            b"a = 1\0x\na = 2\nb = 1\0y\nb = 2\n bad\nc\nd = 1\0\n",
            Path::new("m"),
            &[],
            &mut |w| warnings.push(String::from_utf8(w).unwrap()),
        );
        assert!(result.is_err());
        assert_eq!(
            warnings,
            vec![
                "m, line 1: text after null byte may be ignored",
                "m, line 2: overriding earlier entry: a=1",
                "m, line 3: text after null byte may be ignored",
                "m, line 4: overriding earlier entry: b=1",
            ]
        );
    }

    #[test]
    fn syntax_errors_name_the_first_line() {
        let err = MainCf::parse(
            b"a = 1\nbogus\n  line\n",
            Path::new("/x/main.cf"),
            &[],
            &mut |_| {},
        )
        .unwrap_err();
        assert_eq!(
            String::from_utf8(err.0).unwrap(),
            "/x/main.cf, line 2: missing '=' after attribute name: \"bogus  line\""
        );
    }

    #[test]
    fn booleans_ignore_case() {
        assert_eq!(parse_bool(b"YES"), Some(true));
        assert_eq!(parse_bool(b"No"), Some(false));
        assert_eq!(parse_bool(b"true"), None);
    }

    #[test]
    fn list_splitting_drops_empty_tokens() {
        let got: Vec<&[u8]> = split_list(b" a,,b\t c ,").collect();
        assert_eq!(got, vec![&b"a"[..], b"b", b"c"]);
        assert_eq!(split_list(b", ,").count(), 0);
    }
}
