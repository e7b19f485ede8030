//! `$name` expansion of main.cf values with Postfix's semantics: `$$`,
//! `$name`, `${name}`, `$(name)`, `${name?text}`, `${name:text}`, the
//! `{text}` operand forms with `?:`, relational `${{a} == {b} ? {t} : {f}}`,
//! the named functions of 3.11, and the same syntax errors, warnings and
//! nesting limit as `mac_parse()` / `mac_expand()`.

use super::Syntax;
use super::idna::{self, Converted};
use super::parse::is_space;

/// Where expanded names get their values.
pub trait Lookup {
    /// The raw (unexpanded) value of `name`, or `None` if it is undefined.
    fn lookup(&mut self, name: &[u8]) -> Option<Vec<u8>>;
}

impl<F: FnMut(&[u8]) -> Option<Vec<u8>>> Lookup for F {
    fn lookup(&mut self, name: &[u8]) -> Option<Vec<u8>> {
        self(name)
    }
}

/// The result of an expansion that failed: the warnings Postfix prints
/// before it gives up (`truncated macro reference: "..."` and the like).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandError {
    pub warnings: Vec<Vec<u8>>,
}

/// A successful expansion, with the names that were referenced but
/// undefined (postconf warns about those).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    pub value: Vec<u8>,
    pub undefined: Vec<Vec<u8>>,
}

const NESTING_LIMIT: usize = 100;
const WHITESPACE: &[u8] = b" \t\r\n";

/// How deep `parse` may recurse in all, across the fresh counts of
/// relational operands and function arguments.  Postfix has no such limit:
/// its count starts again in each operand, so a self-reference through an
/// operand overflows its stack (it dies of SIGSEGV).  Ours stops there with
/// a nesting warning instead, its stack safe (a few hundred KiB at this
/// depth).  Short of such a self-reference, getting this deep takes
/// operands nested four deep, each at the end of a chain of a hundred
/// references.
const DEPTH_LIMIT: usize = 400;

struct Context<'a, L: Lookup> {
    lookup: &'a mut L,
    recursive: bool,
    /// MAC_EXP_FLAG_SCAN: see [`scan`].
    scan: bool,
    /// Whether `${name{text}}` calls a function (see [`Syntax`]).
    named_functions: bool,
    /// mac_expand's nesting count: one per token being expanded; a token
    /// that fails returns without giving its count back, as in Postfix.
    /// Relational operands and function arguments are expanded by a
    /// mac_expand() call of their own, which counts from zero.
    level: usize,
    /// Whether an error was found in this mac_expand() call: later tokens
    /// are not expanded (but still counted, and so may add nesting
    /// warnings).
    failed: bool,
    /// How deep `parse` is, over all the calls (see DEPTH_LIMIT).
    depth: usize,
    /// DEPTH_LIMIT was reached: everything stops.
    aborted: bool,
    warnings: Vec<Vec<u8>>,
    undefined: Vec<Vec<u8>>,
}

/// Whether a reference that was expanded gives its nesting count back.
enum Done {
    Release,
    /// Postfix's callback returns from a named function before it counts
    /// down, whether the function succeeded or not.
    Hold,
}

/// Expands `pattern`; with `recursive`, values of referenced names are
/// expanded in turn (as the mail_conf library and `postconf -x` do).
pub fn expand<L: Lookup>(
    pattern: &[u8],
    lookup: &mut L,
    recursive: bool,
) -> Result<Expanded, ExpandError> {
    expand_as(pattern, lookup, recursive, Syntax::installed())
}

/// [`expand`] as the release of `syntax` expands.
pub fn expand_as<L: Lookup>(
    pattern: &[u8],
    lookup: &mut L,
    recursive: bool,
    syntax: Syntax,
) -> Result<Expanded, ExpandError> {
    run(pattern, lookup, recursive, false, syntax)
}

/// postconf's scan of a value (mac_expand() with MAC_EXP_FLAG_SCAN, how
/// it finds the names a value refers to): every reference is looked up and
/// both branches of every conditional parsed, but no value is expanded in
/// turn, no comparison made and no function called.  The names found
/// undefined (postconf warns about each), or the syntax errors.  The
/// value is meaningless.
pub fn scan<L: Lookup>(pattern: &[u8], lookup: &mut L) -> Result<Expanded, ExpandError> {
    run(pattern, lookup, false, true, Syntax::installed())
}

