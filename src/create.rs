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
//! (`None`, the script runs) wherever the result would not be exactly the
//! script's: an unverified installation, or a main.cf about which one of
//! the script's postconf runs would print a warning.

use std::fs;
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::config::{self, Settings, path};
use crate::edit::{self, EditMode, EditRequest};
use crate::instances::Instance;
use crate::postinstall::{self, Installation, InstanceFacts, SetPermissions};
use crate::script::{self, Environment, Exports};
use crate::secondary::SilentMainCf;
use crate::undo::Undo;
use crate::{atomic_write, direct, msg};

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
pub struct Plan {
    target: Instance,
    files: Files,
    permissions: SetPermissions,
}

/// Decides the action, or `None` if the script must do it.  Refusals the
/// script would make (not initialised, missing files) are returned as its
/// errors.
pub fn prepare(
    settings: &Settings,
    primary: &SilentMainCf,
    target: &Instance,
    exports: &Exports,
    import: bool,
) -> Result<Option<Plan>> {
    let Some(installation) = Installation::verified(settings) else {
        return Ok(None);
    };
    let dir = &target.config_dir;
    let main_cf_path = config::main_cf_path(dir);
    let master_cf_path = path(&msg!(dir, b"/master.cf"));
    let adopt = script::is_regular_file(&main_cf_path) && script::is_regular_file(&master_cf_path);
    let names = direct::name_edits(target, exports);
    let (files, master_cf) = if adopt {
        let (Ok(old_main_cf), Ok(master_cf)) = (fs::read(&main_cf_path), fs::read(&master_cf_path))
        else {
            return Ok(None);
        };
        let Some((main_cf, warnings)) = edited(&old_main_cf, &main_cf_path, EditMode::Set, &names)
        else {
            return Ok(None);
        };
        let files = Files::Adopted {
            old_main_cf,
            main_cf,
            warnings,
        };
        (files, master_cf)
    } else {
        if import {
            let lacks = |what: &str| msg!(b"'", dir, b"' lacks a ", what, b" file");
            if !script::is_regular_file(&main_cf_path) {
                return Err(script::script_fatal(settings, &lacks("main.cf")));
            }
            return Err(script::script_fatal(settings, &lacks("master.cf")));
        }
        let meta = &settings.meta_directory;
        let main_proto = path(&msg!(meta, b"/main.cf.proto"));
        let master_proto = path(&msg!(meta, b"/master.cf.proto"));
        for (proto, what) in [(&main_proto, "main.cf"), (&master_proto, "master.cf")] {
            if !script::is_regular_file(proto) {
                let text = msg!(
                    b"Missing ",
                    what,
                    b" prototype: ",
                    proto.as_os_str().as_bytes()
                );
                return Err(script::script_fatal(settings, &text));
            }
        }
        // Unreadable prototypes: the script's cp says why.
        let (Ok(proto), Ok(master_cf)) = (fs::read(&main_proto), fs::read(&master_proto)) else {
            return Ok(None);
        };
        let staged = path(&msg!(dir, b"/.tmp/main.cf"));
        let Some((main_cf, warnings)) =
            from_prototype(primary, target, &proto, &staged, &main_cf_path, &names)
        else {
            return Ok(None);
        };
        let files = Files::Fresh {
            main_cf,
            master_proto,
            warnings,
        };
        (files, master_cf)
    };
    let main_cf = match &files {
        Files::Fresh { main_cf, .. } | Files::Adopted { main_cf, .. } => main_cf,
    };
    let Some(facts) = instance_facts(settings, target, main_cf, master_cf) else {
        return Ok(None);
    };
    // postfix(1) changes into the queue directory before set-permissions;
    // only the script's own create makes it beforehand.
    if adopt && !path(&facts.queue_dir).is_dir() {
        return Ok(None);
    }
    let Some(permissions) = postinstall::plan(settings, &installation, &facts) else {
        return Ok(None);
    };
    Ok(Some(Plan {
        target: target.clone(),
        files,
        permissions,
    }))
}

/// `postconf -c <dir> <mode> <args>` on `content`: the new text and what
/// postconf prints (as full stderr lines); `None` if postconf would refuse
/// the arguments (then the script shows how).
fn edited(
    content: &[u8],
    path: &Path,
    mode: EditMode,
    args: &[Vec<u8>],
) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
    if args.is_empty() {
        return Some((content.to_vec(), Vec::new()));
    }
    let (request, mut warnings) = EditRequest::new(mode, args).ok()?;
    let (new, more) = edit::apply(content, path.as_os_str().as_bytes(), &request);
    warnings.extend(more);
    let lines = warnings
        .iter()
        .map(|w| msg!(b"postconf: warning: ", w, b"\n"))
        .collect();
    Some((new, lines))
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

