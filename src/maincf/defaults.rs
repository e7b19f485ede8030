//! Built-in defaults of the parameters postmulti evaluates: what
//! `postconf -d` prints for them.  The installation-dependent ones were
//! recorded at build time from the Postfix installed beside us (see
//! build.rs); the others are the same in every Postfix 3.11.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::parse::{self, MainCf};

/// The compiled-in configuration directory; `MAIL_CONFIG` may only repeat it.
pub const CONFIG_DIRECTORY: &[u8] = b"/etc/postfix";

/// Installation-dependent defaults, as recorded by build.rs.
const INSTALL: [(&str, &str); 14] = [
    (
        "command_directory",
        env!("POSTMULTI_DEFAULT_COMMAND_DIRECTORY"),
    ),
    (
        "daemon_directory",
        env!("POSTMULTI_DEFAULT_DAEMON_DIRECTORY"),
    ),
    ("meta_directory", env!("POSTMULTI_DEFAULT_META_DIRECTORY")),
    ("shlib_directory", env!("POSTMULTI_DEFAULT_SHLIB_DIRECTORY")),
    ("queue_directory", env!("POSTMULTI_DEFAULT_QUEUE_DIRECTORY")),
    ("data_directory", env!("POSTMULTI_DEFAULT_DATA_DIRECTORY")),
    ("mail_owner", env!("POSTMULTI_DEFAULT_MAIL_OWNER")),
    ("setgid_group", env!("POSTMULTI_DEFAULT_SETGID_GROUP")),
    ("sendmail_path", env!("POSTMULTI_DEFAULT_SENDMAIL_PATH")),
    ("mailq_path", env!("POSTMULTI_DEFAULT_MAILQ_PATH")),
    ("newaliases_path", env!("POSTMULTI_DEFAULT_NEWALIASES_PATH")),
    ("html_directory", env!("POSTMULTI_DEFAULT_HTML_DIRECTORY")),
    (
        "manpage_directory",
        env!("POSTMULTI_DEFAULT_MANPAGE_DIRECTORY"),
    ),
    (
        "readme_directory",
        env!("POSTMULTI_DEFAULT_README_DIRECTORY"),
    ),
];

/// Defaults that do not depend on how Postfix was built.
const FIXED: [(&str, &str); 17] = [
    (
        "syslog_name",
        "${multi_instance_name?{$multi_instance_name}:{postfix}}",
    ),
    ("syslog_facility", "mail"),
    (
        "import_environment",
        "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C \
         POSTLOG_SERVICE POSTLOG_HOSTNAME XDG_RUNTIME_DIR",
    ),
    ("postmulti_start_commands", "start"),
    ("postmulti_stop_commands", "stop abort drain quick-stop"),
    ("postmulti_control_commands", "reload flush"),
    ("multi_instance_directories", ""),
    ("multi_instance_wrapper", ""),
    ("multi_instance_name", ""),
    ("multi_instance_group", ""),
    ("multi_instance_enable", "no"),
    ("alternate_config_directories", ""),
    ("maillog_file", ""),
    ("compatibility_level", "0"),
    ("mail_name", "Postfix"),
    ("sample_directory", "/etc/postfix"),
    ("authorized_submit_users", "static:anyone"),
];

/// Installation defaults reported at run time by the installed postconf,
/// which take precedence over the recorded ones once adopted.
static INSTALLED: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();

/// Asks `postconf -d` for the installation defaults and uses its answers
/// from now on.  Life-cycle actions do this: they hand the directories to
/// Postfix's own scripts, so they must agree with the Postfix installed
/// now, even if it differs from the one this binary was built beside.
pub fn adopt_installed(postconf: &Path) {
    let mut names: Vec<&str> = INSTALL.iter().map(|(n, _)| *n).collect();
    names.push("mail_version");
    let Ok(output) = Command::new(postconf)
        .arg("-d")
        .args(&names)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    else {
        return;
    };
    if !output.status.success() {
        return;
    }
    let values = output
        .stdout
        .split(|&b| b == b'\n')
        .filter_map(|line| {
            let (name, value) = parse::split_name_value(line).ok()?;
            let name = std::str::from_utf8(name).ok()?;
            names
                .contains(&name)
                .then(|| (name.to_string(), value.to_vec()))
        })
        .collect();
    let _ = INSTALLED.set(values);
}

/// The installed Postfix's `mail_version`, once [`adopt_installed`] ran.
pub fn installed_mail_version() -> Option<&'static [u8]> {
    INSTALLED
        .get()?
        .iter()
        .find(|(n, _)| n == "mail_version")
        .map(|(_, v)| v.as_slice())
}

/// The default of `name`, if we know it.
pub fn default_value(name: &[u8]) -> Option<&'static [u8]> {
    if let Some(installed) = INSTALLED.get()
        && let Some((_, value)) = installed.iter().find(|(n, _)| n.as_bytes() == name)
    {
        return Some(value);
    }
    INSTALL
        .iter()
        .chain(FIXED.iter())
        .find(|(n, _)| n.as_bytes() == name)
        .map(|(_, v)| v.as_bytes())
}

/// What `$name` stands for in a main.cf: its setting there, else the
/// built-in default; `None` if neither exists.
pub fn setting<'a>(cf: &'a MainCf, name: &[u8]) -> Option<&'a [u8]> {
    cf.get(name).or_else(|| default_value(name))
}

/// Whether SMTPUTF8 is on by default at this compatibility level (its
/// default is `${{$compatibility_level} <level {1} ? {no} : {yes}}`).
pub fn smtputf8_default(compatibility_level: &[u8]) -> bool {
    let major = compatibility_level
        .split(|&b| b == b'.')
        .next()
        .and_then(|m| std::str::from_utf8(m).ok())
        .and_then(|m| m.parse::<u64>().ok())
        .unwrap_or(0);
    major >= 1
}
