//! `-x command...`: the command itself for each selected instance, with
//! the instance described in its environment (`MAIL_CONFIG`, its
//! directories, name, group and state, `PATH` led by command_directory).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use super::{Child, bytes, run_each};
use crate::cli::Selection;
use crate::config::Params;
use crate::error::Result;
use crate::instance::Instance;
use crate::msg;

/// `-x command...`.
pub fn run_command(
    params: &Params,
    instances: &[Instance],
    selection: &Selection,
    command: &[OsString],
    reverse: bool,
) -> Result<u8> {
    let order: Box<dyn Iterator<Item = &Instance>> = if reverse {
        Box::new(instances.iter().rev())
    } else {
        Box::new(instances.iter())
    };
    let path = match std::env::var_os("PATH").filter(|p| !p.is_empty()) {
        Some(old) => msg!(params.command_directory, b":", old.as_bytes()),
        None => msg!(params.command_directory, b":/bin:/usr/bin:/sbin:/usr/sbin"),
    };
    run_each(order.filter(|i| i.matches(selection)), |instance| {
        let enable: &[u8] = if instance.enabled { b"yes" } else { b"no" };
        let env: Vec<(OsString, OsString)> = [
            ("MAIL_CONFIG", instance.config_dir.as_slice()),
            ("daemon_directory", &params.daemon_directory),
            ("command_directory", &params.command_directory),
            ("config_directory", &instance.config_dir),
            ("queue_directory", &instance.queue_dir),
            ("data_directory", &instance.data_dir),
            (
                "multi_instance_name",
                instance.name.as_deref().unwrap_or_default(),
            ),
            (
                "multi_instance_group",
                instance.group.as_deref().unwrap_or_default(),
            ),
            ("multi_instance_enable", enable),
            ("PATH", &path),
        ]
        .into_iter()
        .map(|(k, v)| (OsString::from(k), bytes(v)))
        .collect();
        Child {
            argv: command.to_vec(),
            env,
        }
    })
}
