//! Editing a main.cf as the script's `postconf -c <dir> -e ...` does: the
//! edits computed from the current text read under postconf's update
//! lock, written with postconf's protocol, and postconf's warnings and
//! errors in its own words.

use std::path::Path;

use super::voice::postconf_says;
use crate::config::installation;
use crate::error::{Error, Result};
use crate::maincf::edit::{self, EditMode, EditRequest};
use crate::maincf::write::update_main_cf;
use crate::msg;

/// Sets parameters in `<config_dir>/main.cf`; `edits` gives the
/// `name = value` arguments from the current text.  A refusal is printed
/// as postconf's fatal error and ends the action with status 1.
pub fn set_parameters(config_dir: &[u8], edits: &dyn Fn(&[u8]) -> Vec<Vec<u8>>) -> Result<()> {
    update_main_cf(config_dir, |current| {
        parameters_set(config_dir, current, edits)
    })
    .map_err(postconf_failed)
    .map(|_| ())
}

/// What [`set_parameters`] would write, from `current`, without writing;
/// postconf's warnings printed, its refusal the error.
pub fn parameters_set(
    config_dir: &[u8],
    current: &[u8],
    edits: &dyn Fn(&[u8]) -> Vec<Vec<u8>>,
) -> Result<Vec<u8>> {
    let path = msg!(config_dir, b"/main.cf");
    let (request, warnings) = EditRequest::new(
        EditMode::Set,
        &edits(current),
        installation::postconf_dialect(),
    )
    .map_err(|refusal| {
        // postconf warns about the arguments it read before the one it
        // refuses; the fatal line follows (postconf_failed).
        for warning in &refusal.warnings {
            postconf_says("warning", warning);
        }
        // (A refusal without a fatal line, postconf dying of a signal,
        // is one of -X and -#.)
        refusal.fatal.map_or(Error::Exit(1), Error::Fatal)
    })?;
    for warning in &warnings {
        postconf_says("warning", warning);
    }
    let (new, warnings) = edit::apply(current, &path, &request);
    for warning in &warnings {
        postconf_says("warning", warning);
    }
    Ok(new)
}

/// postconf's fatal error for a refused edit or a main.cf it could not
/// read or write; the action ends with status 1.
pub fn postconf_failed(err: Error) -> Error {
    if let Some(text) = err.fatal_text() {
        postconf_says("fatal", &text);
    }
    Error::Exit(1)
}

/// `postconf -c <dir> <mode> <args>` applied to `content` in memory: the
/// new text and what postconf prints (as full stderr lines); `None` if
/// postconf would refuse the arguments.
pub fn edited(
    content: &[u8],
    path: &Path,
    mode: EditMode,
    args: &[Vec<u8>],
) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
    use std::os::unix::ffi::OsStrExt;
    if args.is_empty() {
        return Some((content.to_vec(), Vec::new()));
    }
    let (request, mut warnings) =
        EditRequest::new(mode, args, installation::postconf_dialect()).ok()?;
    let (new, more) = edit::apply(content, path.as_os_str().as_bytes(), &request);
    warnings.extend(more);
    let lines = warnings
        .iter()
        .map(|w| msg!(b"postconf: warning: ", w, b"\n"))
        .collect();
    Some((new, lines))
}
