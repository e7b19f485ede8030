//! Reading a secondary instance's main.cf in-process, with the semantics of
//! `postconf -xc <dir> queue_directory data_directory multi_instance_name
//! multi_instance_group multi_instance_enable`.
//!
//! postconf also reports, on stderr, every main.cf parameter it does not
//! know, deprecated parameters, references to undefined parameters, a
//! missing master.cf and syntax problems.  Rather than imitate each of those
//! messages, [`read_in_process`] answers only for files that would make
//! postconf print nothing at all, and returns `None` for anything else, so
//! that the caller runs the real postconf and its diagnostics are exact.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::maincf::MainCf;
use crate::maincf::defaults;
use crate::maincf::expand;
use crate::maincf::mastercf::master_cf_is_plain;
use crate::maincf::regular;
use crate::msg;

/// The parameters postmulti asks postconf for, in its order.
pub const PARAMETERS: [&str; 5] = [
    "queue_directory",
    "data_directory",
    "multi_instance_name",
    "multi_instance_group",
    "multi_instance_enable",
];

/// The five parameters postmulti needs from a secondary main.cf, expanded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecondaryValues {
    pub queue_directory: Vec<u8>,
    pub data_directory: Vec<u8>,
    pub multi_instance_name: Vec<u8>,
    pub multi_instance_group: Vec<u8>,
    pub multi_instance_enable: Vec<u8>,
}

/// The five values, or `None` where only postconf itself can answer
/// exactly (including every case in which postconf prints anything).
pub fn read_in_process(dir: &[u8]) -> Option<SecondaryValues> {
    let [
        queue_directory,
        data_directory,
        multi_instance_name,
        multi_instance_group,
        multi_instance_enable,
    ] = query_in_process(dir, PARAMETERS)?;
    Some(SecondaryValues {
        queue_directory,
        data_directory,
        multi_instance_name,
        multi_instance_group,
        multi_instance_enable,
    })
}

/// What `postconf -xc <dir> -h <names>` prints for each name, if postconf
/// would print nothing else (no warning of any kind); `None` otherwise.
pub fn query_in_process<const N: usize>(dir: &[u8], names: [&str; N]) -> Option<[Vec<u8>; N]> {
    let cf = SilentMainCf::read(dir)?;
    let values: Vec<Vec<u8>> = names
        .iter()
        .map(|n| cf.expanded(n))
        .collect::<Option<_>>()?;
    values.try_into().ok()
}

/// Refuses a FIFO or device in place of `<dir>/main.cf` or
/// `<dir>/master.cf`, before a postconf that would wait on it for ever is
/// run: `open <file>: not a regular file`.
pub fn refuse_special_files(dir: &[u8]) -> Result<()> {
    for file in [&b"/main.cf"[..], b"/master.cf"] {
        let file = msg!(dir, file);
        regular::refuse_special(Path::new(OsStr::from_bytes(&file)))
            .map_err(|e| Error::io("open", &file, e))?;
    }
    Ok(())
}

/// A main.cf (with its master.cf) about which postconf would print no
/// warning at all: every parameter known, no syntax problem, a plain
/// master.cf.
pub struct SilentMainCf {
    cf: MainCf,
}

impl SilentMainCf {
    /// `<dir>/main.cf` with `<dir>/master.cf`; `None` if either cannot be
    /// read or postconf would have something to say about them.
    pub fn read(dir: &[u8]) -> Option<SilentMainCf> {
        let content = regular::read(Path::new(OsStr::from_bytes(&msg!(dir, b"/main.cf")))).ok()?;
        let master = regular::read(Path::new(OsStr::from_bytes(&msg!(dir, b"/master.cf")))).ok()?;
        SilentMainCf::parse(dir, &content, &master)
    }

