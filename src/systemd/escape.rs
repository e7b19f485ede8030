//! systemd's string escaping for unit names, as systemd.unit(5) ("String
//! Escaping for Inclusion in Unit Names") and systemd-escape(1) describe
//! it, and its inverse, as the `%I` and `%f` specifiers undo it.
//!
//! Escaping: `/` becomes `-`; ASCII letters and digits, `:`, `_` and `.`
//! stay, except a `.` in first position; every other byte becomes a
//! C-style `\xNN` (two lower-case hex digits).  A path (`-p`) is first
//! simplified — duplicate, leading and trailing slashes and `.`
//! components dropped — and refused if a `..` component remains; the
//! root directory (or nothing left) is `-`.

/// `systemd-escape STRING`.
pub fn escape(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for (i, &b) in text.iter().enumerate() {
        let kept = b.is_ascii_alphanumeric() || b == b':' || b == b'_' || (b == b'.' && i > 0);
        if b == b'/' {
            out.push(b'-');
        } else if kept {
            out.push(b);
        } else {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
    }
    out
}

/// `systemd-escape -p PATH`; `None` where systemd-escape refuses the path
/// (a `..` component: not a normalised path).
pub fn escape_path(path: &[u8]) -> Option<Vec<u8>> {
    let components: Vec<&[u8]> = path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    if components.contains(&&b".."[..]) {
        return None;
    }
    if components.is_empty() {
        return Some(b"-".to_vec());
    }
    Some(escape(&components.join(&b'/')))
}

/// What `%I` makes of an instance string: `-` back to `/`, `\xNN` back
/// to its byte (anything else as it is).
pub fn unescape(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'-' => out.push(b'/'),
            b'\\' if text.get(i + 1) == Some(&b'x') => {
                let hex = text
                    .get(i + 2..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 4;
                        continue;
                    }
                    None => out.push(b'\\'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// What `%f` makes of an instance string: the unescaped path, with a
/// leading `/`.
pub fn unescape_path(text: &[u8]) -> Vec<u8> {
    let inner = unescape(text);
    if inner.first() == Some(&b'/') {
        return inner;
    }
    let mut out = vec![b'/'];
    out.extend_from_slice(&inner);
    out
}

/// Whether `path` is absolute and already in the form `%f` gives back
/// after `escape_path`: not `/` itself, no empty, `.` or `..` component,
/// no trailing slash.
pub fn is_normalized_absolute(path: &[u8]) -> bool {
    match path.strip_prefix(b"/") {
        Some(rest) if !rest.is_empty() => rest
            .split(|&b| b == b'/')
            .all(|c| !c.is_empty() && c != b"." && c != b".."),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Option<String> {
        escape_path(p.as_bytes()).map(|e| String::from_utf8(e).unwrap())
    }

    // Outputs of systemd-escape -p (systemd 252) for the same inputs.
    #[test]
    fn paths_escape_as_systemd_escape_does() {
        assert_eq!(
            path("/etc/postfix-out").as_deref(),
            Some("etc-postfix\\x2dout")
        );
        assert_eq!(
            path("/etc/postfix-a.b/").as_deref(),
            Some("etc-postfix\\x2da.b")
        );
        assert_eq!(path("/.x").as_deref(), Some("\\x2ex"));
        assert_eq!(path("/a//b").as_deref(), Some("a-b"));
        assert_eq!(path("/a/./b").as_deref(), Some("a-b"));
        assert_eq!(path("rel/x").as_deref(), Some("rel-x"));
        assert_eq!(path("/").as_deref(), Some("-"));
        assert_eq!(path("").as_deref(), Some("-"));
        assert_eq!(path("/a/../b"), None);
        assert_eq!(
            escape_path("/\u{e9} x:y_z\\%".as_bytes()).unwrap(),
            b"\\xc3\\xa9\\x20x:y_z\\x5c\\x25"
        );
    }

    #[test]
    fn unescaping_undoes_escaping() {
        for p in [
            "/etc/postfix-out",
            "/srv/a.b/c-d",
            "/x/\u{e9}\\y%z",
            "/.hidden/.x",
        ] {
            let escaped = escape_path(p.as_bytes()).unwrap();
            assert_eq!(unescape_path(&escaped), p.as_bytes(), "{p}");
        }
        assert_eq!(unescape(b"a\\x2db-c"), b"a-b/c");
        assert_eq!(unescape(b"a\\xzz"), b"a\\xzz");
    }

    #[test]
    fn normalized_absolute_paths() {
        assert!(is_normalized_absolute(b"/etc/postfix-out"));
        assert!(is_normalized_absolute(b"/.x/y"));
        for p in [
            "",
            "/",
            "etc/x",
            "/etc//x",
            "/etc/x/",
            "/etc/./x",
            "/etc/../x",
        ] {
            assert!(!is_normalized_absolute(p.as_bytes()), "{p}");
        }
    }
}
