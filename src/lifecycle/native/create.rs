//! `-e create` and `-e import` done in-process, leaving the files
//! postmulti-script and `postfix set-permissions` would leave, in an order
//! that keeps every intermediate state recoverable: first the instance's
//! directories and files, then their owners and modes, and last its
//! registration in the primary main.cf, the one step that makes it an
//! instance.  A failure at any step undoes the steps before it; a run
//! killed half-way leaves an unregistered directory that the same command
//! adopts and completes (the script's "main.cf and master.cf exist" path).
//!
//! [`prepare`] decides everything first, printing nothing, and declines
//! (the script runs) wherever the result would not be exactly the
//! script's: an unverified installation, or a main.cf about which one of
//! the script's postconf runs would print a warning.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::installation::Known;
use super::set_permissions::{self, InstanceFacts, SetPermissions};
use super::{Decline, Stop};
use crate::cli::Action;
use crate::config::Params;
use crate::error::{Result, strerror};
use crate::instance::Instance;
use crate::instance::secondary::SilentMainCf;
use crate::lifecycle::changes::{Changes, make_directories};
use crate::lifecycle::checks::is_regular_file;
use crate::lifecycle::plan::Plan;
use crate::lifecycle::postconf::edited;
use crate::lifecycle::registry::{Alternate, update_instance_directories};
use crate::lifecycle::voice::{gnu_quote, script_fatal, tool_error, tool_io_error};
use crate::maincf::edit::EditMode;
use crate::maincf::{defaults, main_cf_path, path, regular};
use crate::msg;

/// The install parameters a new instance shares with the primary: copied
/// when the primary sets them, else commented out.  The script's order.
const SHARED_PARAMETERS: [&str; 13] = [
    "command_directory",
    "daemon_directory",
    "meta_directory",
    "mail_owner",
    "setgid_group",
    "sendmail_path",
    "mailq_path",
    "newaliases_path",
    "html_directory",
    "manpage_directory",
    "sample_directory",
    "readme_directory",
    "shlib_directory",
];

/// post-install compares these, from postfix(1)'s environment, with
/// `postconf -h`, and rewrites all of them into main.cf if one differs.
const INSTALL_PARAMETERS: [&str; 15] = [
    "command_directory",
    "daemon_directory",
    "data_directory",
    "html_directory",
    "mail_owner",
    "mailq_path",
    "manpage_directory",
    "newaliases_path",
    "queue_directory",
    "readme_directory",
    "sample_directory",
    "sendmail_path",
    "setgid_group",
    "shlib_directory",
    "meta_directory",
];

/// How the instance's main.cf and master.cf come about.
enum Files {
    /// Made from the prototypes; `warnings` are what the script's postconf
    /// edits print, in order.
    Fresh {
        main_cf: Vec<u8>,
        main_proto: PathBuf,
        master_proto: PathBuf,
        warnings: Vec<Vec<u8>>,
    },
    /// Both exist and are adopted; main.cf gets the new name or group.
    Adopted {
        old_main_cf: Vec<u8>,
        main_cf: Vec<u8>,
        warnings: Vec<Vec<u8>>,
    },
}

/// A create or import, decided.
pub struct Creation {
    target: Instance,
    files: Files,
    permissions: SetPermissions,
}

