//! Minimal reproductions of what the differential fuzzer
//! (`tests/fuzz_differential.rs`, docs/fuzzing.md) found, each with the
//! real Postfix 3.11.7 postconf's behaviour recorded in it (Debian sid,
//! `postconf -c DIR ...` on the main.cf shown).
//!
//! Tests of disagreements not fixed yet are `#[ignore]`d (none today),
//! with what is wrong in their comment; the fuzzer counts each such kind
//! as "known" (`known_kind` there names these tests) and fails only on
//! new ones.
//! Run them with `cargo test --test fuzz_regressions -- --ignored`.  The
//! disagreements of `SilentMainCf` are unit tests in
//! `src/instance/secondary.rs` (they need the installation's parameter
//! names, which only unit tests can set).

use std::collections::HashMap;
use std::path::Path;

use postmulti::maincf::MainCf;
use postmulti::maincf::edit::{Dialect, EditMode, EditRequest, apply};
use postmulti::maincf::expand::expand;

const PATH: &str = "/tmp/fz/main.cf";

/// The defaults of Postfix 3.11 these tests refer to (`postconf -d`).
const DEFAULTS: &[(&str, &str)] = &[
    ("mail_name", "Postfix"),
    (
        "smtputf8_enable",
        "${{$compatibility_level} <level {1} ? {no} : {yes}}",
    ),
    ("compatibility_level", "0"),
];

/// `postconf -c /tmp/fz -hx NAME` as the expander computes it: the value
/// of `name` expanded with main.cf's settings and the defaults; the
/// warnings (printable) on failure.
fn hx(main_cf: &str, name: &str) -> Result<String, Vec<String>> {
    let cf = MainCf::parse(main_cf.as_bytes(), Path::new(PATH), &[], &mut |_| {}).unwrap();
    let defaults: HashMap<&[u8], &[u8]> = DEFAULTS
        .iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect();
    let setting = |n: &[u8]| cf.get(n).or_else(|| defaults.get(n).copied());
    let mut lookup = |n: &[u8]| setting(n).map(<[u8]>::to_vec);
    let raw = setting(name.as_bytes()).unwrap_or_default();
    match expand(raw, &mut lookup, true) {
        Ok(e) => Ok(String::from_utf8_lossy(&e.value).into_owned()),
        Err(e) => Err(e
            .warnings
            .iter()
            .map(|w| String::from_utf8_lossy(&postmulti::diag::printable(w, false)).into_owned())
            .collect()),
    }
}

/// What `postconf -c /tmp/fz <mode> ARGS` leaves in main.cf and prints
/// on standard error, as the editor predicts it.
fn edit(main_cf: &str, mode: EditMode, args: &[&str]) -> (String, String) {
    let line = |level: &str, text: &[u8]| {
        format!("postconf: {level}: {}\n", String::from_utf8_lossy(text))
    };
    match EditRequest::new(mode, args, Dialect::CURRENT) {
        Err(refusal) => {
            let mut err: String = refusal
                .warnings
                .iter()
                .map(|w| line("warning", w))
                .collect();
            if let Some(fatal) = &refusal.fatal {
                err.push_str(&line("fatal", fatal));
            }
            (main_cf.into(), err)
        }
        Ok((request, mut warnings)) => {
            let (out, more) = apply(main_cf.as_bytes(), PATH.as_bytes(), &request);
            warnings.extend(more);
            let err = warnings.iter().map(|w| line("warning", w)).collect();
            (String::from_utf8(out).unwrap(), err)
        }
    }
}

// ----------------------------------------------------------------- editor

/// `postconf -e a=1 a=2 b` prints the warning about the repeated name
/// before it gives up on `b`:
///
///     postconf: warning: ignoring earlier request: 'a = 1'
///     postconf: fatal: missing '=' after attribute name: "b"
///
/// (`EditRequest::new` used to return the fatal error alone.)
#[test]
fn edit_warnings_before_a_fatal_error() {
    assert_eq!(
        edit("a = 1\n", EditMode::Set, &["a=1", "a=2", "b"]),
        (
            "a = 1\n".into(),
            "postconf: warning: ignoring earlier request: 'a = 1'\n\
             postconf: fatal: missing '=' after attribute name: \"b\"\n"
                .into()
        )
    );
}