fn run<L: Lookup>(
    pattern: &[u8],
    lookup: &mut L,
    recursive: bool,
    scan: bool,
    syntax: Syntax,
) -> Result<Expanded, ExpandError> {
    // Most values refer to nothing; only `$` starts anything.
    if !pattern.contains(&b'$') {
        return Ok(Expanded {
            value: pattern.to_vec(),
            undefined: Vec::new(),
        });
    }
    let mut ctx = Context {
        lookup,
        recursive,
        scan,
        named_functions: syntax.named_functions,
        level: 0,
        failed: false,
        depth: 0,
        aborted: false,
        warnings: Vec::new(),
        undefined: Vec::new(),
    };
    let mut out = Vec::new();
    match ctx.parse(pattern, &mut out) {
        Ok(()) => Ok(Expanded {
            value: out,
            undefined: ctx.undefined,
        }),
        Err(()) => Err(ExpandError {
            warnings: ctx.warnings,
        }),
    }
}

type Step = Result<(), ()>;

fn quoted(prefix: &str, text: &[u8]) -> Vec<u8> {
    let mut msg = prefix.as_bytes().to_vec();
    msg.push(b'"');
    msg.extend_from_slice(text);
    msg.push(b'"');
    msg
}

/// `%.20s`: at most 20 bytes.
fn at_most_20(text: &[u8]) -> &[u8] {
    &text[..text.len().min(20)]
}

fn skip_whitespace(text: &[u8]) -> usize {
    text.iter().take_while(|b| WHITESPACE.contains(b)).count()
}

