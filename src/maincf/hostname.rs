//! Postfix's valid_hostname() (3.7 to 3.11 alike): letters, digits, `_`,
//! `-` and `.` only, labels of at most 63 characters that neither start
//! nor end with a hyphen, no empty label, not all digits (a hyphen counts
//! as a non-digit), at most 255 characters; the first rule broken is the
//! warning.

const LABEL_LENGTH: usize = 63;
const HOSTNAME_LENGTH: usize = 255;

/// `%.100s`.
fn shown(name: &[u8]) -> &[u8] {
    &name[..name.len().min(100)]
}

/// Whether `name` passes valid_hostname() (no wildcard, no complaint).
pub fn is_valid(name: &[u8]) -> bool {
    check(name).is_ok()
}

/// `Ok` for a valid host name, else the `valid_hostname: ...` warning.
pub fn check(name: &[u8]) -> Result<(), Vec<u8>> {
    let warning = |text: &str, extra: &[u8]| {
        let mut w = format!("valid_hostname: {text}").into_bytes();
        w.extend_from_slice(extra);
        Err(w)
    };
    if name.is_empty() {
        return warning("empty hostname", b"");
    }
    let mut label_length = 0;
    let mut non_numeric = false;
    for (i, &ch) in name.iter().enumerate() {
        let next = name.get(i + 1).copied();
        if ch.is_ascii_alphanumeric() || ch == b'_' {
            label_length += 1;
            if label_length > LABEL_LENGTH {
                return warning("hostname label too long: ", shown(name));
            }
            if !ch.is_ascii_digit() {
                non_numeric = true;
            }
        } else if ch == b'.' {
            if label_length == 0 || next.is_none() {
                return warning("misplaced delimiter: ", shown(name));
            }
            label_length = 0;
        } else if ch == b'-' {
            non_numeric = true;
            label_length += 1;
            if label_length == 1 || next.is_none() || next == Some(b'.') {
                return warning("misplaced hyphen: ", shown(name));
            }
        } else {
            return warning(&format!("invalid character {ch}(decimal): "), shown(name));
        }
    }
    if !non_numeric {
        return warning("numeric hostname: ", shown(name));
    }
    if name.len() > HOSTNAME_LENGTH {
        let mut w = format!("valid_hostname: bad length {} for ", name.len()).into_bytes();
        w.extend_from_slice(shown(name));
        w.extend_from_slice(b"...");
        return Err(w);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warning(name: &str) -> String {
        match check(name.as_bytes()) {
            Ok(()) => "ok".into(),
            Err(w) => String::from_utf8(w).unwrap(),
        }
    }

    #[test]
    fn the_first_broken_rule_is_the_warning() {
        assert_eq!(warning("mail.example.com"), "ok");
        assert_eq!(warning("Under_score.EXAMPLE"), "ok");
        assert_eq!(
            warning("bad..name"),
            "valid_hostname: misplaced delimiter: bad..name"
        );
        assert_eq!(warning(".foo"), "valid_hostname: misplaced delimiter: .foo");
        assert_eq!(
            warning("foo.example."),
            "valid_hostname: misplaced delimiter: foo.example."
        );
        assert_eq!(warning("-foo"), "valid_hostname: misplaced hyphen: -foo");
        assert_eq!(
            warning("foo-.bar"),
            "valid_hostname: misplaced hyphen: foo-.bar"
        );
        assert_eq!(
            warning("a b"),
            "valid_hostname: invalid character 32(decimal): a b"
        );
        assert_eq!(
            warning("é"),
            "valid_hostname: invalid character 195(decimal): é"
        );
        assert_eq!(
            warning("1.2.3.4"),
            "valid_hostname: numeric hostname: 1.2.3.4"
        );
        assert_eq!(warning("1-2.3"), "ok", "a hyphen is not a digit");
        let long = "a".repeat(64);
        assert_eq!(
            warning(&long),
            format!("valid_hostname: hostname label too long: {long}")
        );
        let many = vec!["abc"; 70].join(".");
        assert_eq!(
            warning(&many),
            format!("valid_hostname: bad length 279 for {}...", &many[..100])
        );
    }
}
