//! Random and mutated inputs for the fuzzers (`tests/fuzz_differential.rs`,
//! `tests/fuzz_panic.rs`): main.cf files (logical lines, continuations,
//! comments, NUL bytes, whitespace variants, duplicate names, unknown
//! names), `$name` expressions in every form Postfix knows, well-formed
//! and not, `postconf -e/-X/-#` requests, master.cf files and postmulti
//! command lines.  Everything comes from an [`Rng`], so a seed and an index
//! make an input again.

#![allow(dead_code)]

pub mod rng;

pub use rng::Rng;

/// Parameters every Postfix since 3.7 knows and accepts without a word
/// (the differential fuzzer keeps those its postconf confirms).  Not
/// `mynetworks`: its default ends in a blank that `postconf -d`, which the
/// differential fuzzer learns the defaults from, does not show; not
/// `mydomain`: postconf computes the default of `myhostname` from it.
pub const KNOWN: &[&str] = &[
    "relayhost",
    "mail_name",
    "myorigin",
    "myhostname",
    "smtpd_banner",
    "alias_maps",
    "inet_interfaces",
    "queue_directory",
    "data_directory",
    "multi_instance_name",
    "multi_instance_group",
    "multi_instance_enable",
    "multi_instance_directories",
    "multi_instance_wrapper",
    "compatibility_level",
    "syslog_name",
    "syslog_facility",
    "import_environment",
    "notify_classes",
    "default_transport",
    "maillog_file",
    "recipient_delimiter",
    "home_mailbox",
    "smtputf8_enable",
    "alternate_config_directories",
    "authorized_submit_users",
    "smtp_tls_CApath",
];

/// Parameters postconf warns about when main.cf sets them (read-only or
/// deprecated in some release).
pub const NOISY: &[&str] = &["process_name", "smtp_use_tls", "disable_dns_lookups"];

/// Names no Postfix knows: set in main.cf they are "unused" unless
/// referenced.
pub const USER: &[&str] = &["fz_a", "fz_b", "fz_c", "fz_d", "fz_e", "fz_f"];

/// Names that are never defined anywhere.
pub const UNDEFINED: &[&str] = &["fz_undef", "fz_nope"];

/// Names with bytes outside `[A-Za-z0-9_]`.
pub const WEIRD: &[&str] = &[
    "a-b",
    "x.y",
    "na\u{ef}ve",
    "{a}",
    "a?b",
    "a:b",
    "$fz_a",
    "a b",
    "9",
    "_",
    "A",
];

/// Where the names in an input come from.
#[derive(Debug, Clone)]
pub struct Names {
    pub known: Vec<Vec<u8>>,
    pub noisy: Vec<Vec<u8>>,
}

impl Default for Names {
    fn default() -> Names {
        Names {
            known: KNOWN.iter().map(|s| s.as_bytes().to_vec()).collect(),
            noisy: NOISY.iter().map(|s| s.as_bytes().to_vec()).collect(),
        }
    }
}

fn b(s: impl AsRef<[u8]>) -> Vec<u8> {
    s.as_ref().to_vec()
}

/// Whether an input may hold anything (`Wild`), or only what a tidy
/// administrator writes (`Clean`: known names, well-formed values, no
/// reader warnings), the kind postmulti reads in-process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Clean,
    Wild,
}

impl Names {
    /// A parameter name to set or refer to.
    pub fn name(&self, rng: &mut Rng, style: Style) -> Vec<u8> {
        let roll = rng.below(20);
        if style == Style::Clean {
            return if roll < 16 {
                rng.pick(&self.known).clone()
            } else {
                b(rng.pick(USER))
            };
        }
        match roll {
            0..=8 => rng.pick(&self.known).clone(),
            9..=14 => b(rng.pick(USER)),
            15 | 16 => b(rng.pick(UNDEFINED)),
            17 if !self.noisy.is_empty() => rng.pick(&self.noisy).clone(),
            18 => b("config_directory"),
            _ => b(rng.pick(WEIRD)),
        }
    }

    /// A name to refer to with `$name`.
    fn reference(&self, rng: &mut Rng, style: Style) -> Vec<u8> {
        match (style, rng.below(10)) {
            (Style::Clean, 0..=6) => rng.pick(&self.known).clone(),
            (Style::Clean, _) => b(rng.pick(USER)),
            (_, 0..=3) => rng.pick(&self.known).clone(),
            (_, 4..=6) => b(rng.pick(USER)),
            (_, 7..=8) => b(rng.pick(UNDEFINED)),
            _ => b(rng.pick(WEIRD)),
        }
    }

