//! List mode (`-l`): one line per selected instance, as the fixed-width
//! table of `%-15s %-15s %-9s %s` or, with `-j`, as JSON lines.

use std::io::Write;

use crate::cli::Selection;
use crate::error::{Error, Result};
use crate::instance::Instance;

/// Formats one instance as postmulti's text table row.
pub fn text_line(out: &mut Vec<u8>, instance: &Instance) {
    let name = instance.name.as_deref().unwrap_or(b"-");
    let group = instance.group.as_deref().unwrap_or(b"-");
    let enabled: &[u8] = if instance.enabled { b"y" } else { b"n" };
    for (field, width) in [(name, 15usize), (group, 15), (enabled, 9)] {
        out.extend_from_slice(field);
        out.resize(out.len() + width.saturating_sub(field.len()), b' ');
        out.push(b' ');
    }
    out.extend_from_slice(&instance.config_dir);
    out.push(b'\n');
}

/// Formats one instance as a JSON line with Postfix's spacing.  Unlike
/// Postfix 3.11, the whole group name is printed, not its first byte
/// (spec D2).
pub fn json_line(out: &mut Vec<u8>, instance: &Instance) {
    let members: [(&str, &[u8]); 4] = [
        ("name", instance.name.as_deref().unwrap_or(b"-")),
        ("group", instance.group.as_deref().unwrap_or(b"-")),
        ("enabled", if instance.enabled { b"y" } else { b"n" }),
        ("config_directory", &instance.config_dir),
    ];
    out.push(b'{');
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\": \"");
        quote_json(out, value);
        out.push(b'"');
    }
    out.extend_from_slice(b"}\n");
}

/// Escapes like Postfix's quote_for_json(): `"` and `\`, the short forms
/// of control characters, `\u00XX` (upper case) for the others and DEL;
/// bytes from 0x80 up are copied unchanged.
fn quote_json(out: &mut Vec<u8>, value: &[u8]) {
    for &b in value {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x00..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{b:04X}").as_bytes()),
            _ => out.push(b),
        }
    }
}

/// `-l`: prints the selected instances in one write, as postmulti
/// flushes once at the end.
pub fn list(
    instances: &[Instance],
    selection: &Selection,
    json: bool,
    reverse: bool,
) -> Result<u8> {
    let selected = instances.iter().filter(|i| i.matches(selection));
    let ordered: Box<dyn Iterator<Item = &Instance>> = if reverse {
        Box::new(selected.rev())
    } else {
        Box::new(selected)
    };
    let mut out = Vec::new();
    for instance in ordered {
        if json {
            json_line(&mut out, instance);
        } else {
            text_line(&mut out, instance);
        }
    }
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::with_errno("error writing output", &e))?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(name: Option<&[u8]>, group: Option<&[u8]>, enabled: bool, dir: &[u8]) -> Instance {
        Instance {
            config_dir: dir.to_vec(),
            queue_dir: vec![],
            data_dir: vec![],
            name: name.map(<[u8]>::to_vec),
            group: group.map(<[u8]>::to_vec),
            enabled,
            primary: false,
        }
    }

    #[test]
    fn text_columns() {
        let mut out = Vec::new();
        text_line(&mut out, &instance(None, None, true, b"/etc/postfix"));
        text_line(
            &mut out,
            &instance(
                Some(b"postfix-very-long-name-here"),
                Some(b"grp"),
                false,
                b"/tmp/pf-b",
            ),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "-               -               y         /etc/postfix\n\
             postfix-very-long-name-here grp             n         /tmp/pf-b\n"
        );
    }

    #[test]
    fn json_escaping() {
        let mut out = Vec::new();
        json_line(
            &mut out,
            &instance(
                Some(b"postfix-n\"\\\x01\x7f\xc3\xa9\x1bz"),
                Some(b"\\g"),
                false,
                b"/tmp/q\"b\\s\x01x\x7fy\xc3\xa9",
            ),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"name\": \"postfix-n\\\"\\\\\\u0001\\u007Fé\\u001Bz\",\"group\": \"\\\\g\",\
             \"enabled\": \"n\",\"config_directory\": \"/tmp/q\\\"b\\\\s\\u0001x\\u007Fyé\"}\n"
        );
        let mut out = Vec::new();
        json_line(
            &mut out,
            &instance(Some(b"a\x08b\x0cc\x0bd e"), Some(b"mta"), true, b"/x"),
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"name\": \"a\\bb\\fc\\u000Bd e\",\"group\": \"mta\",\"enabled\": \"y\",\"config_directory\": \"/x\"}\n"
        );
    }
}
