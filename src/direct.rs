//! Life-cycle actions carried out in-process, with the editor and
//! postconf's write protocol, where that leaves exactly what
//! postmulti-script would: `init` always; `enable`, `disable`, `assign`
//! and `deport` when the script's queries of the primary main.cf
//! (`postconf -h`, `-hx`) would print nothing — otherwise the script runs,
//! so that postconf's warnings about that main.cf appear exactly as they
//! would.  `create`, `import` (src/create.rs) and `destroy`
//! (src/destroy.rs) add their own conditions.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

use crate::atomic_write;
use crate::cli::Edit;
use crate::config::{self, Settings};
use crate::edit::{self, EditMode, EditRequest};
use crate::fatal::Fatal;
use crate::instances::Instance;
use crate::maincf::MainCf;
use crate::script::{self, Environment, Exports};
use crate::secondary::SilentMainCf;
use crate::{ExitQuietly, create, destroy, msg};

/// Performs `edit` on `target` if it can be done in-process exactly;
/// `None` means the script has to do it.  `env` is what the script would
/// have been given; the Postfix commands we run get it too.
pub fn try_run(
    settings: &Settings,
    edit: &Edit,
    target: &Instance,
    exports: &Exports,
    env: &Environment,
) -> Result<Option<u8>> {
    if let Edit::Init = edit {
        set_parameters(&settings.config_dir, |_| {
            vec![
                b"multi_instance_wrapper = ${command_directory}/postmulti -p --".to_vec(),
                b"multi_instance_enable = yes".to_vec(),
            ]
        })?;
        return Ok(Some(0));
    }
    // The script's first check for every other action; it reads the
    // primary's main.cf as postconf, which must have nothing to say.
    let Some(primary) = SilentMainCf::read(&settings.config_dir) else {
        return Ok(None);
    };
    let (Some(wrapper), Some(enable)) = (
        primary.expanded("multi_instance_wrapper"),
        primary.expanded("multi_instance_enable"),
    ) else {
        return Ok(None);
    };
    script::check_initialised(settings, &wrapper, &enable)?;
    match edit {
        Edit::Create { .. } | Edit::Import { .. } => {
            let import = matches!(edit, Edit::Import { .. });
            return match create::prepare(settings, &primary, target, exports, import)? {
                Some(plan) => plan.run(settings, env).map(Some),
                None => Ok(None),
            };
        }
        Edit::Destroy => return destroy::run(settings, target, env),
        _ => {}
    }
    let setting = |name: &str, value: &[u8]| msg!(name, b" = ", value);
    match edit {
        Edit::Enable => set_parameters(&target.config_dir, |_| {
            vec![setting("multi_instance_enable", b"yes")]
        })?,
        Edit::Disable => set_parameters(&target.config_dir, |_| {
            vec![setting("multi_instance_enable", b"no")]
        })?,
        Edit::Assign(_) => {
            let edits = name_edits(target, exports);
            set_parameters(&target.config_dir, |_| edits)?;
        }
        _ => deport(settings, target, env)?,
    }
    Ok(Some(0))
}

/// The script's assign_names edits of the target's main.cf: the new name
/// and group, where they change (`-` clears).
pub fn name_edits(target: &Instance, exports: &Exports) -> Vec<Vec<u8>> {
    let mut edits = Vec::new();
    if exports.name {
        let name = target.name.as_deref().unwrap_or_default();
        edits.push(msg!(b"multi_instance_name = ", name));
    }
    if exports.group {
        let group = target.group.as_deref().unwrap_or_default();
        edits.push(msg!(b"multi_instance_group = ", group));
    }
    edits
}

/// `deport`: deregister a stopped instance and remember its directory in
/// `alternate_config_directories`; no file of the instance is touched.
fn deport(settings: &Settings, target: &Instance, env: &Environment) -> Result<()> {
    let directories = env.get(b"multi_instance_directories").unwrap_or_default();
    if !script::is_regular_file(&config::main_cf_path(&target.config_dir)) {
        return update_instance_directories(settings, directories, &target.config_dir, false);
    }
    if script::postfix_status_says_running(settings, &target.config_dir, env) {
        return Err(script::script_fatal(
            settings,
            &msg!(b"Instance '", target.config_dir, b"' is not stopped"),
        ));
    }
    update_instance_directories(settings, directories, &target.config_dir, true)
}

/// The script's update_cfdirs: sets the primary's
/// `multi_instance_directories` to the new list and keeps `dir` in
/// `alternate_config_directories` (`remember`) or out of it.
pub fn update_instance_directories(
    settings: &Settings,
    directories: &[u8],
    dir: &[u8],
    remember: bool,
) -> Result<()> {
    set_parameters(&settings.config_dir, |current| {
        let mut edits = vec![msg!(b"multi_instance_directories = ", directories)];
        let primary =
            MainCf::parse(current, Path::new("main.cf"), &[], &mut |_| {}).unwrap_or_default();
        let alternates = primary
            .get(b"alternate_config_directories")
            .unwrap_or_default();
        let mut found = false;
        let mut keep = Vec::new();
        for d in config::split_list(alternates) {
            if d == dir {
                found = true;
            } else {
                keep.extend_from_slice(b" ");
                keep.extend_from_slice(d);
            }
        }
        if remember && !found {
            edits.push(msg!(b"alternate_config_directories =", keep, b" ", dir));
        } else if !remember && found {
            edits.push(msg!(b"alternate_config_directories =", keep));
        }
        edits
    })
}

/// `postconf -c <config_dir> -e <edits...>` as the script runs it: its
/// warnings and errors are postconf's, under the name `postconf`.  The
/// edits are computed from the current main.cf, read under postconf's
/// update lock.
fn set_parameters(config_dir: &[u8], edits: impl FnOnce(&[u8]) -> Vec<Vec<u8>>) -> Result<()> {
    let postconf_says = |level: &str, text: &[u8]| {
        let line = msg!(b"postconf: ", level, b": ", text, b"\n");
        let _ = std::io::stderr().lock().write_all(&line);
    };
    let path = msg!(config_dir, b"/main.cf");
    atomic_write::update_main_cf(config_dir, |current| {
        let (request, warnings) = EditRequest::new(EditMode::Set, &edits(current))?;
        for warning in &warnings {
            postconf_says("warning", warning);
        }
        let (new, warnings) = edit::apply(current, &path, &request);
        for warning in &warnings {
            postconf_says("warning", warning);
        }
        Ok(new)
    })
    .map_err(|err| {
        match err.downcast_ref::<Fatal>() {
            Some(fatal) => postconf_says("fatal", &fatal.0),
            None => postconf_says("fatal", format!("{err:#}").as_bytes()),
        }
        ExitQuietly(1).into()
    })
    .map(|_| ())
}