/// Decides the action, or why the script must do it.  Refusals the script
/// would make (missing files) are returned as its errors.
pub fn prepare(
    params: &Params,
    known: &Known,
    primary: &SilentMainCf,
    plan: &Plan,
) -> std::result::Result<Creation, Stop> {
    let target = &plan.target;
    let dir = &target.config_dir;
    let main_cf_path = main_cf_path(dir);
    let master_cf_path = path(&msg!(dir, b"/master.cf"));
    let adopt = is_regular_file(&main_cf_path) && is_regular_file(&master_cf_path);
    let names = plan.name_edits();
    let (files, master_cf) = if adopt {
        let old_main_cf = read(&main_cf_path)?;
        let master_cf = read(&master_cf_path)?;
        let (main_cf, warnings) = edited(&old_main_cf, &main_cf_path, EditMode::Set, &names)
            .ok_or(Decline::EditRefused)?;
        let files = Files::Adopted {
            old_main_cf,
            main_cf,
            warnings,
        };
        (files, master_cf)
    } else {
        if matches!(plan.action, Action::Import { .. }) {
            let lacks = |what: &str| msg!(b"'", dir, b"' lacks a ", what, b" file");
            if !is_regular_file(&main_cf_path) {
                return Err(script_fatal(params, &lacks("main.cf")).into());
            }
            return Err(script_fatal(params, &lacks("master.cf")).into());
        }
        let meta = &params.meta_directory;
        let main_proto = path(&msg!(meta, b"/main.cf.proto"));
        let master_proto = path(&msg!(meta, b"/master.cf.proto"));
        for (proto, what) in [(&main_proto, "main.cf"), (&master_proto, "master.cf")] {
            if !is_regular_file(proto) {
                let text = msg!(
                    b"Missing ",
                    what,
                    b" prototype: ",
                    proto.as_os_str().as_bytes()
                );
                return Err(script_fatal(params, &text).into());
            }
        }
        let proto = read(&main_proto)?;
        let master_cf = read(&master_proto)?;
        let staged = path(&msg!(dir, b"/.tmp/main.cf"));
        let (main_cf, warnings) =
            from_prototype(primary, target, &proto, &staged, &main_cf_path, &names)
                .ok_or(Decline::EditRefused)?;
        let files = Files::Fresh {
            main_cf,
            main_proto,
            master_proto,
            warnings,
        };
        (files, master_cf)
    };
    let main_cf = match &files {
        Files::Fresh { main_cf, .. } | Files::Adopted { main_cf, .. } => main_cf,
    };
    let facts = instance_facts(params, known, target, main_cf, master_cf)?;
    // postfix(1) changes into the queue directory before set-permissions;
    // only the script's own create makes it beforehand.
    if adopt && !path(&facts.queue_dir).is_dir() {
        return Err(Decline::QueueDirectoryMissing.into());
    }
    let permissions = set_permissions::plan(params, known, &facts)?;
    Ok(Creation {
        target: target.clone(),
        files,
        permissions,
    })
}

/// A file the script copies or edits; one we cannot read is left to the
/// script, whose tools say why.
fn read(file: &Path) -> std::result::Result<Vec<u8>, Decline> {
    regular::read(file).map_err(|_| Decline::Unreadable(file.to_path_buf()))
}

/// The script's new main.cf: the prototype with the shared parameters the
/// primary does not set commented out, the instance's directories and
/// restrictions set, then the name and group.
fn from_prototype(
    primary: &SilentMainCf,
    target: &Instance,
    proto: &[u8],
    staged: &Path,
    final_path: &Path,
    names: &[Vec<u8>],
) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
    let mut comment_out = Vec::new();
    let mut shared = Vec::new();
    for name in SHARED_PARAMETERS {
        match primary
            .raw(name)
            .filter(|v| primary.is_set(name) && !v.is_empty())
        {
            Some(value) => shared.push(msg!(name, b" = ", value)),
            None => comment_out.push(name.as_bytes().to_vec()),
        }
    }
    let (text, mut warnings) = edited(proto, staged, EditMode::CommentOut, &comment_out)?;
    let mut settings = vec![
        msg!(b"queue_directory = ", target.queue_dir),
        msg!(b"data_directory = ", target.data_dir),
        b"authorized_submit_users =".to_vec(),
        b"master_service_disable = inet".to_vec(),
    ];
    settings.extend(shared);
    let (text, more) = edited(&text, staged, EditMode::Set, &settings)?;
    warnings.extend(more);
    let (text, more) = edited(&text, final_path, EditMode::Set, names)?;
    warnings.extend(more);
    Some((text, warnings))
}

/// What postfix(1) and post-install would make of the instance's files,
/// or why we cannot be sure: postconf would warn about them, post-install
/// would rewrite the install parameters into main.cf (a value that is not
/// literal, or that ends in the mail_version), or postfix(1) would not
/// run quietly.
fn instance_facts(
    params: &Params,
    known: &Known,
    target: &Instance,
    main_cf: &[u8],
    master_cf: Vec<u8>,
) -> std::result::Result<InstanceFacts, Decline> {
    let not_silent = || Decline::InstanceNotSilent;
    let cf = SilentMainCf::parse(&target.config_dir, main_cf, &master_cf).ok_or_else(not_silent)?;
    let version = defaults::installed_mail_version()
        .filter(|v| !v.is_empty())
        .ok_or(Decline::UnknownInstallation)?;
    for name in INSTALL_PARAMETERS {
        let raw = cf.raw(name).ok_or_else(not_silent)?;
        let value = cf.expanded(name).ok_or_else(not_silent)?;
        if raw != value || value.windows(version.len()).any(|w| w == version) {
            return Err(Decline::InstallParametersRewritten);
        }
    }
    let expanded = |name| cf.expanded(name).ok_or_else(not_silent);
    let facts = InstanceFacts {
        config_dir: target.config_dir.clone(),
        queue_dir: expanded("queue_directory")?,
        data_dir: expanded("data_directory")?,
        mail_owner: expanded("mail_owner")?,
        setgid_group: expanded("setgid_group")?,
        compatibility_level: cf.raw("compatibility_level").ok_or_else(not_silent)?,
        myorigin: cf
            .expanded_with("myorigin", &host_name_defaults)
            .ok_or_else(not_silent)?,
        ca_paths: [expanded("smtp_tls_CApath")?, expanded("smtpd_tls_CApath")?],
        master_cf,
    };
    // What post-install checks before it starts.
    let absolute = |v: &[u8]| v.first() == Some(&b'/');
    let usable = known.postfix_runs_quietly(params, &cf)
        && absolute(&facts.queue_dir)
        && absolute(&facts.data_dir)
        && ["command_directory", "daemon_directory", "meta_directory"]
            .iter()
            .all(|n| cf.expanded(n).is_some_and(|v| absolute(&v)))
        && ["html_directory", "readme_directory", "shlib_directory"]
            .iter()
            .all(|n| cf.expanded(n).is_some_and(|v| v == b"no" || absolute(&v)));
    if !usable {
        return Err(Decline::PostfixNotQuiet);
    }
    Ok(facts)
}