    /// A main.cf value: literal text and `$` expressions.
    pub fn value(&self, rng: &mut Rng, style: Style) -> Vec<u8> {
        let mut out = Vec::new();
        self.text(rng, style, 3, &mut out);
        out
    }

    /// Up to four pieces of text, nesting at most `depth` more levels.
    fn text(&self, rng: &mut Rng, style: Style, depth: u32, out: &mut Vec<u8>) {
        let pieces = rng.below(if depth == 3 { 5 } else { 3 });
        for _ in 0..pieces {
            if depth == 0 || rng.chance(2, 5) {
                literal(rng, style, out);
            } else {
                self.expression(rng, style, depth - 1, out);
            }
        }
    }

    /// A `{text}` operand.
    fn operand(&self, rng: &mut Rng, style: Style, depth: u32, out: &mut Vec<u8>) {
        out.push(b'{');
        if rng.chance(1, 4) {
            out.push(b' ');
        }
        if rng.chance(1, 3) {
            out.extend_from_slice(rng.choose(&[
                &b"1"[..],
                b"01",
                b"10",
                b"-1",
                b"3.11",
                b"3.9",
                b"3.10.2",
                b"0",
                b"2.x",
                b"1024",
                b"3.1024",
                b"",
            ]));
        } else {
            self.text(rng, style, depth, out);
        }
        if rng.chance(1, 4) {
            out.push(b' ');
        }
        out.push(b'}');
    }

    fn expression(&self, rng: &mut Rng, style: Style, depth: u32, out: &mut Vec<u8>) {
        let name = self.reference(rng, style);
        let ws = |rng: &mut Rng, out: &mut Vec<u8>| {
            if rng.chance(1, 4) {
                out.extend_from_slice(rng.choose(&[&b" "[..], b"  ", b"\t"]));
            }
        };
        let kinds = if style == Style::Clean { 9 } else { 13 };
        match rng.below(kinds) {
            0 | 1 => {
                out.push(b'$');
                out.extend_from_slice(&name);
            }
            2 => out.extend_from_slice(&[b"${".as_slice(), &name, b"}"].concat()),
            3 => out.extend_from_slice(&[b"$(".as_slice(), &name, b")"].concat()),
            4 | 5 => {
                // ${name?text} ${name:text} ${name?{t}:{f}} and the like
                let paren = rng.chance(1, 6);
                out.extend_from_slice(if paren { b"$(" } else { b"${" });
                ws(rng, out);
                out.extend_from_slice(&name);
                ws(rng, out);
                match rng.below(4) {
                    0 => {
                        out.push(b'?');
                        self.text(rng, style, depth, out);
                    }
                    1 => {
                        out.push(b':');
                        self.text(rng, style, depth, out);
                    }
                    2 => {
                        out.push(b'?');
                        ws(rng, out);
                        self.operand(rng, style, depth, out);
                        ws(rng, out);
                        out.push(b':');
                        ws(rng, out);
                        self.operand(rng, style, depth, out);
                        ws(rng, out);
                    }
                    _ => {
                        out.push(if rng.chance(1, 2) { b'?' } else { b':' });
                        ws(rng, out);
                        self.operand(rng, style, depth, out);
                        ws(rng, out);
                    }
                }
                out.push(if paren { b')' } else { b'}' });
            }
            6 | 7 => {
                // ${{a} OP {b} ? {t} : {f}}
                out.extend_from_slice(b"${");
                ws(rng, out);
                self.operand(rng, style, depth, out);
                ws(rng, out);
                let ops: &[&[u8]] = if style == Style::Clean {
                    &[
                        b"==", b"!=", b"<", b"<=", b">=", b">", b"<level", b">=level",
                    ]
                } else {
                    &[
                        b"==", b"!=", b"<", b"<=", b">=", b">", b"<level", b"<=level", b">level",
                        b"==level", b"=", b"<>", b"<lvl", b"=>", b"!", b"",
                    ]
                };
                out.extend_from_slice(rng.choose(ops));
                ws(rng, out);
                self.operand(rng, style, depth, out);
                ws(rng, out);
                match rng.below(4) {
                    0 => {}
                    1 => {
                        out.push(b'?');
                        ws(rng, out);
                        self.operand(rng, style, depth, out);
                        ws(rng, out);
                        out.push(b':');
                        ws(rng, out);
                        self.operand(rng, style, depth, out);
                    }
                    2 => {
                        out.push(b'?');
                        self.operand(rng, style, depth, out);
                    }
                    _ => {
                        out.push(b':');
                        self.operand(rng, style, depth, out);
                    }
                }
                ws(rng, out);
                out.push(b'}');
            }
            8 => out.extend_from_slice(b"$$"),
            9 => {
                // The named functions, and one that does not exist.
                out.extend_from_slice(b"${");
                out.extend_from_slice(rng.choose(&[
                    &b"domain_to_ascii"[..],
                    b"domain_to_utf8",
                    b"nofunc",
                ]));
                ws(rng, out);
                out.push(b'{');
                ws(rng, out);
                if rng.chance(1, 2) {
                    out.extend_from_slice(rng.choose(&[
                        &b"example.com"[..],
                        b"ExAmple.COM",
                        b"xn--nxasmq6b.com",
                        b"",
                        b"a..b",
                    ]));
                } else {
                    self.text(rng, style, depth, out);
                }
                ws(rng, out);
                out.push(b'}');
                if rng.chance(1, 5) {
                    out.extend_from_slice(b" x");
                }
                out.push(b'}');
            }
            _ => out.extend_from_slice(rng.choose(&[
                // Malformed on purpose.
                &b"$"[..],
                b"${",
                b"$(",
                b"${fz_a",
                b"$(fz_a",
                b"${}",
                b"$()",
                b"${a-b}",
                b"${fz_a?{x}y}",
                b"${fz_a:{x}y}",
                b"${fz_a?{x}:{y}z}",
                b"${{a}}",
                b"${{a} == {b} x}",
                b"${{a} == b}",
                b"${{a} ==}",
                b"${{a",
                b"}",
                b")",
                b"${ fz_a }",
                b"${fz_a }",
                b"${fz_a{x}}",
                b"${ {a} == {a} }",
                b"$fz_a$",
                b"${fz_a?}",
                b"${fz_a:}",
                b"${?x}",
                b"${:x}",
            ])),
        }
    }