/// postconf reads a first argument holding '=' as an implicit -e
/// (`postconf name=value`), so with -X or -# it refuses the two modes
/// before it looks at the names:
///
///     $ postconf -X a=1        ->  postconf: fatal: specify one of -e, -X
///     $ postconf -# a=1 b      ->  postconf: fatal: specify one of -e, -#
///     $ postconf -X b a=1      ->  postconf: fatal: -X or -# requires parameter names without value
///
/// (Ours gave the last message in all three cases.)  Before 3.11 the
/// options are joined by a blank: `specify one of -e -X`.
#[test]
fn remove_or_comment_out_with_equals_in_the_first_name() {
    let fatal = |text: &str| ("a = 1\n".to_string(), format!("postconf: fatal: {text}\n"));
    assert_eq!(
        edit("a = 1\n", EditMode::Remove, &["b", "a=1"]),
        fatal("-X or -# requires parameter names without value")
    );
    assert_eq!(
        edit("a = 1\n", EditMode::Remove, &["a=1"]),
        fatal("specify one of -e, -X")
    );
    assert_eq!(
        edit("a = 1\n", EditMode::CommentOut, &["a=1", "b"]),
        fatal("specify one of -e, -#")
    );
}

// --------------------------------------------------------------- expander

/// `relayhost = ${{a} = {b}}`: Postfix's message has doubled quotes,
///
///     "==" or "!="" or "<"" or "<="" or ">="" or ">" expected at: "...a}>>>= {b}"
#[test]
fn relational_operator_message() {
    assert_eq!(
        hx("relayhost = ${{a} = {b}}\n", "relayhost"),
        Err(vec![
            r#""==" or "!="" or "<"" or "<="" or ">="" or ">" expected at: "...a}>>>= {b}""#.into()
        ])
    );
}

/// The nesting limit: Postfix counts every piece of text it expands,
/// literal or not, and names the one it stopped at; then the reference
/// that led there.  For `fz_a = mta$fz_a`, `postconf -hx relayhost` with
/// `relayhost = $fz_a` prints
///
///     unreasonable macro call nesting: "mta"
///     unreasonable macro call nesting: "fz_a"
///
/// and for `relayhost = ${relayhost?x}$relayhost`
///
///     unreasonable macro call nesting: "x"
///     unreasonable macro call nesting: "relayhost"
#[test]
fn nesting_limit_message() {
    assert_eq!(
        hx("fz_a = mta$fz_a\nrelayhost = $fz_a\n", "relayhost"),
        Err(vec![
            "unreasonable macro call nesting: \"mta\"".into(),
            "unreasonable macro call nesting: \"fz_a\"".into(),
        ])
    );
    assert_eq!(
        hx("relayhost = ${relayhost?x}$relayhost\n", "relayhost"),
        Err(vec![
            "unreasonable macro call nesting: \"x\"".into(),
            "unreasonable macro call nesting: \"relayhost\"".into(),
        ])
    );
}

/// What the fuzzer's nesting-limit cases came down to, in mac_expand():
///
/// - a relational operand (and a function's argument) is expanded by a
///   mac_expand() call of its own, whose count starts at zero:
///   `relayhost = ${{}>{mta}:{x}}${relayhost}` stops at the `:` branch,
///   `"x"`, never at the operand `mta`;
/// - once a token failed, mac_parse() stops at the next `${...}` (but goes
///   on through literal text and `$name`s, each warned about again on the
///   way back up): the `${relayhost}` above is not named, and
///   `relayhost = $relayhost x ${mail_name}` gives `"relayhost"`, then
///   `" x "` 102 times;
/// - a named function returns without giving its count back:
///   `relayhost = ${domain_to_ascii{a}}$relayhost` stops at `"relayhost"`,
///   and the 102nd function call of one value is the one named.
///
/// (expand() shared one count and error state with the operands, went on
/// past `${...}` and gave a function's count back.)
#[test]
fn nesting_counts_of_operands_braced_references_and_functions() {
    let nesting = |name: &str| format!("unreasonable macro call nesting: \"{name}\"");
    assert_eq!(
        hx("relayhost = ${{}>{mta}:{x}}${relayhost}\n", "relayhost"),
        Err(vec![nesting("x")])
    );
    let mut want = vec![nesting("relayhost")];
    want.extend(std::iter::repeat_n(nesting(" x "), 102));
    assert_eq!(
        hx("relayhost = $relayhost x ${mail_name}\n", "relayhost"),
        Err(want)
    );
    assert_eq!(
        hx("relayhost = ${domain_to_ascii{a}}$relayhost\n", "relayhost"),
        Err(vec![nesting("relayhost")])
    );
    let calls: String = (1..=102)
        .map(|i| format!("${{domain_to_ascii{{a{i}}}}}"))
        .collect();
    assert_eq!(
        hx(&format!("relayhost = {calls}\n"), "relayhost"),
        Err(vec![nesting("domain_to_ascii{a102}")])
    );
}

/// A `<level` comparison whose operand failed to expand is still made:
/// `relayhost = ${{x$} <level {1}}` gives (after the same warning from
/// postconf's scan of main.cf)
///
///     empty macro name: "x$"
///     malformed compatibility level syntax: "x"
///
/// (expand() stopped at the first; the fuzzer counted it as
/// "hx-gave-up-later".)  Postfix expands both operands, each on its own,
/// compares what they gave and only then looks at the errors.
#[test]
fn level_comparison_after_an_operand_error() {
    assert_eq!(
        hx("relayhost = ${{x$} <level {1}}\n", "relayhost"),
        Err(vec![
            "empty macro name: \"x$\"".into(),
            "malformed compatibility level syntax: \"x\"".into(),
        ])
    );
}

