//! The domain name conversions behind Postfix 3.11's `${domain_to_ascii{...}}`
//! and `${domain_to_utf8{...}}`, as far as they can be made without the
//! Unicode tables of UTS #46: Postfix hands them to ICU (UTS #46,
//! non-transitional, no STD3 rules, no bidi or CONTEXTJ checks) and then
//! checks the ASCII form with valid_hostname() (`maincf::hostname`).
//!
//! What is modelled: ASCII names, and names whose non-ASCII characters are
//! all in [`is_known_valid`], a few ranges of characters that UTS #46
//! leaves as they are (valid, already NFC, no mapping).  For any other
//! character the answer would need those tables, and the conversion says
//! [`Converted::Unknown`] rather than guess.

/// What a conversion made of a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Converted {
    /// The converted name.
    Name(Vec<u8>),
    /// Postfix refuses the name; the warning it prints first.
    Bad(Vec<u8>),
    /// Whether Postfix would accept the name needs tables we do not carry.
    Unknown,
}

/// The IDNA errors, in the order Postfix names them (its table in
/// midna_domain.c), with their ICU names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    EmptyLabel,
    LabelTooLong,
    DomainNameTooLong,
    LeadingHyphen,
    TrailingHyphen,
    Hyphen3And4,
    Punycode,
    InvalidAceLabel,
}

impl Problem {
    const ALL: [Problem; 8] = [
        Problem::EmptyLabel,
        Problem::LabelTooLong,
        Problem::DomainNameTooLong,
        Problem::LeadingHyphen,
        Problem::TrailingHyphen,
        Problem::Hyphen3And4,
        Problem::Punycode,
        Problem::InvalidAceLabel,
    ];

    fn name(self) -> &'static str {
        match self {
            Problem::EmptyLabel => "UIDNA_ERROR_EMPTY_LABEL",
            Problem::LabelTooLong => "UIDNA_ERROR_LABEL_TOO_LONG",
            Problem::DomainNameTooLong => "UIDNA_ERROR_DOMAIN_NAME_TOO_LONG",
            Problem::LeadingHyphen => "UIDNA_ERROR_LEADING_HYPHEN",
            Problem::TrailingHyphen => "UIDNA_ERROR_TRAILING_HYPHEN",
            Problem::Hyphen3And4 => "UIDNA_ERROR_HYPHEN_3_4",
            Problem::Punycode => "UIDNA_ERROR_PUNYCODE",
            Problem::InvalidAceLabel => "UIDNA_ERROR_INVALID_ACE_LABEL",
        }
    }
}

/// The set of problems one conversion found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Problems {
    found: u16,
    /// A refused A-label of letters, digits and hyphens only was marked
    /// with U+FFFD: the result is no longer ASCII, and ICU does not check
    /// the length of the name.
    marked: bool,
}

impl Problems {
    fn add(&mut self, p: Problem) {
        self.found |= 1 << p as u16;
    }

    fn is_empty(self) -> bool {
        self.found == 0
    }