    /// A main.cf file.
    pub fn main_cf(&self, rng: &mut Rng, style: Style) -> Vec<u8> {
        let mut out = Vec::new();
        let most = if rng.chance(1, 8) { 25 } else { 9 };
        let settings = rng.below(most);
        let mut set: Vec<Vec<u8>> = Vec::new();
        for _ in 0..settings {
            if style == Style::Wild {
                while rng.chance(1, 5) {
                    junk_line(rng, &mut out);
                }
            } else if rng.chance(1, 6) {
                out.extend_from_slice(rng.choose(&[&b"# comment\n"[..], b"\n", b"#\n"]));
            }
            // Often set a name again (duplicates, overriding).
            let name = if !set.is_empty() && rng.chance(1, 6) {
                rng.pick(&set).clone()
            } else {
                self.name(rng, style)
            };
            set.push(name.clone());
            out.extend_from_slice(&name);
            out.extend_from_slice(rng.choose(&[
                &b" = "[..],
                b"=",
                b" =",
                b"= ",
                b"\t=\t",
                b"  =  ",
            ]));
            let value = self.value(rng, style);
            // Continuation lines: the value broken at blanks.
            for (i, piece) in value.split(|&c| c == b' ').enumerate() {
                if i > 0 {
                    if rng.chance(1, 4) {
                        out.push(b'\n');
                        if style == Style::Wild && rng.chance(1, 4) {
                            junk_between(rng, &mut out);
                        }
                        out.extend_from_slice(rng.choose(&[&b" "[..], b"\t", b"    ", b" \t"]));
                    } else {
                        out.push(b' ');
                    }
                }
                out.extend_from_slice(piece);
            }
            if rng.chance(1, 6) {
                out.extend_from_slice(rng.choose(&[&b" "[..], b"\t", b" \r", b"  "]));
            }
            if style == Style::Wild && rng.chance(1, 20) {
                out.push(b'\r');
            }
            out.push(b'\n');
        }
        if style == Style::Wild {
            if rng.chance(1, 8) && out.last() == Some(&b'\n') {
                out.pop();
            }
            if rng.chance(1, 30) {
                out.push(0xff);
            }
            if rng.chance(1, 10) {
                let at = rng.below(out.len() + 1);
                out.insert(at, 0);
            }
        }
        out
    }

