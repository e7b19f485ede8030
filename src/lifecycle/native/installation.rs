//! Which Postfix installation we run beside, as far as doing its scripts'
//! work in-process depends on it, recognised from what it is rather than
//! from a hash of whole files:
//!
//! * the release (`mail_version`): what postconf, postfix(1) and postlog
//!   do is compiled in; the releases whose behaviour is verified are 3.7,
//!   3.10 and 3.11;
//! * the scripts postmulti-script runs, which must be the installation's
//!   own, unmodified: a Debian package's files match the package's
//!   md5sums; an installation from upstream's source has no package
//!   database, so its scripts must be those of a verified upstream
//!   release;
//! * the distribution hook: Debian's post-install (trixie and later) ends
//!   its create-missing step with configure-instance.sh, in one of two
//!   known flavours, told apart by the lines that differ.
//!
//! The data the scripts read (postfix-files, the prototypes, main.cf) is
//! read where it is used.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::Decline;
use super::digest::md5_hex;
use crate::config::Params;
use crate::config::installation::{self, Release};
use crate::instance::secondary::SilentMainCf;
use crate::maincf::expand::parse_compatibility_level;
use crate::maincf::fnv::fnv1a;
use crate::maincf::{path, regular};
use crate::msg;

/// Debian's hook at the end of post-install's create-missing step, and the
/// helper it copies files with.
pub const DEBIAN_CONFIGURE_INSTANCE: &str = "/usr/lib/postfix/configure-instance.sh";
pub const DEBIAN_SYNCFILES: &str = "/usr/lib/postfix/syncfiles.pl";
/// The line of post-install that runs the hook.
const DEBIAN_HOOK_LINE: &[u8] = b"    /usr/lib/postfix/configure-instance.sh || exit 1";
/// Where dpkg records the digests of the postfix package's files.
const DPKG_MD5SUMS: &str = "/var/lib/dpkg/info/postfix.md5sums";

/// The release lines whose scripts and programs we reproduce.
const VERIFIED_LINES: [(u64, u64); 3] = [(3, 7), (3, 10), (3, 11)];

/// Fingerprints (FNV-1a) of the scripts of upstream releases built and
/// installed from source with their own defaults, which we verified.
const UPSTREAM: [(&str, [(&str, u64); 3]); 1] = [(
    "3.10.13",
    [
        ("postmulti-script", 0x2167_afe9_d1d4_0ebd),
        ("postfix-script", 0x6200_4aa5_6643_1e42),
        ("post-install", 0x9e38_444f_0c7a_3da0),
    ],
)];

/// How Debian's configure-instance.sh furnishes a chrooted instance's
/// queue directory with the host's NSS modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NssCopies {
    /// trixie: `cp -pLuv -t lib -- $nss` into `<queue>/lib`.
    IntoLib,
    /// sid: syncfiles.pl into `<queue>/usr/lib/<multiarch>`.
    Synced,
}

/// Debian's configure-instance.sh, as post-install runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigureInstance {
    pub nss: NssCopies,
    /// The multiarch triplet substituted into the script at build time.
    pub multiarch: Vec<u8>,
}

/// An installation whose life-cycle scripts we reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub release: Release,
    /// Debian's hook, where post-install runs it.
    pub configure_instance: Option<ConfigureInstance>,
    /// "Debian's postfix 3.11.7" or "upstream Postfix 3.10.13", for -v.
    pub label: String,
}

impl Known {
    /// The installation, if we reproduce its scripts; else why not.
    pub fn recognise(params: &Params) -> Result<Known, Decline> {
        let installation = installation::current().ok_or(Decline::UnknownInstallation)?;
        let release = installation.release().ok_or_else(|| {
            Decline::UnverifiedRelease(
                crate::maincf::defaults::installed_mail_version()
                    .unwrap_or_default()
                    .to_vec(),
            )
        })?;
        if !VERIFIED_LINES.contains(&(release.major, release.minor)) {
            return Err(Decline::UnverifiedRelease(release.to_string().into_bytes()));
        }
        let daemon = |name: &str| path(&msg!(params.daemon_directory, b"/", name));
        let scripts = [
            daemon("postmulti-script"),
            daemon("postfix-script"),
            daemon("post-install"),
        ];
        let texts: Vec<Vec<u8>> = scripts
            .iter()
            .map(|s| regular::read(s).map_err(|_| Decline::Unreadable(s.clone())))
            .collect::<Result<_, _>>()?;
        let packaged = regular::read(Path::new(DPKG_MD5SUMS)).ok();
        let label = match &packaged {
            Some(md5sums) => {
                for (script, text) in scripts.iter().zip(&texts) {
                    check_packaged(md5sums, script, text)?;
                }
                format!("Debian's postfix {release}")
            }
            None => {
                check_upstream(release, &scripts, &texts)?;
                format!("upstream Postfix {release}")
            }
        };
        let post_install = &texts[2];
        let configure_instance = if post_install
            .split(|&b| b == b'\n')
            .any(|line| line.starts_with(DEBIAN_HOOK_LINE))
        {
            let md5sums = packaged
                .as_deref()
                .ok_or_else(|| Decline::UnverifiedScript(scripts[2].clone()))?;
            Some(debian_hook(md5sums)?)
        } else {
            None
        };
        Ok(Known {
            release,
            configure_instance,
            label,
        })
    }

