//! The mail_conf library's conversions of a parameter's expanded value,
//! with its messages: string lengths, integers (C's strtol, then the
//! range), booleans, times (a number and a unit), compatibility levels.

use crate::error::Result;
use crate::fatal;
use crate::maincf::expand::parse_compatibility_level;
use crate::maincf::parse_bool;

/// C's isspace() in the C locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// strtol(text, &end, 10): the number (`None` on overflow) and where the
/// number ends; an end of 0 means no digits were found.
fn strtol(text: &[u8]) -> (Option<i64>, usize) {
    let mut i = text.iter().take_while(|&&b| is_c_space(b)).count();
    let negative = match text.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = text[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return (Some(0), 0);
    }
    let mut value: i64 = 0;
    let mut overflow = false;
    for &b in &text[i..i + digits] {
        let digit = i64::from(b - b'0');
        value = match value.checked_mul(10).and_then(|v| {
            if negative {
                v.checked_sub(digit)
            } else {
                v.checked_add(digit)
            }
        }) {
            Some(v) => v,
            None => {
                overflow = true;
                0
            }
        };
        if overflow {
            break;
        }
    }
    ((!overflow).then_some(value), i + digits)
}

/// A string of `min..=max` bytes (0: that side unchecked).
pub fn check_length(name: &str, value: &[u8], min: usize, max: usize) -> Result<()> {
    if min != 0 && value.len() < min {
        fatal!(
            format!("bad string length {} < {min}: {name} = ", value.len()),
            value
        );
    }
    if max != 0 && value.len() > max {
        fatal!(
            format!("bad string length {} > {max}: {name} = ", value.len()),
            value
        );
    }
    Ok(())
}

/// The whole value as a decimal number that fits `i32` (`int`) or `i64`
/// (`long`).
pub fn number(name: &str, value: &[u8], fits_int: bool) -> Result<i64> {
    let (number, end) = strtol(value);
    let fits = |n: i64| !fits_int || i32::try_from(n).is_ok();
    match number {
        Some(n) if !value.is_empty() && end == value.len() && fits(n) => Ok(n),
        _ => fatal!(b"bad numerical configuration: ", name, b" = ", value),
    }
}

/// The integer range check (`invalid <name> parameter value N < MIN`).
pub fn check_number(name: &str, value: i64, min: i64, max: i64) -> Result<()> {
    if min != 0 && value < min {
        fatal!(format!("invalid {name} parameter value {value} < {min}"));
    }
    if max != 0 && value > max {
        fatal!(format!("invalid {name} parameter value {value} > {max}"));
    }
    Ok(())
}

pub fn boolean(name: &str, value: &[u8]) -> Result<bool> {
    match parse_bool(value) {
        Some(b) => Ok(b),
        None => fatal!(b"bad boolean configuration: ", name, b" = ", value),
    }
}

/// conv_time(): a non-negative int, then a unit (`s m h d w`; `unit` when
/// there is none, anything after it ignored), in seconds.
pub fn time(name: &str, value: &[u8], unit: u8) -> Result<i64> {
    let bad = || fatal!(b"parameter ", name, b": bad time value or unit: ", value);
    if value.is_empty() {
        return bad();
    }
    let (number, end) = strtol(value);
    let Some(n) = number.filter(|&n| n >= 0 && i32::try_from(n).is_ok()) else {
        return bad();
    };
    let scale: i64 = match value.get(end).copied().unwrap_or(unit) {
        b's' => 1,
        b'm' => 60,
        b'h' => 3600,
        b'd' => 86400,
        b'w' => 604800,
        _ => return bad(),
    };
    if scale > 1 && n >= i64::from(i32::MAX) / scale {
        return bad();
    }
    Ok(n * scale)
}

/// The time range check (`invalid <name>: N (min MIN)`).
pub fn check_time(name: &str, seconds: i64, min: i64, max: i64) -> Result<()> {
    if min != 0 && seconds < min {
        fatal!(format!("invalid {name}: {seconds} (min {min})"));
    }
    if max != 0 && seconds > max {
        fatal!(format!("invalid {name}: {seconds} (max {max})"));
    }
    Ok(())
}