    /// A `postconf -e/-X/-#` request: the option and its arguments (no NUL
    /// bytes: an argv element cannot hold one).  `file` is the main.cf the
    /// request will edit, whose names it mostly picks.
    pub fn edit_request(&self, rng: &mut Rng, file: &[u8]) -> (&'static str, Vec<Vec<u8>>) {
        let mode = *rng.pick(&["-e", "-e", "-e", "-X", "-#"]);
        let names_in_file: Vec<Vec<u8>> = file
            .split(|&c| c == b'\n')
            .filter_map(|line| {
                let end = line
                    .iter()
                    .position(|c| b" \t\r=\0".contains(c))
                    .unwrap_or(line.len());
                (end > 0 && !line[0].is_ascii_whitespace() && line[0] != b'#')
                    .then(|| line[..end].to_vec())
            })
            .collect();
        let count = if rng.chance(1, 30) {
            0
        } else {
            1 + rng.below(4)
        };
        let mut args = Vec::new();
        let mut used: Vec<Vec<u8>> = Vec::new();
        for _ in 0..count {
            let name = if !used.is_empty() && rng.chance(1, 6) {
                rng.pick(&used).clone()
            } else if !names_in_file.is_empty() && rng.chance(2, 3) {
                rng.pick(&names_in_file).clone()
            } else {
                self.name(rng, Style::Wild)
            };
            used.push(name.clone());
            let mut arg = Vec::new();
            if rng.chance(1, 8) {
                arg.extend_from_slice(rng.choose(&[&b" "[..], b"\t", b"\x0b"]));
            }
            if rng.chance(1, 40) {
                arg.push(b'#');
            }
            arg.extend_from_slice(&name);
            if mode == "-e" || rng.chance(1, 15) {
                if rng.chance(1, 25) {
                    // no '='
                } else {
                    arg.extend_from_slice(rng.choose(&[&b"="[..], b" = ", b" =", b"= ", b"\t="]));
                    let value = self.value(rng, Style::Wild);
                    arg.extend_from_slice(&value);
                }
            }
            if rng.chance(1, 10) {
                arg.extend_from_slice(rng.choose(&[&b" "[..], b"\t", b" \r"]));
            }
            if rng.chance(1, 60) {
                arg.extend_from_slice(b"\nx = 1");
            }
            if rng.chance(1, 40) {
                arg = rng
                    .choose(&[&b""[..], b" ", b"=", b"=1", b"#", b"a b=1"])
                    .to_vec();
            }
            arg.retain(|&c| c != 0);
            args.push(arg);
        }
        (mode, args)
    }
}

/// Literal text: words, blanks, punctuation that means something to the
/// expander, bytes outside ASCII.
fn literal(rng: &mut Rng, style: Style, out: &mut Vec<u8>) {
    let clean: &[&[u8]] = &[
        b"x",
        b"yes",
        b"no",
        b"/var/spool/x",
        b"3.11",
        b"1",
        b"a b",
        b"mta",
        b"postfix-a",
        b"example.com",
        b"hash:/etc/aliases",
        b",",
        b"true",
        b" ",
    ];
    let wild: &[&[u8]] = &[
        b"  ",
        b"\t",
        b"{",
        b"}",
        b"(",
        b")",
        b"?",
        b":",
        b"=",
        b"#",
        b"01",
        b"-1",
        b"\xc3\xa9",
        b"\xff",
        b"\x01",
        b"\x0b",
        b"\r",
        b"ExAmple.COM",
        b"\"",
        b"\\",
        b"{}",
        b"{x}",
    ];
    if style == Style::Clean || rng.chance(1, 2) {
        out.extend_from_slice(rng.choose(clean));
    } else {
        out.extend_from_slice(rng.choose(wild));
    }
}

/// A line between settings in a wild file.
fn junk_line(rng: &mut Rng, out: &mut Vec<u8>) {
    out.extend_from_slice(rng.choose(&[
        &b"# a comment\n"[..],
        b"#\n",
        b"\n",
        b" \n",
        b"\t\n",
        b"\r\n",
        b"\x0b\n",
        b"\x0c\n",
        b"  # indented comment\n",
        b" leading = whitespace\n",
        b"\tcontinued text\n",
        b"no equals sign\n",
        b"= value without name\n",
        b"a b = c\n",
        b"fz_a\n",
        b"#x\0y\n",
        b"nul\0 = 1\n",
        b"fz_b = 1\0 2\n",
    ]));
}

/// A line inside a setting's continuation in a wild file.
fn junk_between(rng: &mut Rng, out: &mut Vec<u8>) {
    out.extend_from_slice(rng.choose(&[
        &b"# comment inside\n"[..],
        b"  # indented comment inside\n",
        b"\n",
        b" \n",
        b"\0\n",
    ]));
}