fn trim_end_spaces(text: &[u8]) -> &[u8] {
    let len = text.len() - text.iter().rev().take_while(|&&b| is_space(b)).count();
    &text[..len]
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<L: Lookup> Context<'_, L> {
    fn error<T>(&mut self, msg: Vec<u8>) -> Result<T, ()> {
        self.warnings.push(msg);
        self.failed = true;
        Err(())
    }

    /// mac_expand's check on entering a token: too deep is an error, and
    /// after an error nothing more is expanded.
    fn enter(&mut self, token: &[u8]) -> bool {
        let too_deep = self.level > NESTING_LIMIT;
        self.level += 1;
        if too_deep {
            self.warnings
                .push(quoted("unreasonable macro call nesting: ", token));
            self.failed = true;
        }
        !self.failed
    }

    fn literal(&mut self, text: &[u8], out: &mut Vec<u8>) {
        if self.enter(text) {
            out.extend_from_slice(text);
            self.level -= 1;
        }
    }

    fn expression(&mut self, expr: &[u8], out: &mut Vec<u8>) {
        if self.enter(expr) && matches!(self.reference(expr, out), Ok(Done::Release)) {
            self.level -= 1;
        }
    }

    /// Expands `text` as a mac_expand() call of its own, as Postfix does
    /// for relational operands and function arguments: its nesting count
    /// and error state start afresh, and its error becomes ours.  Returns
    /// whether it failed.
    fn separately(&mut self, text: &[u8], out: &mut Vec<u8>) -> bool {
        let level = std::mem::replace(&mut self.level, 0);
        let failed = std::mem::replace(&mut self.failed, false);
        let _ = self.parse(text, out);
        let failed_here = self.failed;
        self.level = level;
        self.failed = failed || failed_here;
        failed_here
    }

    /// Splits `value` into literal text and `$` references (mac_parse()),
    /// going on after a token fails through literal text and `$name`s (each
    /// may add a nesting warning) up to the next `${...}` or `$(...)`; the
    /// text after the last reference is expanded only if all is well.
    fn parse(&mut self, value: &[u8], out: &mut Vec<u8>) -> Step {
        if self.aborted {
            self.failed = true;
            return Err(());
        }
        if self.depth >= DEPTH_LIMIT {
            self.aborted = true;
            return self.error(quoted("unreasonable macro call nesting: ", value));
        }
        self.depth += 1;
        let step = self.parse_tokens(value, out);
        self.depth -= 1;
        step
    }

    fn parse_tokens(&mut self, value: &[u8], out: &mut Vec<u8>) -> Step {
        let mut literal = Vec::new();
        let mut i = 0;
        while i < value.len() {
            if value[i] != b'$' {
                literal.push(value[i]);
                i += 1;
                continue;
            }
            if value.get(i + 1) == Some(&b'$') {
                literal.push(b'$');
                i += 2;
                continue;
            }
            if !literal.is_empty() {
                self.literal(&literal, out);
                literal.clear();
            }
            i += 1;
            let name: &[u8];
            match value.get(i) {
                Some(&open @ (b'{' | b'(')) => {
                    let close = if open == b'{' { b'}' } else { b')' };
                    let start = i + 1;
                    let mut depth = 1;
                    let mut end = start;
                    loop {
                        let Some(&b) = value.get(end) else {
                            return self.error(quoted("truncated macro reference: ", value));
                        };
                        if b == open {
                            depth += 1;
                        } else if b == close {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        end += 1;
                    }
                    name = &value[start..end];
                    i = end + 1;
                    // mac_parse() stops at a `${...}` or `$(...)` once a
                    // token has failed (it goes on through `$name`s).
                    if self.failed {
                        return Err(());
                    }
                }
                _ => {
                    let len = value[i..].iter().take_while(|&&b| is_name_byte(b)).count();
                    name = &value[i..i + len];
                    i += len;
                }
            }
            if name.is_empty() {
                return self.error(quoted("empty macro name: ", value));
            }
            self.expression(name, out);
        }
        if !literal.is_empty() && !self.failed {
            self.literal(&literal, out);
        }
        if self.failed { Err(()) } else { Ok(()) }
    }

    /// Extracts a `{...}` operand starting at `text[0] == '{'`; returns the
    /// payload and the rest after trailing whitespace.
    fn curly<'t>(&mut self, text: &'t [u8], strip: bool) -> Result<(&'t [u8], &'t [u8]), ()> {
        let mut start = 1;
        if strip {
            start += skip_whitespace(&text[1..]);
        }
        let mut depth = 1;
        let mut end = start;
        loop {
            match text.get(end) {
                None => {
                    return self.error(quoted("unbalanced {} in attribute expression: ", text));
                }
                Some(b'{') => depth += 1,
                Some(b'}') => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            end += 1;
        }
        let mut payload = &text[start..end];
        let mut rest = &text[end + 1..];
        if strip {
            // Postfix strips the leading blanks of its own set, the trailing
            // ones of isspace()'s (vertical tab and form feed too).
            payload = trim_end_spaces(payload);
            // Told to trim an empty payload, trimblanks() measures the
            // string itself and trims the end of the expression instead.
            if start == end {
                rest = trim_end_spaces(rest);
            }
        }
        Ok((payload, &rest[skip_whitespace(rest)..]))
    }

    /// Expands one reference: the text between `${` and `}` or after `$`.
    /// `Err` when it fails itself; a failure inside a value it expands
    /// does not stop it (Postfix goes on to check what follows).
    fn reference(&mut self, expr: &[u8], out: &mut Vec<u8>) -> Result<Done, ()> {
        let lead = skip_whitespace(expr);
        let (value, op, rest): (Option<Vec<u8>>, u8, &[u8]);
        if expr.get(lead) == Some(&b'{') {
            let (truth, after) = self.relational(&expr[lead..])?;
            // Not evaluated in a scan: undefined, so both branches are taken.
            value = truth.map(|t| if t { b"true".to_vec() } else { Vec::new() });
            match after.first() {
                None => (op, rest) = (0, after),
                Some(&c @ (b'?' | b':')) => (op, rest) = (c, &after[1..]),
                Some(_) => {
                    let mut msg = b"\"?\" or \":\" expected at: \"...}>>>".to_vec();
                    msg.extend_from_slice(at_most_20(after));
                    msg.push(b'"');
                    return self.error(msg);
                }
            }
        } else {
            let start = lead;
            let mut pos = start;
            loop {
                let ws = skip_whitespace(&expr[pos..]);
                match expr.get(pos + ws) {
                    None => {
                        (op, rest) = (0, &expr[expr.len()..]);
                        break;
                    }
                    Some(&c @ (b'?' | b':')) => {
                        (op, rest) = (c, &expr[pos + ws + 1..]);
                        break;
                    }
                    Some(b'{') if self.named_functions => {
                        self.function(&expr[start..pos], &expr[pos + ws..], out)?;
                        return Ok(Done::Hold);
                    }
                    _ => {}
                }
                if !is_name_byte(expr[pos]) {
                    let mut msg = b"attribute name syntax error at: \"...".to_vec();
                    msg.extend_from_slice(&expr[..pos]);
                    msg.extend_from_slice(b">>>");
                    msg.extend_from_slice(at_most_20(&expr[pos..]));
                    msg.push(b'"');
                    return self.error(msg);
                }
                pos += 1;
            }
            let name = &expr[start..pos];
            value = self.lookup.lookup(name);
            if value.is_none() {
                self.undefined.push(name.to_vec());
            }
        }
        let non_empty = value.as_ref().is_some_and(|v| !v.is_empty());
        let mut rest = rest;
        if op == b'?' {
            let if_true;
            if rest.get(skip_whitespace(rest)) == Some(&b'{') {
                let (payload, after) = self.curly(&rest[skip_whitespace(rest)..], false)?;
                (if_true, rest) = (payload, after);
            } else {
                (if_true, rest) = (rest, &rest[rest.len()..]);
            }
            if non_empty || self.scan {
                let _ = self.parse(if_true, out);
            }
            if !rest.is_empty() {
                if rest[0] != b':' {
                    let mut msg = b"\":\" expected at: \"...".to_vec();
                    msg.extend_from_slice(if_true);
                    msg.extend_from_slice(b"}>>>");
                    msg.extend_from_slice(at_most_20(rest));
                    msg.push(b'"');
                    return self.error(msg);
                }
                rest = &rest[1..];
                self.otherwise(rest, non_empty, out)?;
            }
        } else if op == b':' {
            self.otherwise(rest, non_empty, out)?;
        } else if let Some(v) = value.filter(|v| !v.is_empty() && !self.scan) {
            if self.recursive {
                let _ = self.parse(&v, out);
            } else {
                out.extend_from_slice(&v);
            }
        }
        Ok(Done::Release)
    }

    /// The `:text` part: expanded when the tested value is empty.
    fn otherwise(&mut self, rest: &[u8], non_empty: bool, out: &mut Vec<u8>) -> Step {
        let (if_false, after);
        if rest.get(skip_whitespace(rest)) == Some(&b'{') {
            (if_false, after) = self.curly(&rest[skip_whitespace(rest)..], false)?;
        } else {
            (if_false, after) = (rest, &rest[rest.len()..]);
        }
        if !non_empty || self.scan {
            let _ = self.parse(if_false, out);
        }
        if !after.is_empty() {
            let mut msg = b"unexpected input at: \"...".to_vec();
            msg.extend_from_slice(if_false);
            msg.extend_from_slice(b"}>>>");
            msg.extend_from_slice(at_most_20(after));
            msg.push(b'"');
            return self.error(msg);
        }
        Ok(())
    }

    /// `{left} OP {right}`; returns the truth value (none in a scan) and
    /// the text after it.
    fn relational<'t>(&mut self, text: &'t [u8]) -> Result<(Option<bool>, &'t [u8]), ()> {
        let (left, after) = self.curly(text, false)?;
        let op_len = after
            .iter()
            .take_while(|b| b"<>!=?+-*/~&|%".contains(b))
            .count();
        let op = &after[..op_len];
        if !matches!(op, b"==" | b"!=" | b"<" | b"<=" | b">=" | b">") {
            // The doubled quotes are Postfix's own.
            let mut msg =
                b"\"==\" or \"!=\"\" or \"<\"\" or \"<=\"\" or \">=\"\" or \">\" expected at: \"..."
                    .to_vec();
            msg.extend_from_slice(left);
            msg.extend_from_slice(b"}>>>");
            msg.extend_from_slice(at_most_20(after));
            msg.push(b'"');
            return self.error(msg);
        }
        let mut after_op = &after[op_len..];
        // A suffix names another kind of comparison; Postfix registers one,
        // `level` (compatibility levels: `<=level`, `>level`, ...).
        let suffix_len = after_op
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let levels = suffix_len > 0;
        if levels {
            let suffix = &after_op[..suffix_len];
            if suffix != b"level" {
                let mut msg = b"bad operator suffix at: \"...".to_vec();
                msg.extend_from_slice(op);
                msg.extend_from_slice(b">>>");
                msg.extend_from_slice(suffix);
                msg.push(b'"');
                return self.error(msg);
            }
            after_op = &after_op[suffix_len..];
        }
        let ws = skip_whitespace(after_op);
        if after_op.get(ws) != Some(&b'{') {
            let mut msg = b"\"{expression}\" expected at: \"...{".to_vec();
            msg.extend_from_slice(left);
            msg.extend_from_slice(b"} ");
            msg.extend_from_slice(op);
            msg.extend_from_slice(b">>>");
            msg.extend_from_slice(at_most_20(after_op));
            msg.push(b'"');
            return self.error(msg);
        }
        let (right, rest) = self.curly(&after_op[ws..], false)?;
        // Both operands are expanded, whatever becomes of the first, and
        // then compared, as far as they got, before Postfix looks at the
        // errors: a malformed level is warned about after an operand's
        // own error.
        let mut l = Vec::new();
        let mut r = Vec::new();
        let left_failed = self.separately(left, &mut l);
        let right_failed = self.separately(right, &mut r);
        if self.aborted {
            return Err(());
        }
        if self.scan {
            return if left_failed || right_failed {
                Err(())
            } else {
                Ok((None, rest))
            };
        }
        let ordering = if levels {
            match self.compatibility_level(&l) {
                Some(a) => self.compatibility_level(&r).map(|b| a.cmp(&b)),
                None => None,
            }
        } else if is_number(&l) && is_number(&r) {
            match (parse_long(&l), parse_long(&r)) {
                (Some(a), Some(b)) => Some(a.cmp(&b)),
                _ => Some(l.cmp(&r)),
            }
        } else {
            Some(l.cmp(&r))
        };
        let Some(ordering) = ordering.filter(|_| !left_failed && !right_failed) else {
            return Err(());
        };
        use std::cmp::Ordering::*;
        let truth = match op {
            b"==" => ordering == Equal,
            b"!=" => ordering != Equal,
            b"<" => ordering == Less,
            b"<=" => ordering != Greater,
            b">=" => ordering != Less,
            _ => ordering == Greater,
        };
        Ok((Some(truth), rest))
    }

    /// A compatibility level, `major[.minor[.patch]]`, as one comparable
    /// number; `None` (with Postfix's warning) if it is malformed.
    fn compatibility_level(&mut self, text: &[u8]) -> Option<(u64, u64, u64)> {
        let level = parse_compatibility_level(text);
        if level.is_none() {
            self.warnings
                .push(quoted("malformed compatibility level syntax: ", text));
            self.failed = true;
        }
        level
    }

    /// `${name{text}}`: the named functions of Postfix 3.11.
    fn function(&mut self, name: &[u8], text: &[u8], out: &mut Vec<u8>) -> Step {
        let (arg, after) = self.curly(text, true)?;
        if !after.is_empty() {
            let mut msg = b"unexpected input at: \"...".to_vec();
            msg.extend_from_slice(arg);
            msg.extend_from_slice(b"}>>>");
            msg.extend_from_slice(at_most_20(after));
            msg.push(b'"');
            return self.error(msg);
        }
        if name != b"domain_to_ascii" && name != b"domain_to_utf8" {
            let mut msg = b"unknown function \"".to_vec();
            msg.extend_from_slice(name);
            msg.extend_from_slice(b"\" at\"...>>>");
            msg.extend_from_slice(name);
            msg.push(b'{');
            msg.extend_from_slice(arg);
            msg.extend_from_slice(b"}\"");
            return self.error(msg);
        }
        let mut value = Vec::new();
        if self.separately(arg, &mut value) {
            return Err(());
        }
        if self.scan {
            return Ok(());
        }
        let converted = if name == b"domain_to_ascii" {
            idna::domain_to_ascii(&value)
        } else {
            idna::domain_to_utf8(&value)
        };
        match converted {
            Converted::Name(converted) => {
                out.extend_from_slice(&converted);
                Ok(())
            }
            Converted::Bad(problem) => {
                self.warnings.push(problem);
                let mut msg = b"bad domain argument in: '".to_vec();
                msg.extend_from_slice(name);
                msg.push(b'{');
                msg.extend_from_slice(&value);
                msg.extend_from_slice(b"}'");
                self.error(msg)
            }
            // Would need the UTS #46 tables, which we do not carry: refuse
            // rather than guess.
            Converted::Unknown => self.error(quoted("cannot convert domain name: ", &value)),
        }
    }
}