/// The default unit of a time parameter: the first letter of its default.
pub fn default_unit(default: &str) -> u8 {
    default
        .bytes()
        .find(|b| !b.is_ascii_digit())
        .unwrap_or(b's')
}

pub fn compatibility_level(value: &[u8]) -> Result<()> {
    match parse_compatibility_level(value) {
        Some(_) => Ok(()),
        None => fatal!(b"malformed compatibility level syntax: \"", value, b"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(result: Result<impl std::fmt::Debug>) -> String {
        match result {
            Ok(v) => format!("{v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn integers_as_strtol_reads_them() {
        for (value, got) in [
            ("+5", "5"),
            ("010", "10"),
            ("-0", "0"),
            ("2147483647", "2147483647"),
            ("abc", "bad numerical configuration: max_use = abc"),
            ("", "bad numerical configuration: max_use = "),
            ("1.5", "bad numerical configuration: max_use = 1.5"),
            ("0x10", "bad numerical configuration: max_use = 0x10"),
            (
                "2147483648",
                "bad numerical configuration: max_use = 2147483648",
            ),
            ("5 -1", "bad numerical configuration: max_use = 5 -1"),
        ] {
            assert_eq!(
                text(number("max_use", value.as_bytes(), true)),
                got,
                "{value}"
            );
        }
        assert_eq!(
            text(number("message_size_limit", b"9223372036854775807", false)),
            "9223372036854775807"
        );
        assert_eq!(
            text(number("message_size_limit", b"9223372036854775808", false)),
            "bad numerical configuration: message_size_limit = 9223372036854775808"
        );
        assert_eq!(
            text(check_number("max_use", -1, 1, 0)),
            "invalid max_use parameter value -1 < 1"
        );
        assert_eq!(
            text(check_number("delay_logging_resolution_limit", 7, 0, 6)),
            "invalid delay_logging_resolution_limit parameter value 7 > 6"
        );
    }

    #[test]
    fn times_as_conv_time_reads_them() {
        for (value, got) in [
            ("10seconds", "10"),
            ("10sx", "10"),
            ("+5", "5"),
            ("-0", "0"),
            ("1m", "60"),
            ("3549w", "2146435200"),
            ("24854d", "2147385600"),
            ("s", "0"),
            ("2147483647", "2147483647"),
        ] {
            assert_eq!(
                text(time("ipc_timeout", value.as_bytes(), b's')),
                got,
                "{value}"
            );
        }
        for bad in [
            "abc",
            "1q",
            "-1",
            "-5s",
            "1H",
            "5 m",
            "1.5h",
            "",
            "3550w",
            "24855d",
            "35791394m",
            "596523h",
            "2147483648",
        ] {
            assert_eq!(
                text(time("ipc_timeout", bad.as_bytes(), b's')),
                format!("parameter ipc_timeout: bad time value or unit: {bad}"),
                "{bad}"
            );
        }
        assert_eq!(
            text(check_time("in_flow_delay", 60, 0, 10)),
            "invalid in_flow_delay: 60 (max 10)"
        );
        assert_eq!(default_unit("100s"), b's');
    }

    #[test]
    fn lengths_and_levels() {
        assert_eq!(
            text(check_length("default_verp_delimiters", b"+", 2, 2)),
            "bad string length 1 < 2: default_verp_delimiters = +"
        );
        assert_eq!(
            text(check_length("default_verp_delimiters", b"+==", 2, 2)),
            "bad string length 3 > 2: default_verp_delimiters = +=="
        );
        for good in ["0", "+3", "3.1023", "3.6.1", "4.0", "8796093022207"] {
            assert!(compatibility_level(good.as_bytes()).is_ok(), "{good}");
        }
        for bad in [
            "abc",
            "",
            "3.6.1.2",
            "-1",
            "3.",
            "3.1024",
            "99999999999999",
            "1e3",
        ] {
            assert_eq!(
                text(compatibility_level(bad.as_bytes())),
                format!("malformed compatibility level syntax: \"{bad}\"")
            );
        }
    }
}