    /// Whether `postfix -c <dir> ...` would run postfix-script for the
    /// instance `cf` without a word: postfix(1) changes into the command,
    /// daemon and queue directories and notes "backwards-compatible default
    /// settings" below its release's last compatibility level;
    /// postfix-script checks the directories and the master program.  (The
    /// queue directory is the caller's: create makes it first.)
    pub fn postfix_runs_quietly(&self, params: &Params, cf: &SilentMainCf) -> bool {
        let is_dir = |name: &str| cf.expanded(name).is_some_and(|v| path(&v).is_dir());
        let current = cf
            .expanded("compatibility_level")
            .and_then(|level| parse_compatibility_level(&level))
            .is_some_and(|level| level >= self.release.last_compatibility_level());
        current
            && ["command_directory", "daemon_directory", "meta_directory"]
                .iter()
                .all(|n| is_dir(n))
            && cf
                .expanded("shlib_directory")
                .is_some_and(|v| v == b"no" || path(&v).is_dir())
            && path(&msg!(params.daemon_directory, b"/master")).is_file()
    }
}

/// A script of the postfix package must match the package's digest.
fn check_packaged(md5sums: &[u8], file: &Path, text: &[u8]) -> Result<(), Decline> {
    let relative = file
        .as_os_str()
        .as_bytes()
        .strip_prefix(b"/")
        .unwrap_or_default();
    let recorded = md5sums.split(|&b| b == b'\n').find_map(|line| {
        let (digest, name) = line.split_at_checked(32)?;
        (name.strip_prefix(b"  ") == Some(relative)).then_some(digest)
    });
    match recorded {
        Some(digest) if digest == md5_hex(text).as_bytes() => Ok(()),
        Some(_) => Err(Decline::ModifiedScript(file.to_path_buf())),
        None => Err(Decline::UnverifiedScript(file.to_path_buf())),
    }
}

/// Scripts installed from upstream's source must be those of a release we
/// verified.
fn check_upstream(release: Release, scripts: &[PathBuf], texts: &[Vec<u8>]) -> Result<(), Decline> {
    let version = release.to_string();
    let (_, known) = UPSTREAM
        .iter()
        .find(|(v, _)| *v == version)
        .ok_or_else(|| Decline::UnverifiedRelease(version.clone().into_bytes()))?;
    for ((script, text), (_, fingerprint)) in scripts.iter().zip(texts).zip(known) {
        if fnv1a(text) != *fingerprint {
            return Err(Decline::UnverifiedScript(script.clone()));
        }
    }
    Ok(())
}

/// Debian's configure-instance.sh and syncfiles.pl, unmodified, in a
/// flavour we know.
fn debian_hook(md5sums: &[u8]) -> Result<ConfigureInstance, Decline> {
    let script = Path::new(DEBIAN_CONFIGURE_INSTANCE);
    let read =
        |file: &Path| regular::read(file).map_err(|_| Decline::Unreadable(file.to_path_buf()));
    let text = read(script)?;
    check_packaged(md5sums, script, &text)?;
    let syncfiles = Path::new(DEBIAN_SYNCFILES);
    check_packaged(md5sums, syncfiles, &read(syncfiles)?)?;
    let has = |line: &[u8]| text.split(|&b| b == b'\n').any(|l| l == line);
    let unknown = || Decline::UnknownHook(script.to_path_buf());
    let nss = if has(b"    cp -pLuv -t lib -- $nss || :") {
        NssCopies::IntoLib
    } else if has(b"    /usr/lib/postfix/syncfiles.pl $queue_directory $nss") {
        NssCopies::Synced
    } else {
        return Err(unknown());
    };
    // The /etc files both flavours keep in the queue directory.
    if !has(b"\tetc/localtime etc/services etc/resolv.conf etc/hosts \\")
        || !has(b"\tetc/host.conf etc/nsswitch.conf etc/nss_mdns.config \\")
    {
        return Err(unknown());
    }
    let multiarch = text
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"multiarch="))
        .filter(|m| {
            !m.is_empty()
                && m.iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .ok_or_else(unknown)?
        .to_vec();
    Ok(ConfigureInstance { nss, multiarch })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packaged_scripts_are_checked_against_dpkgs_digests() {
        let text = b"#!/bin/sh\n";
        let md5sums = format!(
            "{}  usr/lib/postfix/sbin/post-install\n0123456789abcdef0123456789abcdef  usr/sbin/postfix\n",
            md5_hex(text)
        );
        let script = Path::new("/usr/lib/postfix/sbin/post-install");
        assert_eq!(check_packaged(md5sums.as_bytes(), script, text), Ok(()));
        assert_eq!(
            check_packaged(md5sums.as_bytes(), script, b"#!/bin/sh\n# local change\n"),
            Err(Decline::ModifiedScript(script.to_path_buf()))
        );
        let other = Path::new("/usr/local/libexec/post-install");
        assert_eq!(
            check_packaged(md5sums.as_bytes(), other, text),
            Err(Decline::UnverifiedScript(other.to_path_buf()))
        );
    }
}