    /// As Postfix prints them: the names joined by commas.
    fn text(self) -> String {
        Problem::ALL
            .iter()
            .filter(|&&p| self.found & (1 << p as u16) != 0)
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Longer names overflow the 1,024-byte buffers Postfix converts into,
/// with an error of another kind; not modelled.
const LONGEST_NAME: usize = 1000;

/// Characters UTS #46 keeps as they are (status valid or deviation, NFC,
/// not combining) that we can vouch for: Latin-1 small letters, Greek
/// small letters with and without tonos, basic Cyrillic small letters, the
/// CJK ideographs of Unicode 1.1.
pub fn is_known_valid(c: char) -> bool {
    matches!(
        u32::from(c),
        0xdf | 0xe0..=0xf6 | 0xf8..=0xff | 0x3ac..=0x3ce | 0x430..=0x45f | 0x4e00..=0x9fa5
    )
}

/// Characters UTS #46 certainly does not keep as they are: the C1
/// controls (disallowed) and the Latin-1 capitals (mapped to small
/// letters).  In a decoded A-label they make it invalid.
fn is_known_changed(c: char) -> bool {
    matches!(u32::from(c), 0x80..=0x9f | 0xc0..=0xd6 | 0xd8..=0xde)
}

/// `${domain_to_ascii{name}}`: an ASCII name unchanged (Postfix does not
/// convert it), any other converted to its A-label form.
pub fn domain_to_ascii(name: &[u8]) -> Converted {
    if !name.is_empty() && name.is_ascii() {
        return Converted::Name(name.to_vec());
    }
    to_ascii(name)
}

/// `${domain_to_utf8{name}}`: a name with non-ASCII bytes (or none at
/// all) unchanged, an ASCII one converted to its U-label form, which must
/// convert back to an ASCII one Postfix accepts.
pub fn domain_to_utf8(name: &[u8]) -> Converted {
    if name.is_empty() || !name.is_ascii() {
        return Converted::Name(name.to_vec());
    }
    if name.len() > LONGEST_NAME {
        return Converted::Unknown;
    }
    let text = std::str::from_utf8(name).expect("ASCII is UTF-8");
    let (unicode, problems) = match process(text, false) {
        Some(converted) => converted,
        None => return Converted::Unknown,
    };
    if !problems.is_empty() {
        return Converted::Bad(problem(
            "midna_domain_to_utf8_create",
            name,
            "UTF8",
            &problems.text(),
        ));
    }
    match to_ascii(unicode.as_bytes()) {
        Converted::Name(_) => Converted::Name(unicode.into_bytes()),
        other => other,
    }
}

/// Postfix's midna_domain_to_ascii(): the A-label form by UTS #46, which
/// must then pass valid_hostname().
fn to_ascii(name: &[u8]) -> Converted {
    let Ok(text) = std::str::from_utf8(name) else {
        return Converted::Bad(problem(
            "midna_domain_to_ascii_create",
            name,
            "ASCII",
            "malformed UTF-8",
        ));
    };
    if name.len() > LONGEST_NAME {
        return Converted::Unknown;
    }
    let (ascii, mut problems) = match process(text, true) {
        Some(converted) => converted,
        None => return Converted::Unknown,
    };
    if text.is_empty() {
        problems.add(Problem::EmptyLabel);
    }
    // The whole name, a final dot aside, at most 253 bytes.
    let len = ascii.len();
    if !problems.marked && (len > 254 || (len == 254 && !ascii.ends_with('.'))) {
        problems.add(Problem::DomainNameTooLong);
    }
    if !problems.is_empty() {
        return Converted::Bad(problem(
            "midna_domain_to_ascii_create",
            name,
            "ASCII",
            &problems.text(),
        ));
    }
    if !super::hostname::is_valid(ascii.as_bytes()) {
        return Converted::Bad(problem(
            "midna_domain_to_ascii_create",
            name,
            "ASCII",
            "malformed ASCII label(s)",
        ));
    }
    Converted::Name(ascii.into_bytes())
}

/// `<function>: Problem translating domain "<name, at most 100 bytes>" to
/// <form> form: <what>`.
fn problem(function: &str, name: &[u8], form: &str, what: &str) -> Vec<u8> {
    let mut msg = format!("{function}: Problem translating domain \"").into_bytes();
    msg.extend_from_slice(&name[..name.len().min(100)]);
    msg.extend_from_slice(format!("\" to {form} form: {what}").as_bytes());
    msg
}

/// UTS #46 processing of `name`, label by label, towards ASCII (A-labels)
/// or Unicode (U-labels): the result and the problems found, or `None` if
/// a character needs the tables.
fn process(name: &str, to_ascii: bool) -> Option<(String, Problems)> {
    // The mapping step: ASCII capitals become small letters; the other
    // characters we know are left as they are.
    if name.chars().any(|c| !c.is_ascii() && !is_known_valid(c)) {
        return None;
    }
    let mapped = name.to_ascii_lowercase();
    let mut problems = Problems::default();
    let mut out = Vec::new();
    let labels: Vec<&str> = mapped.split('.').collect();
    for (i, &label) in labels.iter().enumerate() {
        // A final empty label (a name ending in a dot) is the root, no
        // error; an empty name is caught by the caller.
        if label.is_empty() && i > 0 && i == labels.len() - 1 {
            out.push(String::new());
            continue;
        }
        out.push(process_label(label, to_ascii, &mut problems)?);
    }
    Some((out.join("."), problems))
}

/// One label; its converted form (meaningless if a problem was found).
fn process_label(label: &str, to_ascii: bool, problems: &mut Problems) -> Option<String> {
    let mut decoded = None;
    if let Some(encoded) = label.strip_prefix("xn--") {
        // An empty A-label, or one ending in '-' (it would decode to ASCII
        // alone), is an alternative spelling of an ASCII label: refused.
        if encoded.is_empty() || (encoded.len() > 1 && encoded.ends_with('-')) {
            problems.add(Problem::InvalidAceLabel);
            bad_ace_label(label, to_ascii, problems);
            return Some(label.to_string());
        }
        let Some(chars) = punycode_decode(encoded) else {
            problems.add(Problem::Punycode);
            bad_ace_label(label, to_ascii, problems);
            return Some(label.to_string());
        };
        // The decoded label must be as UTS #46 would map and normalize it.
        // ASCII capitals are not (the label was mapped to small letters
        // before it was decoded, so a capital came from the encoding).
        if chars
            .iter()
            .any(|&c| c.is_ascii_uppercase() || is_known_changed(c))
        {
            problems.add(Problem::InvalidAceLabel);
            bad_ace_label(label, to_ascii, problems);
            return Some(label.to_string());
        }
        if chars.iter().any(|&c| !c.is_ascii() && !is_known_valid(c)) {
            return None;
        }
        decoded = Some(chars.into_iter().collect::<String>());
    }
    let text = decoded.as_deref().unwrap_or(label);
    if text.is_empty() {
        problems.add(Problem::EmptyLabel);
        return Some(String::new());
    }
    let chars: Vec<char> = text.chars().collect();
    if chars.len() >= 4 && chars[2] == '-' && chars[3] == '-' {
        problems.add(Problem::Hyphen3And4);
    }
    if chars[0] == '-' {
        problems.add(Problem::LeadingHyphen);
    }
    if chars[chars.len() - 1] == '-' {
        problems.add(Problem::TrailingHyphen);
    }
    if !to_ascii {
        return Some(text.to_string());
    }
    // An A-label that decoded well is kept as it was written.
    let ascii = if decoded.is_some() {
        label.to_string()
    } else if text.is_ascii() {
        text.to_string()
    } else {
        format!("xn--{}", punycode_encode(&chars)?)
    };
    if ascii.len() > 63 {
        problems.add(Problem::LabelTooLong);
    }
    Some(ascii)
}

/// A refused A-label of letters, digits and hyphens only is marked (see
/// [`Problems::marked`]); towards ASCII, any other that is too long is
/// said to be so as well.
fn bad_ace_label(label: &str, to_ascii: bool, problems: &mut Problems) {
    let ldh_only = label[4..]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ldh_only {
        problems.marked = true;
    } else if to_ascii && label.is_ascii() && label.len() > 63 {
        problems.add(Problem::LabelTooLong);
    }
}

// RFC 3492 (Punycode) with the parameters of IDNA.
const BASE: u32 = 36;
const T_MIN: u32 = 1;
const T_MAX: u32 = 26;
const SKEW: u32 = 38;
const DAMP: u32 = 700;
const INITIAL_BIAS: u32 = 72;
const INITIAL_N: u32 = 128;
/// ICU computes in 32-bit signed integers and fails past this.
const MAX_INT: u32 = i32::MAX as u32;

fn adapt(delta: u32, points: u32, first: bool) -> u32 {
    let mut delta = if first { delta / DAMP } else { delta / 2 };
    delta += delta / points;
    let mut k = 0;
    while delta > ((BASE - T_MIN) * T_MAX) / 2 {
        delta /= BASE - T_MIN;
        k += BASE;
    }
    k + (BASE - T_MIN + 1) * delta / (delta + SKEW)
}

fn threshold(k: u32, bias: u32) -> u32 {
    if k <= bias {
        T_MIN
    } else if k >= bias + T_MAX {
        T_MAX
    } else {
        k - bias
    }
}

/// Decodes the part of an A-label after `xn--`; `None` for what ICU
/// refuses (a bad digit, a truncated number, an overflow, a code point
/// that is not a Unicode scalar value).
pub fn punycode_decode(encoded: &str) -> Option<Vec<char>> {
    let input = encoded.as_bytes();
    // The basic code points are those before the last delimiter.
    let basic = input.iter().rposition(|&b| b == b'-').unwrap_or(0);
    if !input[..basic].is_ascii() {
        return None;
    }
    let mut out: Vec<char> = input[..basic].iter().map(|&b| char::from(b)).collect();
    let mut pos = if basic > 0 { basic + 1 } else { 0 };
    let (mut n, mut i, mut bias) = (INITIAL_N, 0u32, INITIAL_BIAS);
    while pos < input.len() {
        let old_i = i;
        let mut w = 1u32;
        let mut k = BASE;
        loop {
            let digit = match *input.get(pos)? {
                b @ b'a'..=b'z' => u32::from(b - b'a'),
                b @ b'A'..=b'Z' => u32::from(b - b'A'),
                b @ b'0'..=b'9' => u32::from(b - b'0') + 26,
                _ => return None,
            };
            pos += 1;
            if digit > (MAX_INT - i) / w {
                return None;
            }
            i += digit * w;
            let t = threshold(k, bias);
            if digit < t {
                break;
            }
            if w > MAX_INT / (BASE - t) {
                return None;
            }
            w *= BASE - t;
            k += BASE;
        }
        let points = out.len() as u32 + 1;
        bias = adapt(i - old_i, points, old_i == 0);
        if i / points > MAX_INT - n {
            return None;
        }
        n += i / points;
        i %= points;
        out.insert(i as usize, char::from_u32(n)?);
        i += 1;
    }
    Some(out)
}

/// Encodes a label as the part of its A-label after `xn--`; `None` on
/// overflow (only for absurdly long labels).
pub fn punycode_encode(label: &[char]) -> Option<String> {
    let digit = |d: u32| {
        char::from(if d < 26 {
            b'a' + d as u8
        } else {
            b'0' + (d - 26) as u8
        })
    };
    let mut out: String = label.iter().filter(|c| c.is_ascii()).collect();
    let basic = out.len() as u32;
    if basic > 0 {
        out.push('-');
    }
    let (mut n, mut delta, mut bias) = (INITIAL_N, 0u32, INITIAL_BIAS);
    let mut handled = basic;
    while (handled as usize) < label.len() {
        let m = label
            .iter()
            .map(|&c| u32::from(c))
            .filter(|&c| c >= n)
            .min()?;
        delta = delta.checked_add((m - n).checked_mul(handled + 1)?)?;
        n = m;
        for &c in label {
            let c = u32::from(c);
            if c < n {
                delta = delta.checked_add(1)?;
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = threshold(k, bias);
                    if q < t {
                        break;
                    }
                    out.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out.push(digit(q));
                bias = adapt(delta, handled + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta = delta.checked_add(1)?;
        n += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(encoded: &str) -> Option<String> {
        punycode_decode(encoded).map(|c| c.into_iter().collect())
    }

    /// Samples of RFC 3492 section 7.1 and of real names.
    #[test]
    fn punycode_round_trips() {
        for (unicode, encoded) in [
            ("βόλοσ", "nxasmq6b"),
            ("βόλος", "nxasmm1c"),
            ("bücher", "bcher-kva"),
            ("ü", "tda"),
            ("ß", "zca"),
            ("他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"),
            (
                "почемужеонинеговорятпорусски",
                "b1abfaaepdrnnbgefbadotcwatmq2g4l",
            ),
            ("💩", "ls8h"),
        ] {
            assert_eq!(decoded(encoded).as_deref(), Some(unicode), "{encoded}");
            let chars: Vec<char> = unicode.chars().collect();
            assert_eq!(
                punycode_encode(&chars).as_deref(),
                Some(encoded),
                "{unicode}"
            );
        }
        assert_eq!(decoded("zz"), None);
        assert_eq!(decoded("-"), None);
        assert_eq!(decoded("a!"), None);
        assert_eq!(decoded("99999999999"), None);
    }

    fn ok(c: Converted) -> String {
        match c {
            Converted::Name(n) => String::from_utf8(n).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    fn bad(c: Converted) -> String {
        match c {
            Converted::Bad(w) => String::from_utf8(w).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    /// Postfix 3.11.7's answers (Debian sid, ICU 76).
    #[test]
    fn conversions_as_postfix_makes_them() {
        assert_eq!(ok(domain_to_ascii(b"ExAmple.COM")), "ExAmple.COM");
        assert_eq!(ok(domain_to_ascii(b"a..b")), "a..b");
        assert_eq!(ok(domain_to_ascii("é.com".as_bytes())), "xn--9ca.com");
        assert_eq!(
            bad(domain_to_ascii(b"")),
            "midna_domain_to_ascii_create: Problem translating domain \"\" to ASCII form: UIDNA_ERROR_EMPTY_LABEL"
        );
        assert_eq!(
            domain_to_ascii(b"\xff.com"),
            Converted::Bad(
                b"midna_domain_to_ascii_create: Problem translating domain \"\xff.com\" to ASCII form: malformed UTF-8"
                    .to_vec()
            )
        );
        assert_eq!(ok(domain_to_utf8(b"ExAmple.COM")), "example.com");
        assert_eq!(ok(domain_to_utf8(b"")), "");
        assert_eq!(ok(domain_to_utf8("é.com".as_bytes())), "é.com");
        assert_eq!(ok(domain_to_utf8(b"XN--NXASMQ6B.COM")), "βόλοσ.com");
        assert_eq!(ok(domain_to_utf8(b"a_b.com")), "a_b.com");
        assert_eq!(ok(domain_to_utf8(b"ab.c--d")), "ab.c--d");
        let utf8 = |name: &str, what: &str| {
            format!(
                "midna_domain_to_utf8_create: Problem translating domain \"{name}\" to UTF8 form: {what}"
            )
        };
        let ascii = |name: &str, what: &str| {
            format!(
                "midna_domain_to_ascii_create: Problem translating domain \"{name}\" to ASCII form: {what}"
            )
        };
        for (name, want) in [
            ("a..b", utf8("a..b", "UIDNA_ERROR_EMPTY_LABEL")),
            (".", utf8(".", "UIDNA_ERROR_EMPTY_LABEL")),
            (
                "-",
                utf8(
                    "-",
                    "UIDNA_ERROR_LEADING_HYPHEN,UIDNA_ERROR_TRAILING_HYPHEN",
                ),
            ),
            ("ab--c.d", utf8("ab--c.d", "UIDNA_ERROR_HYPHEN_3_4")),
            (
                "xn--a.com",
                utf8("xn--a.com", "UIDNA_ERROR_INVALID_ACE_LABEL"),
            ),
            (
                "xn--.com",
                utf8("xn--.com", "UIDNA_ERROR_INVALID_ACE_LABEL"),
            ),
            (
                "xn--abc-.com",
                utf8("xn--abc-.com", "UIDNA_ERROR_INVALID_ACE_LABEL"),
            ),
            ("xn--zz.com", utf8("xn--zz.com", "UIDNA_ERROR_PUNYCODE")),
            ("a.b.", ascii("a.b.", "malformed ASCII label(s)")),
            ("a!b.com", ascii("a!b.com", "malformed ASCII label(s)")),
            ("1.2.3.4", ascii("1.2.3.4", "malformed ASCII label(s)")),
            (
                &format!("{}.com", "a".repeat(64)),
                ascii(
                    &format!("{}.com", "a".repeat(64)),
                    "UIDNA_ERROR_LABEL_TOO_LONG",
                ),
            ),
        ] {
            assert_eq!(bad(domain_to_utf8(name.as_bytes())), want, "{name}");
        }
        assert_eq!(domain_to_utf8(b"xn--ls8h.la"), Converted::Unknown);
    }
}
