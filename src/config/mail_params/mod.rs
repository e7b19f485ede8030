//! What Postfix 3.11's mail_params_init() checks before postmulti looks at
//! its options: every parameter of the library's tables looked up in the
//! dictionary as it grows, converted and range-checked in table order, and
//! the special checks in their places (syslog facility, protocols, host
//! and domain names, myorigin, users and groups, interfaces, relayhost,
//! VERP delimiters, the non-Berkeley-DB migration level).  The first
//! failure is the one reported, in the library's words; the warnings it
//! prints on the way are printed too.
//!
//! No process is started; the only system calls beyond the main.cf read
//! are the user and group lookups, one socket per protocol, the interface
//! list, and the host lookups `inet_interfaces` asks for, as in Postfix.

mod accounts;
mod convert;
mod dictionary;
mod network;

pub use dictionary::Dictionary;

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};

use crate::config::installation;
use crate::diag;
use crate::error::Result;
use crate::fatal;
use crate::maincf::parameters::{self, Kind, Parameter};
use crate::maincf::{MainCf, path};
use crate::maincf::{defaults, hostname, regular};

/// The dictionary once the library is done, and what it decided on the way
/// that postmulti's own start-up uses.
pub struct Initialised {
    pub dictionary: Dictionary,
    pub syslog_facility: libc::c_int,
    pub smtputf8: bool,
}

/// The parameter's default: the installed Postfix's where known.
fn default_of(parameter: &Parameter) -> Vec<u8> {
    defaults::default_value(parameter.name.as_bytes())
        .map_or_else(|| parameter.default.as_bytes().to_vec(), <[u8]>::to_vec)
}

/// The value of a table parameter, stored in the dictionary as the library
/// stores it, converted and checked.
fn evaluate(dict: &mut Dictionary, parameter: &Parameter) -> Result<Vec<u8>> {
    let name = parameter.name;
    let found = dict.lookup_eval(name)?;
    match parameter.kind {
        Kind::Str { min, max } => {
            let value = match found {
                Some(value) => value,
                None => {
                    let value = dict.eval(&default_of(parameter))?;
                    dict.store(name, &value);
                    value
                }
            };
            convert::check_length(name, &value, min, max)?;
            Ok(value)
        }
        Kind::Int { min, max } | Kind::Long { min, max } => {
            let fits_int = matches!(parameter.kind, Kind::Int { .. });
            let (value, number) = match found {
                Some(value) => {
                    let number = convert::number(name, &value, fits_int)?;
                    (value, number)
                }
                None => {
                    let value = default_of(parameter);
                    dict.store(name, &value);
                    let number = convert::number(name, &value, fits_int)?;
                    (value, number)
                }
            };
            convert::check_number(name, number, min, max)?;
            Ok(value)
        }
        Kind::Bool => {
            let value = match found {
                Some(value) => value,
                None => {
                    let value = default_of(parameter);
                    dict.store(name, &value);
                    value
                }
            };
            convert::boolean(name, &value)?;
            Ok(value)
        }
        Kind::NamedBool | Kind::Time { .. } => {
            let value = match found {
                Some(value) => value,
                None => {
                    dict.store(name, &default_of(parameter));
                    dict.value(name)?
                }
            };
            if let Kind::Time { min, max } = parameter.kind {
                let unit = convert::default_unit(parameter.default);
                let seconds = convert::time(name, &value, unit)?;
                convert::check_time(name, seconds, min, max)?;
            } else {
                convert::boolean(name, &value)?;
            }
            Ok(value)
        }
    }
}

fn evaluate_all(dict: &mut Dictionary, table: &[Parameter]) -> Result<()> {
    for parameter in table {
        evaluate(dict, parameter)?;
    }
    Ok(())
}

/// A parameter that a table evaluated already.
fn value(dict: &Dictionary, name: &str) -> Result<Vec<u8>> {
    dict.value(name)
}

