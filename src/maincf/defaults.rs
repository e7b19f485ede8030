//! Built-in defaults of the parameters postmulti evaluates: what
//! `postconf -d` prints for them.  The installed Postfix's own, set once
//! at start-up (`config::installation`), for every parameter of the
//! mail_params tables and those that depend on how Postfix was built and
//! installed (directories, users, paths, mail_version, the SMTPUTF8
//! default); upstream Postfix 3.11's where the installation is not known.

use std::sync::OnceLock;

use super::parameters;
use super::parse::MainCf;

/// The compiled-in configuration directory; `MAIL_CONFIG` may only repeat it.
pub const CONFIG_DIRECTORY: &[u8] = b"/etc/postfix";

/// The installation-dependent parameters, with upstream Postfix's own
/// defaults (a source build with `make install` and no options), which
/// stand when nothing better is known.
pub const INSTALLATION_PARAMETERS: [(&str, &str); 17] = [
    ("command_directory", "/usr/sbin"),
    ("daemon_directory", "/usr/libexec/postfix"),
    ("meta_directory", "/etc/postfix"),
    ("shlib_directory", "/usr/lib/postfix"),
    ("queue_directory", "/var/spool/postfix"),
    ("data_directory", "/var/lib/postfix"),
    ("html_directory", "no"),
    ("manpage_directory", "/usr/local/man"),
    ("readme_directory", "no"),
    ("sample_directory", "/etc/postfix"),
    ("mail_owner", "postfix"),
    ("setgid_group", "postdrop"),
    ("sendmail_path", "/usr/sbin/sendmail"),
    ("mailq_path", "/usr/bin/mailq"),
    ("newaliases_path", "/usr/bin/newaliases"),
    ("mail_version", ""),
    (
        "smtputf8_enable",
        "${{$compatibility_level} <level {1} ? {no} : {yes}}",
    ),
];

/// Defaults of the other parameters postmulti (or a secondary's postconf
/// query) uses, the same in every Postfix.
const FIXED: [(&str, &str); 6] = [
    ("postmulti_start_commands", "start"),
    ("postmulti_stop_commands", "stop abort drain quick-stop"),
    ("postmulti_control_commands", "reload flush"),
    ("smtp_tls_CApath", ""),
    ("smtpd_tls_CApath", ""),
    ("authorized_submit_users", "static:anyone"),
];

/// The parameters whose defaults are asked of the installed postconf: the
/// installation parameters, then every other one of the mail_params
/// tables.
pub fn installed_names() -> impl Iterator<Item = &'static str> {
    let installation = INSTALLATION_PARAMETERS.iter().map(|&(name, _)| name);
    let tables = parameters::all()
        .map(|p| p.name)
        .filter(|name| !INSTALLATION_PARAMETERS.iter().any(|(n, _)| n == name));
    installation.chain(tables)
}

/// The one of [`installed_names`] spelled `name`.  (Start-up looks up
/// every line of the installation cache: a sorted copy, made once, keeps
/// that from growing with the square of the number of parameters.)
pub fn installed_name(name: &[u8]) -> Option<&'static str> {
    static SORTED: OnceLock<Vec<&'static str>> = OnceLock::new();
    let sorted = SORTED.get_or_init(|| {
        let mut names: Vec<&'static str> = installed_names().collect();
        names.sort_unstable();
        names
    });
    let found = sorted.binary_search_by(|n| n.as_bytes().cmp(name)).ok()?;
    Some(sorted[found])
}

/// The installed Postfix's defaults of [`installed_names`], by name.
static INSTALLED: OnceLock<Vec<(&'static str, Vec<u8>)>> = OnceLock::new();

/// Makes `values` the installed defaults, once, at start-up.
pub fn set_installed(mut values: Vec<(&'static str, Vec<u8>)>) {
    values.sort_unstable_by_key(|&(name, _)| name);
    let _ = INSTALLED.set(values);
}

fn installed(name: &[u8]) -> Option<&'static [u8]> {
    let installed = INSTALLED.get()?;
    let found = installed
        .binary_search_by(|(n, _)| n.as_bytes().cmp(name))
        .ok()?;
    Some(&installed[found].1)
}

/// The installed Postfix's `mail_version`, if known.
pub fn installed_mail_version() -> Option<&'static [u8]> {
    installed(b"mail_version").filter(|v| !v.is_empty())
}

/// The default of `name`, if we know it.
pub fn default_value(name: &[u8]) -> Option<&'static [u8]> {
    installed(name)
        .or_else(|| parameters::upstream_default(name).map(str::as_bytes))
        .or_else(|| {
            INSTALLATION_PARAMETERS
                .iter()
                .chain(FIXED.iter())
                .find(|(n, _)| n.as_bytes() == name)
                .map(|(_, v)| v.as_bytes())
        })
}

/// What `$name` stands for in a main.cf: its setting there, else the
/// built-in default; `None` if neither exists.
pub fn setting<'a>(cf: &'a MainCf, name: &[u8]) -> Option<&'a [u8]> {
    cf.get(name).or_else(|| default_value(name))
}
