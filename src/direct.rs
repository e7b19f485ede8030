//! Life-cycle actions carried out in-process, with the editor and
//! postconf's write protocol, where that leaves exactly what
//! postmulti-script would: `init` always; `enable`, `disable` and `assign`
//! when the script's queries of the primary main.cf (`postconf -hx`) would
//! print nothing — otherwise the script runs, so that postconf's warnings
//! about that main.cf appear exactly as they would.

use std::io::Write;

use anyhow::Result;

use crate::atomic_write;
use crate::cli::Edit;
use crate::config::Settings;
use crate::edit::{self, EditMode, EditRequest};
use crate::fatal::Fatal;
use crate::instances::Instance;
use crate::script::{self, Exports};
use crate::{ExitQuietly, msg, secondary};

/// Performs `edit` on `target` if it can be done in-process exactly;
/// `None` means the script has to do it.
pub fn try_run(
    settings: &Settings,
    edit: &Edit,
    target: &Instance,
    exports: &Exports,
) -> Result<Option<u8>> {
    let settings_for = |name: &str, value: &[u8]| msg!(name, b" = ", value);
    let (config_dir, edits): (&[u8], Vec<Vec<u8>>) = match edit {
        Edit::Init => (
            &settings.config_dir,
            vec![
                b"multi_instance_wrapper = ${command_directory}/postmulti -p --".to_vec(),
                b"multi_instance_enable = yes".to_vec(),
            ],
        ),
        Edit::Enable | Edit::Disable | Edit::Assign(_) => {
            let Some([wrapper, enable]) = secondary::query_in_process(
                &settings.config_dir,
                ["multi_instance_wrapper", "multi_instance_enable"],
            ) else {
                return Ok(None);
            };
            script::check_initialised(settings, &wrapper, &enable)?;
            let edits = match edit {
                Edit::Enable => vec![settings_for("multi_instance_enable", b"yes")],
                Edit::Disable => vec![settings_for("multi_instance_enable", b"no")],
                _ => {
                    let mut edits = Vec::new();
                    if exports.name {
                        edits.push(settings_for(
                            "multi_instance_name",
                            target.name.as_deref().unwrap_or_default(),
                        ));
                    }
                    if exports.group {
                        edits.push(settings_for(
                            "multi_instance_group",
                            target.group.as_deref().unwrap_or_default(),
                        ));
                    }
                    edits
                }
            };
            (&target.config_dir, edits)
        }
        _ => return Ok(None),
    };
    set_parameters(config_dir, &edits)?;
    Ok(Some(0))
}

/// `postconf -c <config_dir> -e <edits...>` as the script runs it: its
/// warnings and errors are postconf's, under the name `postconf`.
fn set_parameters(config_dir: &[u8], edits: &[Vec<u8>]) -> Result<()> {
    let postconf_says = |level: &str, text: &[u8]| {
        let line = msg!(b"postconf: ", level, b": ", text, b"\n");
        let _ = std::io::stderr().lock().write_all(&line);
    };
    let fail = |err: anyhow::Error| -> anyhow::Error {
        match err.downcast_ref::<Fatal>() {
            Some(fatal) => postconf_says("fatal", &fatal.0),
            None => postconf_says("fatal", format!("{err:#}").as_bytes()),
        }
        ExitQuietly(1).into()
    };
    let (request, warnings) = EditRequest::new(EditMode::Set, edits).map_err(|e| fail(e.into()))?;
    for warning in &warnings {
        postconf_says("warning", warning);
    }
    let path = msg!(config_dir, b"/main.cf");
    atomic_write::update_main_cf(config_dir, |current| {
        let (new, warnings) = edit::apply(current, &path, &request);
        for warning in &warnings {
            postconf_says("warning", warning);
        }
        Ok(new)
    })
    .map_err(fail)?;
    Ok(())
}