/// `file <config_dir>/main.cf: parameter <name>: bad parameter value: <v>`.
fn bad_parameter(config_dir: &[u8], name: &str, value: &[u8]) -> crate::error::Error {
    crate::error::Error::Fatal(crate::msg!(
        b"file ",
        config_dir,
        b"/main.cf: parameter ",
        name,
        b": bad parameter value: ",
        value
    ))
}

/// A string parameter with a default function (myhostname, mydomain,
/// mynetworks): the function runs only if main.cf does not set it.
fn evaluate_computed(
    dict: &mut Dictionary,
    name: &str,
    min: usize,
    compute: impl FnOnce(&Dictionary) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    let value = match dict.lookup_eval(name)? {
        Some(value) => value,
        None => {
            let computed = compute(dict)?;
            let value = dict.eval(&computed)?;
            dict.store(name, &value);
            value
        }
    };
    convert::check_length(name, &value, min, 0)?;
    Ok(value)
}

/// get_hostname(): this machine's name, which must be a valid one.
fn machine_hostname() -> Result<Vec<u8>> {
    let name = nix::unistd::gethostname()
        .map(|n| n.as_bytes().to_vec())
        .unwrap_or_default();
    if let Err(warning) = hostname::check(&name) {
        diag::warn(&warning);
        fatal!(b"unable to use my own hostname");
    }
    Ok(name)
}

/// known_tcp_ports: warnings only.
fn check_known_tcp_ports(value: &[u8]) {
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for item in value.split(|&b| b == b',') {
        if item.iter().all(|&b| b" \t\r\n".contains(&b)) {
            continue;
        }
        let warn = |why: &str| {
            let mut text = b"known_tcp_ports: in \"".to_vec();
            text.extend_from_slice(item);
            text.extend_from_slice(why.as_bytes());
            diag::warn(&text);
        };
        let mut parts: Vec<&[u8]> = item.split(|&b| b == b'=').collect();
        if parts.len() < 2 {
            warn("\" is not in \"name = value\" form");
            continue;
        }
        let trim = |s: &[u8]| crate::maincf::trim(s).to_vec();
        let port = trim(parts.pop().unwrap_or_default());
        let problem = if port.is_empty() {
            Some("missing port value after \"=\"")
        } else if port.iter().any(|b| b" \t".contains(b)) {
            Some("whitespace in port number")
        } else {
            parts.iter().find_map(|service| {
                let service = trim(service);
                if service.is_empty() {
                    Some("missing service name before \"=\"")
                } else if service.iter().any(|b| b" \t".contains(b)) {
                    Some("whitespace in service name")
                } else if service.iter().all(u8::is_ascii_digit) {
                    Some("numerical service name")
                } else if !port.iter().all(u8::is_ascii_digit) {
                    Some("non-numerical service port")
                } else if seen.contains(&service) {
                    Some("duplicate service name")
                } else {
                    seen.push(service);
                    None
                }
            })
        };
        if let Some(problem) = problem {
            warn(&format!("\": {problem}"));
        }
    }
}

