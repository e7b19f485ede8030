//! What systemd says about the instances, where systemd is the running
//! init system (and only there: elsewhere nothing is asked): for `-l
//! --status`, the unit that starts each instance at boot and its state, in
//! one `systemctl show`; for `-e enable` and `-e disable`, the one line an
//! administrator at a terminal needs so that boot follows the change.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};

use super::generator::{self, Flavour};
use crate::instance::Instance;
use crate::instance::status::{BootUnit, BootUnits};
use crate::maincf::defaults::CONFIG_DIRECTORY;

/// Where our generator is installed (the package puts it in the first).
const GENERATORS: [&str; 2] = [
    "/usr/lib/systemd/system-generators/postmulti-instance-generator",
    "/lib/systemd/system-generators/postmulti-instance-generator",
];

/// sd_booted(): whether systemd is the running init system.
pub fn is_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// The unit that starts `instance` at boot on this system.
fn unit_of(instance: &Instance, flavour: Flavour) -> Option<Vec<u8>> {
    if instance.config_dir == CONFIG_DIRECTORY {
        return Some(match flavour {
            // Debian 12's postfix.service starts nothing itself.
            Flavour::ByName { .. } => b"postfix@-.service".to_vec(),
            Flavour::PerDirectory | Flavour::Unknown => b"postfix.service".to_vec(),
        });
    }
    generator::unit_name(&instance.config_dir, flavour)
}

/// Each instance's boot unit and its state; `None` where systemd does not
/// run or cannot be asked.
pub fn boot_units<'a>(instances: impl Iterator<Item = &'a Instance>) -> Option<BootUnits> {
    if !is_running() {
        return None;
    }
    let flavour = generator::flavour(Path::new("/"));
    let units: Vec<(Vec<u8>, Vec<u8>)> = instances
        .filter_map(|i| Some((i.config_dir.clone(), unit_of(i, flavour)?)))
        .collect();
    if units.is_empty() {
        return Some(BootUnits::new());
    }
    let output = Command::new("systemctl")
        .args(["show", "--property=ActiveState"])
        .args(units.iter().map(|(_, unit)| OsStr::from_bytes(unit)))
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let states: Vec<&[u8]> = output
        .stdout
        .split(|&b| b == b'\n')
        .filter_map(|line| line.strip_prefix(b"ActiveState="))
        .collect();
    if states.len() != units.len() {
        return None;
    }
    Some(
        units
            .into_iter()
            .zip(states)
            .map(|((dir, unit), state)| {
                let active_state = state.to_vec();
                (dir, BootUnit { unit, active_state })
            })
            .collect(),
    )
}

/// After `-e enable` or `-e disable`: what makes boot follow the change.
pub fn enable_hint() -> Option<&'static str> {
    if !is_running() {
        return None;
    }
    Some(if GENERATORS.iter().any(|g| Path::new(g).exists()) {
        "systemd: run 'systemctl daemon-reload' for boot to follow multi_instance_enable"
    } else {
        "systemd: boot does not follow multi_instance_enable without postmulti's generator (see postmulti(1), MULTIPLE INSTANCES UNDER SYSTEMD)"
    })
}
