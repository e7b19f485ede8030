//! The claim table: names and directories (one namespace) and which
//! instance claimed each, so that no two instances share one; and the
//! shared directories every instance uses, which must exist.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use super::Instance;
use crate::config::Params;
use crate::error::{Error, Result};
use crate::maincf::fnv::FnvHashMap;
use crate::{fatal, msg};

/// Values (names and directories share one namespace) and who claimed them,
/// as `<config_dir>, <parameter>`.
#[derive(Debug, Default)]
pub struct Claims {
    owners: FnvHashMap<Vec<u8>, Vec<u8>>,
}

impl Claims {
    /// Claims `value` for `config_dir`'s `param`; the same claimant may
    /// claim a value again (that is what makes duplicate listings legal).
    pub fn claim(&mut self, config_dir: &[u8], param: &str, value: &[u8]) -> Result<()> {
        let requestor = msg!(config_dir, b", ", param);
        match self.owners.get(value) {
            None => {
                self.owners.insert(value.to_vec(), requestor);
                Ok(())
            }
            Some(owner) if *owner == requestor => Ok(()),
            Some(owner) => fatal!(
                b"instance ",
                requestor,
                b"=",
                value,
                b" conflicts with instance ",
                owner,
                b"=",
                value
            ),
        }
    }

    /// The owner of `value`, if claimed.
    pub fn owner(&self, value: &[u8]) -> Option<&[u8]> {
        self.owners.get(value).map(Vec::as_slice)
    }

    /// Claims an instance's name (if any), config, queue and data directory.
    pub fn claim_instance(&mut self, instance: &Instance) -> Result<()> {
        if let Some(name) = &instance.name {
            self.claim(&instance.config_dir, "multi_instance_name", name)?;
        }
        self.claim(
            &instance.config_dir,
            "config_directory",
            &instance.config_dir,
        )?;
        self.claim(&instance.config_dir, "queue_directory", &instance.queue_dir)?;
        self.claim(&instance.config_dir, "data_directory", &instance.data_dir)
    }
}

/// Checks that the shared directories exist and claims them (all but
/// meta_directory, which normally equals config_directory).
pub fn check_shared_dirs(params: &Params, claims: &mut Claims) -> Result<()> {
    let shared: [(&str, &[u8], bool); 4] = [
        ("command_directory", &params.command_directory, true),
        ("daemon_directory", &params.daemon_directory, true),
        ("meta_directory", &params.meta_directory, false),
        ("shlib_directory", &params.shlib_directory, true),
    ];
    for (param, value, claimed) in shared {
        if value.first() != Some(&b'/') {
            continue;
        }
        match std::fs::metadata(OsStr::from_bytes(value)) {
            Err(e) => {
                return Err(Error::with_errno(
                    msg!(param, b" = '", value, b"': directory not found"),
                    &e,
                ));
            }
            Ok(m) if !m.is_dir() => fatal!(param, b" = '", value, b"' is not a directory"),
            Ok(_) => {}
        }
        if claimed {
            claims.claim(&params.config_dir, param, value)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_allow_the_same_claimant_twice() {
        let mut claims = Claims::default();
        claims
            .claim(b"/etc/postfix-a", "queue_directory", b"/q")
            .unwrap();
        claims
            .claim(b"/etc/postfix-a", "queue_directory", b"/q")
            .unwrap();
        let err = claims
            .claim(b"/etc/postfix-b", "queue_directory", b"/q")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "instance /etc/postfix-b, queue_directory=/q conflicts with instance /etc/postfix-a, queue_directory=/q"
        );
        let err = claims
            .claim(b"/etc/postfix-a", "data_directory", b"/q")
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("instance /etc/postfix-a, data_directory=/q conflicts")
        );
    }
}