    /// `content` and `master` as they are (or will be) in `dir`; `None` if
    /// postconf would have something to say about them.
    pub fn parse(dir: &[u8], content: &[u8], master: &[u8]) -> Option<SilentMainCf> {
        if !master_cf_is_plain(master) {
            return None;
        }
        let main_cf = PathBuf::from(OsStr::from_bytes(&msg!(dir, b"/main.cf")));
        let mut clean = true;
        let seed: [(&[u8], &[u8]); 1] = [(b"config_directory", dir)];
        let cf = MainCf::parse(content, &main_cf, &seed, &mut |_| clean = false).ok()?;
        let installation = crate::config::installation::current()?;
        let known =
            |n: &[u8]| n == b"config_directory" || installation.accepts_quietly(n) == Some(true);
        let all_known = cf.names().all(known);
        // A value may refer quietly to a name it may not set ($process_name).
        let referable = |n: &[u8]| n == b"config_directory" || installation.knows(n) == Some(true);
        let defined = |n: &[u8]| cf.get(n).is_some() || referable(n);
        // Recursion goes through what main.cf sets and through defaults
        // that refer to other parameters (smtpd_banner's to mail_name, say).
        let value_of = |n: &[u8]| match cf.get(n) {
            Some(value) => Some(value.to_vec()),
            None => referable(n).then(|| references_of_default(n)),
        };
        let values_quiet = cf
            .names()
            .all(|n| value_is_quiet(cf.get(n).unwrap_or_default(), &defined, &value_of));
        // postconf expands with the installation's defaults, of which we
        // carry a few; any other stands for a word, or for nothing.
        let words_quiet = cf.names().all(|n| {
            [&b"x"[..], b""].iter().all(|stand_in| {
                let mut lookup = |n: &[u8]| {
                    defaults::setting(&cf, n)
                        .map(<[u8]>::to_vec)
                        .or_else(|| referable(n).then(|| stand_in.to_vec()))
                };
                expand::expand(cf.get(n).unwrap_or_default(), &mut lookup, true)
                    .is_ok_and(|e| words_are_quiet(&e.value))
            })
        });
        let silent = SilentMainCf { cf };
        (clean && all_known && values_quiet && words_quiet && silent.start_up_values_pass())
            .then_some(silent)
    }

    /// Whether the values postconf itself checks when it starts (the
    /// compatibility level other defaults compare with, the network
    /// settings it resolves, the domain it derives from the host name,
    /// the style it computes mynetworks by) are ones it passes without a
    /// word: a plain level, known protocol names, interfaces that are
    /// `all`, `loopback-only` or numeric addresses (a host name may not
    /// resolve), a plain domain, a plain style.  The first three must be
    /// literal: postconf expands them as the dictionary stands when it
    /// reaches them, before most defaults are in it, which is not what
    /// [`Self::expanded`] sees.
    fn start_up_values_pass(&self) -> bool {
        let tokens = |name: &str| -> Option<Vec<Vec<u8>>> {
            let value = self.expanded(name)?;
            Some(
                value
                    .split(|b| b" \t\r\n,".contains(b))
                    .filter(|t| !t.is_empty())
                    .map(<[u8]>::to_vec)
                    .collect(),
            )
        };
        let set = |name: &str| self.cf.get(name.as_bytes()).is_some();
        let literal = ["compatibility_level", "inet_protocols", "inet_interfaces"]
            .iter()
            .all(|name| {
                self.cf
                    .get(name.as_bytes())
                    .is_none_or(|v| !v.contains(&b'$'))
            });
        let level_passes = !set("compatibility_level")
            || self
                .expanded("compatibility_level")
                .is_some_and(|l| expand::parse_compatibility_level(&l).is_some());
        let protocols_pass = !set("inet_protocols")
            || tokens("inet_protocols").is_some_and(|t| {
                t.iter()
                    .all(|p| [&b"all"[..], b"ipv4", b"ipv6"].contains(&p.as_slice()))
            });
        let interfaces_pass = !set("inet_interfaces")
            || tokens("inet_interfaces").is_some_and(|t| {
                t.iter().all(|i| {
                    i == b"all"
                        || i == b"loopback-only"
                        || std::str::from_utf8(i)
                            .is_ok_and(|a| a.parse::<std::net::IpAddr>().is_ok())
                })
            });
        // Without a mydomain, postconf takes what follows the first dot of
        // myhostname, and expands it: it must be plain text.
        let mydomain_passes = set("mydomain")
            || !set("myhostname")
            || self.expanded("myhostname").is_some_and(|host| {
                host.iter()
                    .position(|&b| b == b'.')
                    .is_none_or(|dot| !host[dot + 1..].contains(&b'$'))
            });
        // Without a mynetworks, postconf computes one from the style, which
        // must name one known style ("unknown mynetworks mask style
        // value").
        let style_passes = !set("mynetworks_style")
            || set("mynetworks")
            || self
                .cf
                .get(b"mynetworks_style")
                .is_some_and(|style| [&b"host"[..], b"subnet", b"class"].contains(&style));
        literal
            && level_passes
            && protocols_pass
            && interfaces_pass
            && mydomain_passes
            && style_passes
    }