/// MYORIGIN_FROM_FILE (Debian's build): an absolute `myorigin` names a
/// file whose first line is the value; the file is opened as safe_open()
/// opens it.
fn myorigin_from_file(file: &[u8]) -> Result<Vec<u8>> {
    let fail = |why: &[u8]| -> Result<Vec<u8>> { fatal!(file, b": ", why) };
    let path = path(file);
    let opened = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&path);
    let mut opened = match opened {
        Ok(f) => f,
        Err(e) => {
            return fail(&crate::msg!(
                b"cannot open file: ",
                crate::error::strerror(&e)
            ));
        }
    };
    let Ok(held) = opened.metadata() else {
        return fail(b"bad open file status");
    };
    if held.nlink() != 1 {
        return fail(format!("file has {} hard links", held.nlink()).as_bytes());
    }
    if held.is_dir() {
        return fail(b"file is a directory");
    }
    match std::fs::symlink_metadata(&path) {
        Err(e) => {
            return fail(&crate::msg!(
                b"file status changed unexpectedly: ",
                crate::error::strerror(&e)
            ));
        }
        Ok(link) if link.file_type().is_symlink() => {
            let parent_trusted = path
                .parent()
                .and_then(|p| std::fs::metadata(p).ok())
                .is_some_and(|p| p.uid() == 0 && p.mode() & 0o022 == 0);
            if link.uid() != 0 || !parent_trusted {
                return fail(b"file is a symbolic link");
            }
        }
        Ok(link)
            if (link.dev(), link.ino(), link.nlink(), link.mode())
                != (held.dev(), held.ino(), held.nlink(), held.mode()) =>
        {
            return fail(b"file status changed unexpectedly");
        }
        Ok(_) => {}
    }
    let content = match regular::read_sized(&mut opened, held.len()) {
        Ok(content) => content,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Vec::new(),
        Err(e) => fatal!(file, b": read error: ", crate::error::strerror(&e)),
    };
    let first = content.split(|&b| b == b'\n').next().unwrap_or_default();
    let value = crate::maincf::trim(first).to_vec();
    if value.is_empty() {
        fatal!(b"myorigin file ", file, b" is empty");
    }
    Ok(value)
}

/// set_logwriter_create_perms(): 644, 640 or 600 (leading zeros dropped);
/// anything else is ignored, with a warning.
fn check_maillog_permissions(value: &[u8]) {
    let digits = &value[value.iter().take_while(|&&b| b == b'0').count()..];
    if !matches!(digits, b"644" | b"640" | b"600") {
        diag::warn(&crate::msg!(
            b"ignoring bad permissions: maillog_file_permissions = ",
            value
        ));
    }
}

/// strcasecmp_utf8(): equal ignoring case, Unicode case folding with
/// SMTPUTF8 on, ASCII otherwise.
fn same_ignoring_case(a: &[u8], b: &[u8], utf8: bool) -> bool {
    if utf8 && let (Ok(a), Ok(b)) = (std::str::from_utf8(a), std::str::from_utf8(b)) {
        let fold = |s: &str| s.to_uppercase().to_lowercase();
        return fold(a) == fold(b);
    }
    a.eq_ignore_ascii_case(b)
}

/// nbdb_util_init()'s look at `non_bdb_custom_mapping`: not a legacy
/// Berkeley DB type, and a type the installation has.  (Postfix then
/// opens the table; we do not, so errors opening it go unreported.)
fn check_custom_mapping(mapping: &[u8]) -> Result<()> {
    let Some(colon) = mapping.iter().position(|&b| b == b':') else {
        fatal!(
            b"open dictionary: expecting \"type:name\" form instead of \"",
            mapping,
            b"\""
        );
    };
    let kind = &mapping[..colon];
    if kind == b"hash" || kind == b"btree" {
        fatal!(
            b"non_bdb_custom_mapping must not use legacy type: '",
            kind,
            b"'"
        );
    }
    if installation::supports_dictionary_type(kind) == Some(false) {
        fatal!(b"unsupported dictionary type: ", kind);
    }
    Ok(())
}