/// `major[.minor[.patch]]` as compat_level_from_string() reads it: each
/// part a decimal number (strtol: leading blanks and a sign allowed) with
/// minor and patch at most 1023, missing parts zero.
pub fn parse_compatibility_level(text: &[u8]) -> Option<(u64, u64, u64)> {
    let mut parts = text.split(|&b| b == b'.');
    let number = |part: &[u8], max: u64| -> Option<u64> {
        let part = std::str::from_utf8(part).ok()?;
        let digits = part.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
        let digits = digits.strip_prefix('+').unwrap_or(digits);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<u64>().ok().filter(|&n| n <= max)
    };
    let major = number(parts.next()?, (i64::MAX >> 20) as u64)?;
    let minor = parts.next().map_or(Some(0), |p| number(p, 1023))?;
    let patch = parts.next().map_or(Some(0), |p| number(p, 1023))?;
    if parts.next().is_some() {
        return None;
    }
    Some((major, minor, patch))
}

fn is_number(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

fn parse_long(s: &[u8]) -> Option<i64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(table: &[(&str, &str)], pattern: &str) -> Result<String, Vec<String>> {
        let map: HashMap<Vec<u8>, Vec<u8>> = table
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        let mut lookup = |name: &[u8]| map.get(name).cloned();
        match expand(pattern.as_bytes(), &mut lookup, true) {
            Ok(e) => Ok(String::from_utf8(e.value).unwrap()),
            Err(e) => Err(e
                .warnings
                .into_iter()
                .map(|w| String::from_utf8(w).unwrap())
                .collect()),
        }
    }

    #[test]
    fn plain_references() {
        let t = [("a", "x"), ("b", "$a-y"), ("empty", "")];
        assert_eq!(with(&t, "$a ${a} $(a) $b"), Ok("x x x x-y".into()));
        assert_eq!(with(&t, "$$a"), Ok("$a".into()));
        assert_eq!(with(&t, "$undefined."), Ok(".".into()));
        assert_eq!(with(&t, "${config_directory}-b"), Ok("-b".into()));
    }

    #[test]
    fn conditionals() {
        let t = [("a", "x"), ("empty", "")];
        assert_eq!(with(&t, "${a?yes}"), Ok("yes".into()));
        assert_eq!(with(&t, "${empty?yes}"), Ok("".into()));
        assert_eq!(with(&t, "${empty:no}"), Ok("no".into()));
        assert_eq!(with(&t, "${a:no}"), Ok("".into()));
        assert_eq!(with(&t, "${a?{$a}:{postfix}}"), Ok("x".into()));
        assert_eq!(with(&t, "${nope?{$a}:{postfix}}"), Ok("postfix".into()));
        assert_eq!(with(&t, "${a ? {t} : {f}}"), Ok("t".into()));
        assert_eq!(with(&t, "${a??foo:{b}ar}"), Ok("?foo:{b}ar".into()));
    }

    #[test]
    fn relational() {
        let t = [("level", "3.11")];
        assert_eq!(with(&t, "${{10} < {9} ? {a} : {b}}"), Ok("b".into()));
        assert_eq!(with(&t, "${{$level} == {3.11}?{y}:{n}}"), Ok("y".into()));
        assert_eq!(with(&t, "${{a} == {a}}"), Ok("true".into()));
    }

    #[test]
    fn compatibility_level_comparisons() {
        let smtputf8 = "${{$compatibility_level} <level {1} ? {no} : {yes}}";
        for (level, want) in [("0", "no"), ("1", "yes"), ("3.11", "yes"), ("0.9", "no")] {
            let t = [("compatibility_level", level)];
            assert_eq!(with(&t, smtputf8), Ok(want.into()), "{level}");
        }
        let t = [("l", "3.9")];
        assert_eq!(
            with(&t, "${{$l} <level {3.10} ? {old} : {new}}"),
            Ok("old".into())
        );
        assert_eq!(
            with(&t, "${{$l} < {3.10} ? {old} : {new}}"),
            Ok("new".into())
        );
        assert_eq!(
            with(&[], "${{a} <=level {1}}"),
            Err(vec!["malformed compatibility level syntax: \"a\"".into()])
        );
        assert_eq!(
            with(&[], "${{1} <lvl {1}}"),
            Err(vec!["bad operator suffix at: \"...<>>>lvl\"".into()])
        );
    }

    /// A function's argument loses its leading blanks (space, tab, CR,
    /// LF) and its trailing isspace() ones; an argument left empty has the
    /// end of the expression trimmed instead (Postfix 3.11.7's answers).
    #[test]
    fn function_arguments_are_trimmed_as_postfix_trims_them() {
        assert_eq!(with(&[], "${domain_to_utf8{\t\x0b}}"), Ok("".into()));
        assert_eq!(
            with(&[], "${domain_to_ascii{ } x }"),
            Err(vec!["unexpected input at: \"...}>>>x\"".into()])
        );
        assert_eq!(
            with(&[], "${domain_to_ascii{a} x }"),
            Err(vec!["unexpected input at: \"...a}>>>x \"".into()])
        );
    }

    /// Before 3.11 there are no named functions: the `{` is a syntax error.
    #[test]
    fn named_functions_are_new_in_3_11() {
        let mut lookup = |_: &[u8]| None;
        let old = expand_as(
            b"${domain_to_ascii {x}}",
            &mut lookup,
            true,
            Syntax::of_release(3, 10),
        );
        assert_eq!(
            old.unwrap_err().warnings,
            vec![b"attribute name syntax error at: \"...domain_to_ascii>>> {x}\"".to_vec()]
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            with(&[], "${foo"),
            Err(vec!["truncated macro reference: \"${foo\"".into()])
        );
        assert_eq!(
            with(&[], "abc$"),
            Err(vec!["empty macro name: \"abc$\"".into()])
        );
        assert_eq!(
            with(&[], "${a-b}"),
            Err(vec!["attribute name syntax error at: \"...a>>>-b\"".into()])
        );
        assert_eq!(
            with(&[("a", "$a")], "$a"),
            Err(vec!["unreasonable macro call nesting: \"a\"".into()])
        );
    }

    /// A scan looks at every reference, in both branches of every
    /// conditional, relational ones too, and in function arguments,
    /// without comparing, converting or expanding values in turn.
    #[test]
    fn a_scan_finds_every_reference() {
        let mut lookup = |n: &[u8]| (n == b"set").then(|| b"$inner".to_vec());
        let undefined = |pattern: &str, lookup: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>| {
            let e = scan(pattern.as_bytes(), &mut |n: &[u8]| lookup(n)).unwrap();
            e.undefined
                .into_iter()
                .map(|n| String::from_utf8(n).unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            undefined("${{$l} <level {x} ? {$t} : {$f}} $set", &mut lookup),
            ["l", "t", "f"]
        );
        assert_eq!(
            undefined(
                "${set?$t:$f}${nope:{$g}}${domain_to_ascii{$d}}",
                &mut lookup
            ),
            ["t", "f", "nope", "g", "d"]
        );
        assert_eq!(
            scan(b"${set?{x}:{${y}", &mut lookup).unwrap_err().warnings,
            vec![b"truncated macro reference: \"${set?{x}:{${y}\"".to_vec()]
        );
    }

    /// Past the nesting limit, Postfix goes on through the rest of the
    /// value it was expanding, and each token it meets adds a warning; the
    /// text after the last reference is not expanded at all.
    #[test]
    fn deep_recursion_warns_for_each_token_left() {
        let table = [
            ("mail_name", "$smtpd_banner"),
            ("smtpd_banner", "$myhostname ESMTP $mail_name (Debian/GNU)"),
            ("myhostname", "mail.example"),
        ];
        // mail_name's value, as the library expands it.
        assert_eq!(
            with(&table, "$smtpd_banner"),
            Err(vec![
                "unreasonable macro call nesting: \"myhostname\"".into(),
                "unreasonable macro call nesting: \" ESMTP \"".into(),
                "unreasonable macro call nesting: \"mail_name\"".into(),
            ])
        );
    }
}