/// The defaults of `myorigin` and what it usually refers to, which Postfix
/// takes from the host name.
fn host_name_defaults(name: &[u8]) -> Option<Vec<u8>> {
    let host = nix::unistd::gethostname().ok()?.into_vec();
    match name {
        b"myorigin" => Some(b"$myhostname".to_vec()),
        b"myhostname" => Some(host),
        b"mydomain" => Some(match host.iter().position(|&b| b == b'.') {
            Some(dot) => host[dot + 1..].to_vec(),
            None => b"localdomain".to_vec(),
        }),
        _ => None,
    }
}

impl Creation {
    /// Carries the creation out, the registration last.
    pub fn carry_out(self, changes: &mut dyn Changes, params: &Params, plan: &Plan) -> Result<()> {
        let dir = &self.target.config_dir;
        match &self.files {
            Files::Fresh {
                main_cf,
                main_proto,
                master_proto,
                warnings,
            } => {
                for (d, mode) in [
                    (&self.target.config_dir, 0o755),
                    (&self.target.queue_dir, 0o755),
                    (&self.target.data_dir, 0o700),
                ] {
                    make_directories(changes, &path(d), mode)?;
                }
                let staging = path(&msg!(dir, b"/.tmp"));
                make_directories(changes, &staging, 0o700)?;
                print_warnings(warnings);
                let staged_main = staging.join("main.cf");
                changes.write_new(&staged_main, main_cf, 0o644, None)?;
                let (proto, proto_meta) = read_source(master_proto)?;
                let staged_master = staging.join("master.cf");
                changes.write_new(
                    &staged_master,
                    &proto,
                    proto_meta.mode() & 0o7777,
                    Some(&proto_meta),
                )?;
                changes.install(&staged_main, &main_cf_path(dir))?;
                changes.made_from(&main_cf_path(dir), main_proto);
                changes.install(&staged_master, &path(&msg!(dir, b"/master.cf")))?;
                let _ = changes.remove_directory(&staging);
            }
            Files::Adopted {
                old_main_cf,
                main_cf,
                warnings,
            } => {
                print_warnings(warnings);
                if main_cf != old_main_cf {
                    changes.replace_main_cf(dir, old_main_cf, main_cf)?;
                }
                // An empty staging directory is what a create killed after
                // its last rename leaves; the script would remove it.
                let _ = changes.remove_directory(&path(&msg!(dir, b"/.tmp")));
            }
        }
        self.permissions.apply(changes)?;
        let directories = plan.new_directories.as_deref().unwrap_or_default();
        update_instance_directories(changes, params, directories, dir, Alternate::Forget)
    }
}

/// A prototype as `cp -p` reads it: its content and metadata, failures in
/// cp's words.
fn read_source(source: &Path) -> Result<(Vec<u8>, fs::Metadata)> {
    let cp = |what: &str, e: &std::io::Error| tool_io_error(&msg!(b"cp: ", what), source, e);
    let mut file = regular::open(source, fs::File::options().read(true)).map_err(|e| {
        tool_error(&msg!(
            b"cp: cannot open ",
            gnu_quote(source.as_os_str().as_bytes()),
            b" for reading: ",
            strerror(&e)
        ))
    })?;
    let meta = file.metadata().map_err(|e| cp("cannot stat", &e))?;
    let mut content = Vec::new();
    file.read_to_end(&mut content)
        .map_err(|e| cp("error reading", &e))?;
    Ok((content, meta))
}

fn print_warnings(lines: &[Vec<u8>]) {
    let mut stderr = std::io::stderr().lock();
    for line in lines {
        let _ = stderr.write_all(line);
    }
}
