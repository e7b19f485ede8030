//! master.cf as postconf reads it, as far as postmulti needs it: splitting
//! an entry into its fields, and deciding whether postconf would read a
//! master.cf without a word.

use super::parse::{LineEvent, is_space, scan_logical_lines};

/// Whether postconf would read this master.cf without a word: every entry
/// has the eight fields with ordinary values, braces balance, and no field
/// is a `{...}` group (postconf unpacks those and may complain).  Braces
/// inside a field, as in Debian's stock `-o syslog_name=${...?{...}:{...}}`,
/// are fine.
pub fn master_cf_is_plain(content: &[u8]) -> bool {
    let mut plain = true;
    scan_logical_lines(content, b"master.cf", &mut |event| {
        plain = match event {
            LineEvent::Warning(_) => false,
            LineEvent::Line(line) => is_plain_entry(&line.text),
        };
        plain
    });
    plain
}

/// One master.cf entry with the eight fields and ordinary values.
fn is_plain_entry(text: &[u8]) -> bool {
    let Some(fields) = master_fields(text) else {
        return false;
    };
    fields.len() >= 8
        && !fields.iter().any(|f| f.starts_with(b"{"))
        && matches!(
            fields[1],
            b"inet" | b"unix" | b"unix-dgram" | b"fifo" | b"pass"
        )
        && fields[2..5]
            .iter()
            .all(|f| matches!(*f, b"y" | b"n" | b"-"))
        && is_count(fields[5], true)
        && is_count(fields[6], false)
}

/// Splits a master.cf entry into fields at whitespace outside `{}`; `None`
/// if the braces do not balance.
pub fn master_fields(text: &[u8]) -> Option<Vec<&[u8]>> {
    // An entry has eight fields and a few `-o` options.
    let mut fields = Vec::with_capacity(16);
    let mut depth = 0usize;
    let mut start = None;
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => depth = depth.checked_sub(1)?,
            _ => {}
        }
        if is_space(b) && depth == 0 {
            if let Some(s) = start.take() {
                fields.push(&text[s..i]);
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if depth != 0 {
        return None;
    }
    if let Some(s) = start {
        fields.push(&text[s..]);
    }
    Some(fields)
}

/// `-` or a number (the wakeup field may end in `?`).
fn is_count(field: &[u8], may_end_in_question_mark: bool) -> bool {
    let digits = match field.strip_suffix(b"?") {
        Some(d) if may_end_in_question_mark => d,
        _ => field,
    };
    field == b"-" || (!digits.is_empty() && digits.iter().all(u8::is_ascii_digit))
}
