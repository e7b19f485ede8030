//! List mode (`-l`): one line per selected instance, as the fixed-width
//! table of `%-15s %-15s %-9s %s` or, with `-j`, as JSON lines; with
//! `--status`, also whether its master runs, its pid, the messages in
//! each queue, and (where systemd runs) its boot unit and that unit's state.

use std::io::Write;

use crate::cli::Selection;
use crate::diag;
use crate::error::{Error, Result, strerror};
use crate::instance::Instance;
use crate::instance::queue::MESSAGE_QUEUES;
use crate::instance::status::{self, BootUnit, BootUnits, Master, QueueCounts};
use crate::maincf::path;
use crate::msg;

/// How `-l` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListFormat {
    pub json: bool,
    pub reverse: bool,
    pub status: bool,
}

/// What `--status` adds to an instance's line.
struct Status<'a> {
    master: Master,
    queues: QueueCounts,
    /// Where systemd runs: the unit that starts the instance at boot.
    boot: Option<&'a BootUnit>,
}

impl<'a> Status<'a> {
    /// Finds out, warning once if a queue cannot be read.
    fn of(instance: &Instance, boot: Option<&'a BootUnits>) -> Status<'a> {
        let queue_dir = path(&instance.queue_dir);
        let status = Status {
            master: status::master(&queue_dir),
            queues: status::queue_counts(&queue_dir),
            boot: boot.and_then(|units| units.get(&instance.config_dir)),
        };
        if let Some((at, err)) = &status.queues.unreadable {
            use std::os::unix::ffi::OsStrExt;
            diag::warn(&msg!(
                b"instance ",
                instance.config_dir,
                b": cannot count the messages in ",
                at.as_os_str().as_bytes(),
                b": ",
                strerror(err)
            ));
        }
        status
    }
}

/// Pads `field` to `width` and a blank, as the table does.
fn column(out: &mut Vec<u8>, field: &[u8], width: usize) {
    out.extend_from_slice(field);
    out.resize(out.len() + width.saturating_sub(field.len()), b' ');
    out.push(b' ');
}

/// The `--status` columns: state, pid (or `-`), then each queue's count
/// (or `-`), padded as the table's.
fn status_columns(out: &mut Vec<u8>, status: &Status) {
    let (state, pid): (&[u8], Vec<u8>) = match status.master {
        Master::Running(pid) => (
            b"running",
            pid.map_or(b"-".to_vec(), |p| p.to_string().into_bytes()),
        ),
        Master::Stopped => (b"stopped", b"-".to_vec()),
    };
    column(out, state, 8);
    column(out, &pid, 8);
    let counts = status.queues.counts;
    for (i, count) in counts.iter().enumerate() {
        let text = count.map_or(b"-".to_vec(), |n| n.to_string().into_bytes());
        if i + 1 < counts.len() || status.boot.is_some() {
            column(out, &text, 6);
        } else {
            out.extend_from_slice(&text);
        }
    }
    if let Some(boot) = status.boot {
        column(out, &boot.unit, 40);
        out.extend_from_slice(&boot.active_state);
    }
}

/// Formats one instance as postmulti's text table row.
pub fn text_line(out: &mut Vec<u8>, instance: &Instance) {
    text_columns(out, instance);
    out.extend_from_slice(&instance.config_dir);
    out.push(b'\n');
}

/// The first three columns of the table.
fn text_columns(out: &mut Vec<u8>, instance: &Instance) {
    let name = instance.name.as_deref().unwrap_or(b"-");
    let group = instance.group.as_deref().unwrap_or(b"-");
    let enabled: &[u8] = if instance.enabled { b"y" } else { b"n" };
    for (field, width) in [(name, 15usize), (group, 15), (enabled, 9)] {
        column(out, field, width);
    }
}

/// A `--status` row: the table's columns, the configuration directory
/// padded too, then the status columns.
fn status_text_line(out: &mut Vec<u8>, instance: &Instance, status: &Status) {
    text_columns(out, instance);
    column(out, &instance.config_dir, 23);
    status_columns(out, status);
    out.push(b'\n');
}

/// Formats one instance as a JSON line with Postfix's spacing.  Unlike
/// Postfix 3.11, the whole group name is printed, not its first byte
/// (spec D2).
pub fn json_line(out: &mut Vec<u8>, instance: &Instance) {
    json_members(out, instance);
    out.extend_from_slice(b"}\n");
}

/// A `--status` JSON line: the standard members, then `"running"`,
/// `"pid"` and `"queue"` (a count per queue, `null` where unreadable).
fn status_json_line(out: &mut Vec<u8>, instance: &Instance, status: &Status) {
    json_members(out, instance);
    let (running, pid) = match status.master {
        Master::Running(pid) => ("true", pid.map_or("null".to_string(), |p| p.to_string())),
        Master::Stopped => ("false", "null".to_string()),
    };
    out.extend_from_slice(
        format!(",\"running\": {running},\"pid\": {pid},\"queue\": {{").as_bytes(),
    );
    for (i, (queue, count)) in MESSAGE_QUEUES.iter().zip(status.queues.counts).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let count = count.map_or("null".to_string(), |n| n.to_string());
        out.extend_from_slice(format!("\"{queue}\": {count}").as_bytes());
    }
    out.push(b'}');
    if let Some(boot) = status.boot {
        out.extend_from_slice(b",\"unit\": \"");
        quote_json(out, &boot.unit);
        out.extend_from_slice(b"\",\"unit_state\": \"");
        quote_json(out, &boot.active_state);
        out.push(b'"');
    }
    out.extend_from_slice(b"}\n");
}

/// `{` and the standard members, without the closing brace.
fn json_members(out: &mut Vec<u8>, instance: &Instance) {
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
/// flushes once at the end; `boot`, with `--status` where systemd runs,
/// is each instance's boot unit.
pub fn list(
    instances: &[Instance],
    selection: &Selection,
    format: ListFormat,
    boot: Option<&BootUnits>,
) -> Result<u8> {
    let selected = instances.iter().filter(|i| i.matches(selection));
    let ordered: Box<dyn Iterator<Item = &Instance>> = if format.reverse {
        Box::new(selected.rev())
    } else {
        Box::new(selected)
    };
    let mut out = Vec::new();
    for instance in ordered {
        match (format.json, format.status) {
            (false, false) => text_line(&mut out, instance),
            (true, false) => json_line(&mut out, instance),
            (false, true) => status_text_line(&mut out, instance, &Status::of(instance, boot)),
            (true, true) => status_json_line(&mut out, instance, &Status::of(instance, boot)),
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