    /// `postconf -h name`: the setting, else the default, unexpanded.
    pub fn raw(&self, name: &str) -> Option<Vec<u8>> {
        defaults::setting(&self.cf, name.as_bytes()).map(collapse_whitespace)
    }

    /// Whether main.cf itself sets `name` (`postconf -n`).
    pub fn is_set(&self, name: &str) -> bool {
        self.cf.get(name.as_bytes()).is_some()
    }

    /// `postconf -hx name`; `None` where a reference is to a name that is
    /// neither set nor known to us (a default we do not carry, or an
    /// "undefined parameter" warning).
    pub fn expanded(&self, name: &str) -> Option<Vec<u8>> {
        self.expanded_with(name, &|_| None)
    }

    /// [`Self::expanded`], with `more` supplying defaults we do not carry.
    pub fn expanded_with(
        &self,
        name: &str,
        more: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
    ) -> Option<Vec<u8>> {
        expanded_in(&self.cf, name, more)
    }
}

/// The names each parameter's default refers to, where it refers to any
/// (see the file's head).
const DEFAULT_REFERENCES: &str = include_str!("../data/default-references.txt");

/// A stand-in for the default of `name` that refers to what the default
/// refers to (`$a $b`), or nothing: enough to follow recursion through
/// defaults we do not carry.
fn references_of_default(name: &[u8]) -> Vec<u8> {
    DEFAULT_REFERENCES
        .lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let mut words = line.split_whitespace();
            (words.next()?.as_bytes() == name)
                .then(|| words.flat_map(|r| msg!(b"$", r, b" ")).collect::<Vec<u8>>())
        })
        .unwrap_or_default()
}

/// Lookup tables whose configuration files postconf opens and checks, with
/// warnings of their own.
const CONFIGURED_TABLES: [&[u8]; 5] = [b"ldap:", b"mysql:", b"pgsql:", b"sqlite:", b"memcache:"];

/// Whether postconf's scan of a value would say nothing: every `$name` it
/// refers to defined, no macro syntax error (in either branch of a
/// `?`/`:`), no endless recursion through the values it refers to, no
/// table whose configuration postconf checks.
fn value_is_quiet(
    value: &[u8],
    defined: &dyn Fn(&[u8]) -> bool,
    value_of: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
) -> bool {
    if CONFIGURED_TABLES
        .iter()
        .any(|t| value.windows(t.len()).any(|w| w == *t))
    {
        return false;
    }
    // postconf's own scan: both branches of every conditional, relational
    // ones included.
    let mut lookup = |n: &[u8]| defined(n).then(Vec::new);
    let scanned = expand::scan(value, &mut lookup).is_ok_and(|e| e.undefined.is_empty());
    let mut lookup = |n: &[u8]| value_of(n);
    scanned && expand::expand(value, &mut lookup, true).is_ok_and(|e| e.undefined.is_empty())
}