/// `${domain_to_ascii{ExAmple.COM}}`: postconf prints `ExAmple.COM`; an
/// ASCII name is left as it is, not lowercased.  `domain_to_utf8` does
/// convert an ASCII name (UTS #46 maps capitals to small letters):
/// `example.com`.  (Ours lowercased both.)
#[test]
fn domain_functions_keep_the_case_of_ascii_names() {
    assert_eq!(
        hx("relayhost = ${domain_to_ascii{ExAmple.COM}}\n", "relayhost"),
        Ok("ExAmple.COM".into())
    );
    assert_eq!(
        hx("relayhost = ${domain_to_utf8{ExAmple.COM}}\n", "relayhost"),
        Ok("example.com".into())
    );
}

/// postconf checks the name with IDNA rules and gives up on a bad one:
///
///     relayhost = ${domain_to_ascii{}}
///     warning: midna_domain_to_ascii_create: Problem translating domain "" to ASCII form: UIDNA_ERROR_EMPTY_LABEL
///     warning: bad domain argument in: 'domain_to_ascii{}'
///     fatal: macro processing error
///
///     relayhost = ${domain_to_utf8{a..b}}
///     warning: midna_domain_to_utf8_create: Problem translating domain "a..b" to UTF8 form: UIDNA_ERROR_EMPTY_LABEL
///     warning: bad domain argument in: 'domain_to_utf8{a..b}'
///
/// (`${domain_to_ascii{a..b}}` passes: `a..b`.)  A name that converts must
/// convert back to one valid_hostname() accepts:
///
///     relayhost = ${domain_to_utf8{1.2.3.4}}
///     warning: midna_domain_to_ascii_create: Problem translating domain "1.2.3.4" to ASCII form: malformed ASCII label(s)
///     warning: bad domain argument in: 'domain_to_utf8{1.2.3.4}'
///
/// (Ours passed them all.)
#[test]
fn domain_functions_refuse_bad_names() {
    let bad = |value: &str| hx(&format!("relayhost = {value}\n"), "relayhost");
    assert_eq!(
        bad("${domain_to_ascii{}}"),
        Err(vec![
            "midna_domain_to_ascii_create: Problem translating domain \"\" to ASCII form: UIDNA_ERROR_EMPTY_LABEL".into(),
            "bad domain argument in: 'domain_to_ascii{}'".into(),
        ])
    );
    assert_eq!(
        bad("${domain_to_utf8{a..b}}"),
        Err(vec![
            "midna_domain_to_utf8_create: Problem translating domain \"a..b\" to UTF8 form: UIDNA_ERROR_EMPTY_LABEL".into(),
            "bad domain argument in: 'domain_to_utf8{a..b}'".into(),
        ])
    );
    assert_eq!(bad("${domain_to_ascii{a..b}}"), Ok("a..b".into()));
    assert_eq!(
        bad("${domain_to_utf8{1.2.3.4}}"),
        Err(vec![
            "midna_domain_to_ascii_create: Problem translating domain \"1.2.3.4\" to ASCII form: malformed ASCII label(s)".into(),
            "bad domain argument in: 'domain_to_utf8{1.2.3.4}'".into(),
        ])
    );
}

/// `${domain_to_utf8{xn--nxasmq6b.com}}` is `βόλοσ.com` to postconf, and
/// `${domain_to_ascii{é.com}}` is `xn--9ca.com`.  (Ours passed the A-label
/// unconverted and refused the U-label.)
#[test]
fn domain_functions_convert_between_a_labels_and_u_labels() {
    assert_eq!(
        hx(
            "relayhost = ${domain_to_utf8{xn--nxasmq6b.com}}\n",
            "relayhost"
        ),
        Ok("βόλοσ.com".into())
    );
    assert_eq!(
        hx("relayhost = ${domain_to_ascii{é.com}}\n", "relayhost"),
        Ok("xn--9ca.com".into())
    );
}

/// Postfix 3.11.7's postconf dies of a stack overflow (SIGSEGV) on
/// `relayhost = ${{$relayhost} == {x}}`, even with `postconf -h`: its
/// nesting limit does not reach into relational operands.  Ours stops at
/// the limit.
#[test]
fn self_reference_in_a_relational_operand_stops_at_the_nesting_limit() {
    let got = hx("relayhost = ${{$relayhost} == {x}}\n", "relayhost");
    let warnings = got.unwrap_err();
    assert!(
        warnings[0].starts_with("unreasonable macro call nesting: "),
        "{warnings:?}"
    );
}