/// Runs the library's start-up on the primary main.cf.
pub fn init(config_dir: &[u8], cf: &MainCf) -> Result<Initialised> {
    let mut dict = Dictionary::from_main_cf(cf);
    let level = evaluate(&mut dict, &parameters::COMPATIBILITY_LEVEL)?;
    convert::compatibility_level(&level)?;
    evaluate_all(&mut dict, &parameters::FIRST_STRINGS)?;
    let facility_name = value(&dict, "syslog_facility")?;
    let Some(syslog_facility) = diag::facility_named(&facility_name) else {
        fatal!(
            b"file ",
            config_dir,
            b"/main.cf: parameter syslog_facility: unrecognized value: ",
            facility_name
        );
    };
    diag::configure(syslog_facility, false);
    evaluate_all(&mut dict, &parameters::FIRST_BOOLEANS)?;
    evaluate_all(&mut dict, &parameters::FIRST_NAMED_BOOLEANS)?;
    let smtputf8 = crate::maincf::parse_bool(&value(&dict, "smtputf8_enable")?).unwrap_or(false);
    diag::configure(syslog_facility, smtputf8);
    check_known_tcp_ports(&value(&dict, "known_tcp_ports")?);
    let protocols = network::protocols(&value(&dict, "inet_protocols")?)?;

    let myhostname = evaluate_computed(&mut dict, "myhostname", 1, |dict| {
        let name = machine_hostname()?;
        if name.contains(&b'.') {
            return Ok(name);
        }
        let domain = dict
            .lookup_eval("mydomain")?
            .unwrap_or_else(|| b"localdomain".to_vec());
        Ok(crate::msg!(name, b".", domain))
    })?;
    let mydomain = evaluate_computed(&mut dict, "mydomain", 1, |_| {
        Ok(match myhostname.iter().position(|&b| b == b'.') {
            Some(dot) => myhostname[dot + 1..].to_vec(),
            None => b"localdomain".to_vec(),
        })
    })?;
    for (name, value) in [("myhostname", &myhostname), ("mydomain", &mydomain)] {
        if let Err(warning) = hostname::check(value) {
            diag::warn(&warning);
            return Err(bad_parameter(config_dir, name, value));
        }
    }

    evaluate_all(&mut dict, &parameters::OTHER_STRINGS)?;
    let mut myorigin = value(&dict, "myorigin")?;
    if myorigin.first() == Some(&b'/') && installation::myorigin_from_file() {
        myorigin = myorigin_from_file(&myorigin)?;
        dict.store("myorigin", &myorigin);
    }
    evaluate_all(&mut dict, &parameters::INTEGERS)?;
    evaluate_all(&mut dict, &parameters::LONGS)?;
    evaluate_all(&mut dict, &parameters::BOOLEANS)?;
    evaluate_all(&mut dict, &parameters::TIMES)?;
    accounts::check(
        config_dir,
        &value(&dict, "default_privs")?,
        &value(&dict, "mail_owner")?,
        &value(&dict, "setgid_group")?,
    )?;
    check_maillog_permissions(&value(&dict, "maillog_file_permissions")?);

    let interfaces = value(&dict, "inet_interfaces")?;
    let style = value(&dict, "mynetworks_style")?;
    evaluate_computed(&mut dict, "mynetworks", 0, |_| {
        network::default_mynetworks(protocols, &interfaces, &style)
    })?;
    network::check_interfaces(protocols, &interfaces)?;

    let relayhost = value(&dict, "relayhost")?;
    if same_ignoring_case(&myhostname, &relayhost, smtputf8) {
        fatal!(
            b"myhostname and relayhost parameter settings must not be identical: ",
            myhostname
        );
    }
    if myorigin.iter().any(|b| b", \t\r\n".contains(b)) {
        fatal!(
            b"myorigin parameter setting must not contain multiple values: ",
            myorigin
        );
    }
    let delimiters = value(&dict, "default_verp_delimiters")?;
    let filter = value(&dict, "verp_delimiter_filter")?;
    for (which, delimiter) in ["first", "second"].iter().zip(&delimiters) {
        if !filter.contains(delimiter) {
            fatal!(
                b"file ",
                config_dir,
                b"/main.cf: parameters default_verp_delimiters and verp_delimiter_filter: bad ",
                which,
                b" VERP delimiter character"
            );
        }
    }
    let migration = value(&dict, "non_bdb_migration_level")?;
    let known = [&b"disable"[..], b"enable-redirect", b"enable-reindex"];
    if !known.iter().any(|k| k.eq_ignore_ascii_case(&migration)) {
        fatal!(
            b"invalid non-Berkeley-DB migration level: '",
            migration,
            b"'"
        );
    }
    let mapping = value(&dict, "non_bdb_custom_mapping")?;
    if !migration.eq_ignore_ascii_case(b"disable") && !mapping.is_empty() {
        check_custom_mapping(&mapping)?;
    }
    Ok(Initialised {
        dictionary: dict,
        syslog_facility,
        smtputf8,
    })
}
