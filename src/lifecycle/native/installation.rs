//! Which Postfix installation we run beside, as far as doing its scripts'
//! work in-process depends on it: the scripts whose every line we know,
//! and what postfix(1) does before it runs postfix-script.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;

use super::set_permissions::{DEBIAN_CONFIGURE_INSTANCE, DEBIAN_SYNCFILES};
use crate::config::Params;
use crate::instance::secondary::SilentMainCf;
use crate::maincf::path;
use crate::msg;

/// Fingerprints (FNV-1a, 64 bits) of the scripts whose behaviour the
/// in-process actions reproduce, per installation we verified it on.  Any
/// other version of any of them, and the real scripts run.
const VERIFIED: [(&str, [(&str, u64); 5]); 1] = [(
    "Debian postfix 3.11.7-1",
    [
        ("$daemon_directory/postmulti-script", 0x2167_afe9_d1d4_0ebd),
        ("$daemon_directory/postfix-script", 0xc5bd_6289_a4eb_6340),
        ("$daemon_directory/post-install", 0x6a7f_40ed_8e40_ad24),
        (DEBIAN_CONFIGURE_INSTANCE, 0xadc5_e79b_dd7a_a163),
        (DEBIAN_SYNCFILES, 0x062e_0bc3_3be5_7021),
    ],
)];

/// A Postfix installation whose life-cycle scripts we know line by line.
pub struct Installation;

impl Installation {
    /// `Some` if every script of one verified installation is present,
    /// unchanged.
    pub fn verified(params: &Params) -> Option<Installation> {
        let matches = |path: &str, fingerprint: u64| {
            let path = match path.strip_prefix("$daemon_directory") {
                Some(rest) => msg!(params.daemon_directory, rest),
                None => path.as_bytes().to_vec(),
            };
            fs::read(OsStr::from_bytes(&path)).is_ok_and(|text| fnv1a(&text) == fingerprint)
        };
        VERIFIED
            .iter()
            .any(|(_, scripts)| scripts.iter().all(|&(p, f)| matches(p, f)))
            .then_some(Installation)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Whether postfix(1) runs without its note "Postfix is using
/// backwards-compatible default settings": `compatibility_level` (as
/// evaluated) is at least the level of this Postfix, 3.11.
pub fn is_current_compatibility_level(level: &[u8]) -> bool {
    let parts: Option<Vec<u64>> = std::str::from_utf8(level)
        .ok()
        .and_then(|l| l.split('.').map(|p| p.parse().ok()).collect());
    parts
        .filter(|v| (1..=3).contains(&v.len()))
        .is_some_and(|mut v| {
            v.resize(3, 0);
            (v[0], v[1], v[2]) >= (3, 11, 0)
        })
}

/// Whether `postfix -c <dir> ...` would run postfix-script for the
/// instance `cf` without a word: postfix(1) changes into the command,
/// daemon and queue directories and notes "backwards-compatible default
/// settings" below level 3.11; postfix-script checks the directories and
/// the master program.  (The queue directory is the caller's: create makes
/// it first.)
pub fn postfix_runs_quietly(params: &Params, cf: &SilentMainCf) -> bool {
    let is_dir = |name: &str| cf.expanded(name).is_some_and(|v| path(&v).is_dir());
    cf.expanded("compatibility_level")
        .is_some_and(|level| is_current_compatibility_level(&level))
        && ["command_directory", "daemon_directory", "meta_directory"]
            .iter()
            .all(|n| is_dir(n))
        && cf
            .expanded("shlib_directory")
            .is_some_and(|v| v == b"no" || path(&v).is_dir())
        && path(&msg!(params.daemon_directory, b"/master")).is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_fnv1a_64() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn compatibility_levels() {
        for (level, current) in [
            ("3.11", true),
            ("3.11.1", true),
            ("4", true),
            ("3.10", false),
            ("3.9.9", false),
            ("0", false),
            ("", false),
            ("3.11.x", false),
            ("${x}", false),
        ] {
            assert_eq!(
                is_current_compatibility_level(level.as_bytes()),
                current,
                "{level}"
            );
        }
    }
}