/// Changes a few bytes of `input`: flips, insertions of bytes that mean
/// something to the reader or the expander, deletions, duplications.
pub fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    let edits = 1 + rng.below(4);
    const TOKENS: &[&[u8]] = &[
        b"$", b"{", b"}", b"(", b")", b"?", b":", b"=", b"\n", b" ", b"\t", b"\0", b"#", b"\r",
        b"${", b"$(", b"\n ", b"\n#", b"\xff", b"{}", b"==", b"level",
    ];
    for _ in 0..edits {
        let at = rng.below(out.len() + 1);
        match rng.below(5) {
            0 if at < out.len() => out[at] ^= 1 << rng.below(8),
            1 if at < out.len() => {
                let len = 1 + rng.below(8.min(out.len() - at));
                out.drain(at..at + len);
            }
            2 if at < out.len() => {
                let len = 1 + rng.below(16.min(out.len() - at));
                let copy = out[at..at + len].to_vec();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, copy);
            }
            3 => {
                let byte = rng.byte();
                out.insert(at, byte);
            }
            _ => {
                let token = rng.pick(TOKENS);
                out.splice(at..at, token.iter().copied());
            }
        }
    }
    out
}

/// Random bytes, biased towards the ones parsers care about.
pub fn bytes(rng: &mut Rng, max: usize) -> Vec<u8> {
    let len = rng.below(max + 1);
    (0..len)
        .map(|_| match rng.below(4) {
            0 => rng.byte(),
            _ => *rng.pick(b"$${}()?:=# \t\n\r\0abcxyz_019.-,\xff\xc3\xa9"),
        })
        .collect()
}

/// A master.cf: service lines with eight or more fields, continuations,
/// comments, braces.
pub fn master_cf(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(6) {
        let fields: &[&[&[u8]]] = &[
            &[b"smtp", b"pickup", b"relay", b"a{b", b"-", b""],
            &[b"inet", b"unix", b"unix-dgram", b"fifo", b"pass", b"bogus"],
            &[b"n", b"y", b"-", b"x"],
            &[b"n", b"y", b"-"],
            &[b"n", b"y", b"-", b"yes"],
            &[b"-", b"60", b"60?", b"?", b"x"],
            &[b"-", b"1", b"100", b"1?"],
            &[b"smtpd", b"pickup", b"smtp", b"{x}"],
        ];
        for (i, choices) in fields.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(rng.choose(&[&b" "[..], b"\t", b"   "]));
            }
            out.extend_from_slice(rng.choose(choices));
        }
        while rng.chance(1, 3) {
            out.extend_from_slice(rng.choose(&[
                &b"\n  -o syslog_name=${multi_instance_name?{$multi_instance_name}:{postfix}}/$service_name"[..],
                b" -o a=b",
                b" -o { a = b }",
                b" { -o a=b }",
                b" }",
                b" {",
                b"\n# comment",
                b"\n\t-o x=${y",
            ]));
        }
        out.push(b'\n');
    }
    out
}

/// A postmulti command line (without argv[0]).
pub fn command_line(rng: &mut Rng) -> Vec<Vec<u8>> {
    const TOKENS: &[&[u8]] = &[
        b"-l",
        b"-p",
        b"-x",
        b"-e",
        b"-a",
        b"-g",
        b"-i",
        b"-j",
        b"-G",
        b"-I",
        b"-R",
        b"-v",
        b"-lv",
        b"-ajR",
        b"-einit",
        b"-gmta",
        b"-ipostfix-a",
        b"-",
        b"--",
        b"--help",
        b"--version",
        b"--bogus",
        b"--help=x",
        b"-q",
        b"-vvx",
        b"create",
        b"import",
        b"destroy",
        b"deport",
        b"enable",
        b"disable",
        b"assign",
        b"init",
        b"bogus",
        b"start",
        b"stop",
        b"postconf",
        b"-n",
        b"a=b",
        b"mta",
        b"postfix-a",
        b"",
        b"-e-",
        b"-I-",
        b"-G-",
    ];
    let count = rng.below(8);
    (0..count)
        .map(|_| {
            if rng.chance(1, 8) {
                bytes(rng, 6)
            } else {
                rng.pick(TOKENS).to_vec()
            }
        })
        .collect()
}

/// Realistic files to mutate: the pristine main.cf files of the test
/// roots and the edit corpus' inputs.
pub const CORPUS: &[&[u8]] = &[
    include_bytes!("../harness/pristine/sid.main.cf"),
    include_bytes!("../harness/pristine/trixie.main.cf"),
    include_bytes!("../harness/pristine/bookworm.main.cf"),
    include_bytes!("../harness/pristine/upstream.main.cf"),
    include_bytes!("../edit_golden/cases/continuation/main.cf"),
    include_bytes!("../edit_golden/cases/comment_in_continuation/main.cf"),
    include_bytes!("../edit_golden/cases/duplicates/main.cf"),
    include_bytes!("../edit_golden/cases/crlf/main.cf"),
];
