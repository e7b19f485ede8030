//! The registry of instances in the primary main.cf: the script's
//! update_cfdirs, which sets `multi_instance_directories` to the new list
//! and keeps a directory in `alternate_config_directories` (deport) or
//! takes it out of it.

use std::path::Path;

use super::changes::Changes;
use crate::config::Params;
use crate::error::Result;
use crate::maincf::{MainCf, split_list};
use crate::msg;

/// Whether a directory taken out of the list is remembered as an
/// alternate configuration directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternate {
    /// deport: the instance may still be run by hand with `postfix -c`.
    Remember,
    /// create, import, destroy: not an alternate directory.
    Forget,
}

/// Sets the primary's `multi_instance_directories` to `directories` and
/// `dir`'s place in `alternate_config_directories` as `alternate` says.
pub fn update_instance_directories(
    changes: &mut dyn Changes,
    params: &Params,
    directories: &[u8],
    dir: &[u8],
    alternate: Alternate,
) -> Result<()> {
    changes.set_parameters(&params.config_dir, &|current| {
        let mut edits = vec![msg!(b"multi_instance_directories = ", directories)];
        let primary =
            MainCf::parse(current, Path::new("main.cf"), &[], &mut |_| {}).unwrap_or_default();
        let alternates = primary
            .get(b"alternate_config_directories")
            .unwrap_or_default();
        let mut found = false;
        let mut keep = Vec::new();
        for d in split_list(alternates) {
            if d == dir {
                found = true;
            } else {
                keep.extend_from_slice(b" ");
                keep.extend_from_slice(d);
            }
        }
        match alternate {
            Alternate::Remember if !found => {
                edits.push(msg!(b"alternate_config_directories =", keep, b" ", dir));
            }
            Alternate::Forget if found => {
                edits.push(msg!(b"alternate_config_directories =", keep));
            }
            _ => {}
        }
        edits
    })
}