/// What postfix(1) and post-install would make of the instance's files;
/// `None` if postconf would warn about them, or if post-install would
/// rewrite the install parameters into main.cf (a value that is not
/// literal, or that ends in the mail_version).
fn instance_facts(
    settings: &Settings,
    target: &Instance,
    main_cf: &[u8],
    master_cf: Vec<u8>,
) -> Option<InstanceFacts> {
    let cf = SilentMainCf::parse(&target.config_dir, main_cf, &master_cf)?;
    let version = crate::defaults::installed_mail_version().filter(|v| !v.is_empty())?;
    for name in INSTALL_PARAMETERS {
        let (raw, value) = (cf.raw(name)?, cf.expanded(name)?);
        if raw != value || value.windows(version.len()).any(|w| w == version) {
            return None;
        }
    }
    let absolute = |v: &[u8]| v.first() == Some(&b'/');
    let facts = InstanceFacts {
        config_dir: target.config_dir.clone(),
        queue_dir: cf.expanded("queue_directory")?,
        data_dir: cf.expanded("data_directory")?,
        mail_owner: cf.expanded("mail_owner")?,
        setgid_group: cf.expanded("setgid_group")?,
        compatibility_level: cf.raw("compatibility_level")?,
        myorigin: cf.expanded_with("myorigin", &host_name_defaults)?,
        master_cf,
    };
    // What post-install checks before it starts.
    let usable = postinstall::postfix_runs_quietly(settings, &cf)
        && absolute(&facts.queue_dir)
        && absolute(&facts.data_dir)
        && ["command_directory", "daemon_directory", "meta_directory"]
            .iter()
            .all(|n| cf.expanded(n).is_some_and(|v| absolute(&v)))
        && ["html_directory", "readme_directory", "shlib_directory"]
            .iter()
            .all(|n| cf.expanded(n).is_some_and(|v| v == b"no" || absolute(&v)));
    usable.then_some(facts)
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

impl Plan {
    /// Carries the plan out; on failure everything done is undone.
    pub fn run(self, settings: &Settings, env: &Environment) -> Result<u8> {
        let mut undo = Undo::default();
        let dir = &self.target.config_dir;
        match &self.files {
            Files::Fresh {
                main_cf,
                master_proto,
                warnings,
            } => {
                for (d, mode) in [
                    (&self.target.config_dir, 0o755),
                    (&self.target.queue_dir, 0o755),
                    (&self.target.data_dir, 0o700),
                ] {
                    postinstall::make_directories(&path(d), mode, &mut undo)?;
                }
                let staging = path(&msg!(dir, b"/.tmp"));
                postinstall::make_directories(&staging, 0o700, &mut undo)?;
                print_warnings(warnings);
                let staged_main = staging.join("main.cf");
                write_new(&staged_main, main_cf, 0o644, None, &mut undo)?;
                let proto_meta = fs::metadata(master_proto)?;
                let staged_master = staging.join("master.cf");
                write_new(
                    &staged_master,
                    &fs::read(master_proto)?,
                    proto_meta.mode() & 0o7777,
                    Some(&proto_meta),
                    &mut undo,
                )?;
                install(&staged_main, &config::main_cf_path(dir), &mut undo)?;
                install(&staged_master, &path(&msg!(dir, b"/master.cf")), &mut undo)?;
                let _ = fs::remove_dir(&staging);
            }
            Files::Adopted {
                old_main_cf,
                main_cf,
                warnings,
            } => {
                print_warnings(warnings);
                if main_cf != old_main_cf {
                    atomic_write::update_main_cf(dir, |_| Ok(main_cf.clone()))?;
                    undo.replaced_main_cf(dir, old_main_cf.clone());
                }
                // An empty staging directory is what a create killed after
                // its last rename leaves; the script would remove it.
                let _ = fs::remove_dir(path(&msg!(dir, b"/.tmp")));
            }
        }
        self.permissions.apply(&mut undo)?;
        let directories = env.get(b"multi_instance_directories").unwrap_or_default();
        direct::update_instance_directories(settings, directories, dir, false)?;
        undo.commit();
        Ok(0)
    }
}

fn print_warnings(lines: &[Vec<u8>]) {
    let mut stderr = std::io::stderr().lock();
    for line in lines {
        let _ = stderr.write_all(line);
    }
}

/// Writes a file that must not exist yet (a stale one from a killed run is
/// replaced), synced, with `mode`, and `times_of`'s times (cp -p).
fn write_new(
    file: &Path,
    content: &[u8],
    mode: u32,
    times_of: Option<&fs::Metadata>,
    undo: &mut Undo,
) -> Result<()> {
    if fs::symlink_metadata(file).is_ok() {
        undo.will_replace(file)?;
        fs::remove_file(file)?;
    }
    let mut out = fs::File::options()
        .write(true)
        .create_new(true)
        .open(file)?;
    undo.made_file(file);
    out.write_all(content)?;
    out.set_permissions(fs::Permissions::from_mode(mode))?;
    if let Some(meta) = times_of {
        out.set_times(
            fs::FileTimes::new()
                .set_accessed(meta.accessed()?)
                .set_modified(meta.modified()?),
        )?;
        std::os::unix::fs::fchown(&out, Some(meta.uid()), Some(meta.gid()))?;
    }
    out.sync_all()?;
    Ok(())
}

/// Renames a staged file into place (the script's `mv`).
fn install(staged: &Path, target: &Path, undo: &mut Undo) -> Result<()> {
    if fs::symlink_metadata(target).is_ok() {
        undo.will_replace(target)?;
    } else {
        undo.made_file(target);
    }
    fs::rename(staged, target)?;
    if let Some(parent) = target.parent() {
        fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}