/// Whether postconf's look for legacy database parameters in an expanded
/// value (pcf_register_dbms_parameters()) finds nothing to warn about.  It
/// splits the value into words at commas and blanks, `{...}` quoting, and
/// warns about a word that starts with `#` ("#comment after other text is
/// not allowed") and about a `{...}` word, or a `type:{...}`, that is
/// unbalanced or followed by more text ("missing '}'", "syntax error after
/// '}'"); it looks inside the braces again.
fn words_are_quiet(value: &[u8]) -> bool {
    words(value).into_iter().all(|word| {
        if word[0] == b'#' {
            return false;
        }
        if word[0] == b'{' {
            return braced(word).is_some_and(words_are_quiet);
        }
        // Past the wrappers `proxy:` and `debug:`, the text after `type:`.
        let mut rest = word;
        loop {
            let Some(colon) = rest.iter().position(|&b| b == b':') else {
                return true;
            };
            let (kind, after) = (&rest[..colon], &rest[colon + 1..]);
            if kind == b"proxy" || kind == b"debug" {
                rest = after;
                continue;
            }
            return after.first() != Some(&b'{') || braced(after).is_some_and(words_are_quiet);
        }
    })
}

/// The words of a value as Postfix's mystrtokq() splits it: at commas and
/// blanks outside braces.
fn words(value: &[u8]) -> Vec<&[u8]> {
    let is_separator = |b: u8| b", \t\r\n".contains(&b);
    let mut words = Vec::new();
    let mut i = 0;
    while i < value.len() {
        if is_separator(value[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut level = 0;
        while i < value.len() {
            match value[i] {
                b'{' => level += 1,
                b'}' if level > 0 => level -= 1,
                b if level == 0 && is_separator(b) => break,
                _ => {}
            }
            i += 1;
        }
        words.push(&value[start..i]);
    }
    words
}

/// The text inside `{...}` if `text` is exactly one balanced `{...}`.
fn braced(text: &[u8]) -> Option<&[u8]> {
    let mut level = 0;
    for (i, &b) in text.iter().enumerate() {
        match b {
            b'{' => level += 1,
            b'}' => {
                level -= 1;
                if level == 0 {
                    return (i + 1 == text.len()).then(|| &text[1..i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The queue and data directories `<dir>/main.cf` names, expanded as
/// `postconf -xh` would print them, whatever postconf would say about the
/// file besides; `None` if it cannot be read or parsed, or a reference in
/// them is undefined.
pub fn directories(dir: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let main_cf = PathBuf::from(OsStr::from_bytes(&msg!(dir, b"/main.cf")));
    let content = regular::read(&main_cf).ok()?;
    let seed: [(&[u8], &[u8]); 1] = [(b"config_directory", dir)];
    let cf = MainCf::parse(&content, &main_cf, &seed, &mut |_| {}).ok()?;
    let expanded = |name| expanded_in(&cf, name, &|_| None);
    Some((expanded("queue_directory")?, expanded("data_directory")?))
}

/// `postconf -xh name` of `cf`, with `more` supplying defaults we do not
/// carry; `None` where a reference is undefined.
fn expanded_in(
    cf: &MainCf,
    name: &str,
    more: &dyn Fn(&[u8]) -> Option<Vec<u8>>,
) -> Option<Vec<u8>> {
    let setting = |n: &[u8]| defaults::setting(cf, n).map(<[u8]>::to_vec);
    let raw = setting(name.as_bytes()).or_else(|| more(name.as_bytes()))?;
    let mut lookup = |n: &[u8]| setting(n).or_else(|| more(n));
    let expanded = expand::expand(&raw, &mut lookup, true).ok()?;
    expanded
        .undefined
        .is_empty()
        .then(|| collapse_whitespace(&expanded.value))
}

/// postconf prints values with every run of space, tab, CR and LF turned
/// into one space, and none at either end.
fn collapse_whitespace(value: &[u8]) -> Vec<u8> {
    value
        .split(|b| b" \t\r\n".contains(b))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(&b' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn instance(main_cf: &str, master_cf: Option<&str>) -> (tempfile::TempDir, Vec<u8>) {
        crate::config::installation::for_tests();
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("main.cf"), main_cf).unwrap();
        if let Some(m) = master_cf {
            fs::write(dir.path().join("master.cf"), m).unwrap();
        }
        let path = dir.path().as_os_str().as_bytes().to_vec();
        (dir, path)
    }

    const MASTER: &str = "smtp      inet  n       -       y       -       -       smtpd\n\
                          pickup    unix  n       -       y       60      1       pickup\n\
                          relay     unix  -       -       n       -       -       smtp\n        \
                          -o syslog_name=${multi_instance_name?{$multi_instance_name}:{postfix}}/$service_name\n";

    #[test]
    fn plain_instance_is_read_in_process() {
        let (_d, dir) = instance(
            "queue_directory = /var/spool/postfix-a\ndata_directory = /var/lib/postfix-a\n\
             multi_instance_name = postfix-a\nmulti_instance_group   =  mta  \n\
             multi_instance_enable = yes\nmaster_service_disable = inet\n",
            Some(MASTER),
        );
        let v = read_in_process(&dir).unwrap();
        assert_eq!(v.queue_directory, b"/var/spool/postfix-a");
        assert_eq!(v.multi_instance_group, b"mta");
        assert_eq!(v.multi_instance_enable, b"yes");
    }

    #[test]
    fn defaults_and_references_are_expanded() {
        let (_d, dir) = instance(
            "queue_directory = $config_directory/q\nmulti_instance_group = ${multi_instance_name}-grp\n\
             multi_instance_name = postfix-a\n",
            Some(MASTER),
        );
        let v = read_in_process(&dir).unwrap();
        let mut q = dir.clone();
        q.extend_from_slice(b"/q");
        assert_eq!(v.queue_directory, q);
        assert_eq!(
            v.data_directory,
            defaults::default_value(b"data_directory").unwrap()
        );
        assert_eq!(v.multi_instance_group, b"postfix-a-grp");
        assert_eq!(v.multi_instance_enable, b"no");
    }

    #[test]
    fn references_to_read_only_parameters_are_quiet() {
        // Debian 12's main.cf sets debugger_command so.
        let (_d, dir) = instance(
            "debugger_command =\n\t PATH=/bin:/usr/bin\n\t ddd $daemon_directory/$process_name \
             $process_id & sleep 5\nqueue_directory = /q\n",
            Some(MASTER),
        );
        assert_eq!(read_in_process(&dir).unwrap().queue_directory, b"/q");
        let (_d, dir) = instance("process_name = x\n", Some(MASTER));
        assert_eq!(read_in_process(&dir), None);
    }

    #[test]
    fn anything_postconf_would_mention_goes_to_postconf() {
        let cases: [(&str, Option<&str>); 8] = [
            ("queue_directory = /q\n", None),
            ("unknown_thing = 1\n", Some(MASTER)),
            ("smtpd_use_tls = yes\n", Some(MASTER)),
            ("multi_instance_name = $undefined\n", Some(MASTER)),
            (" x = 1\nqueue_directory = /q\n", Some(MASTER)),
            ("queue_directory = /q\nqueue_directory = /r\n", Some(MASTER)),
            (
                "queue_directory = /q\n",
                Some("smtp inet n - y - - smtpd -o {a = b}\n"),
            ),
            (
                "queue_directory = /q\n",
                Some("smtp inet n - y - - smtpd -o a=${b\n"),
            ),
        ];
        for (main_cf, master_cf) in cases {
            let (_d, dir) = instance(main_cf, master_cf);
            assert_eq!(read_in_process(&dir), None, "{main_cf:?}");
        }
    }

    /// Found by tests/fuzz_differential.rs (docs/fuzzing.md): main.cf
    /// files that set only parameters Postfix knows, whose five values
    /// expand without a word, and about which Postfix 3.11.7's
    /// `postconf -xc DIR -h queue_directory data_directory
    /// multi_instance_name multi_instance_group multi_instance_enable`
    /// still says something, because it scans and evaluates every value of
    /// main.cf, not only those it prints:
    ///
    /// * `relayhost = $fz_undef`: `warning: DIR/main.cf: undefined
    ///   parameter: fz_undef` (the five values follow);
    /// * `relayhost = ${mail_name:$}`: `warning: empty macro name: "$"` (a
    ///   branch expansion does not take is still scanned);
    /// * `relayhost = ${x`: `warning: truncated macro reference: "${x"`,
    ///   twice, then `fatal: macro processing error`;
    /// * `compatibility_level = junk`: `warning: malformed compatibility
    ///   level syntax: "junk"`, `fatal: macro processing error`;
    /// * `inet_interfaces = x`: `fatal: config variable inet_interfaces:
    ///   host not found: x`.
    ///
    /// SilentMainCf must answer for none, so that postmulti passes on
    /// postconf's words; it still answers for the plain forms of those
    /// values.
    #[test]
    fn silent_main_cf_looks_at_every_value() {
        for plain in [
            "compatibility_level = 3.6\n",
            "inet_interfaces = 127.0.0.1, ::1\n",
            "inet_interfaces = loopback-only\ninet_protocols = ipv4\n",
            "mynetworks_style = subnet\n",
            "mynetworks_style = x\nmynetworks = 127.0.0.1\n",
        ] {
            assert!(
                read_in_process(&instance(plain, Some("")).1).is_some(),
                "{plain:?}"
            );
        }
        let answered: Vec<&str> = [
            "relayhost = $fz_undef\n",
            "relayhost = ${mail_name:$}\n",
            "relayhost = ${x\n",
            "compatibility_level = junk\n",
            "inet_interfaces = x\n",
            "inet_protocols = bogus\n",
            // postconf's scan takes both branches of a relational
            // conditional: "undefined parameter: fz_b".
            "maillog_file = ${{} != {} ? {${fz_b:x}} : {1}}\n",
            // Its look for database parameters in expanded values:
            // "#comment after other text is not allowed: #01 ...",
            // "syntax error after '}' in \"{x}smtp\"",
            // "syntax error after '}' in \"{a}b\"".
            "import_environment = #01\n",
            "mail_name = {x}$default_transport\n",
            "relayhost = inet:{a}b\n",
            // Recursion through a default we do not carry: smtpd_banner's
            // refers to mail_name ("unreasonable macro call nesting").
            "mail_name = $smtpd_banner\n",
            // mydomain's default is what follows myhostname's first dot,
            // expanded: "empty macro name: \"11$\"".
            "myhostname = 3.11$$\n",
            "mynetworks_style = HOST\n",
            // Start-up values expanded before the defaults they refer to
            // are in the dictionary: "malformed compatibility level
            // syntax: \"3.10.2 \"", and "parameter inet_interfaces: no
            // local interface found for 3.0.0.9" (data_directory is not
            // defined yet, so the second branch).
            "maillog_file = x\ncompatibility_level = ${\n\t maillog_file?{3.10.2 }:{}}\n",
            "inet_interfaces = ${data_directory?{all}:{3.9}}\n",
        ]
        .into_iter()
        .filter(|main_cf| read_in_process(&instance(main_cf, Some("")).1).is_some())
        .collect();
        assert!(answered.is_empty(), "answered in-process: {answered:?}");
    }

    #[test]
    fn whitespace_is_collapsed() {
        assert_eq!(collapse_whitespace(b" a \t b\r\n c "), b"a b c");
        assert_eq!(collapse_whitespace(b"a\x0bb"), b"a\x0bb");
    }
}
