//! The instance set: the primary instance and the secondaries listed in
//! its `multi_instance_directories`, how `-a/-g/-i` select among them, the
//! table of claimed names and directories that keeps instances from
//! sharing them, and reading a secondary's main.cf.

#![forbid(unsafe_code)]

mod claims;
mod load;
pub mod queue;
pub mod secondary;
pub mod status;

pub use claims::{Claims, check_shared_dirs};
pub use load::{Loaded, Unloadable, load, load_all, load_secondary, primary};

use crate::cli::Selection;

/// One Postfix instance as postmulti sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The config directory exactly as listed (no normalisation).
    pub config_dir: Vec<u8>,
    pub queue_dir: Vec<u8>,
    pub data_dir: Vec<u8>,
    pub name: Option<Vec<u8>>,
    pub group: Option<Vec<u8>>,
    pub enabled: bool,
    pub primary: bool,
}

impl Instance {
    /// Whether `-a`, `-g` or `-i` picks this instance.
    pub fn matches(&self, selection: &Selection) -> bool {
        match selection {
            Selection::Unspecified => false,
            Selection::All => true,
            Selection::Group(g) => self.group.as_ref() == Some(g),
            Selection::Name(s) => {
                if self.primary && s == b"-" {
                    return true;
                }
                let compared: &[u8] = match &self.name {
                    None => &self.config_dir,
                    Some(_) if s.first() == Some(&b'/') => &self.config_dir,
                    Some(name) => match name.strip_prefix(b"postfix-") {
                        Some(short) if !s.starts_with(b"postfix-") => short,
                        _ => name,
                    },
                };
                s.as_slice() == compared
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(dir: &str, name: Option<&str>, group: Option<&str>, primary: bool) -> Instance {
        Instance {
            config_dir: dir.into(),
            queue_dir: vec![],
            data_dir: vec![],
            name: name.map(Into::into),
            group: group.map(Into::into),
            enabled: true,
            primary,
        }
    }

    fn by_name(s: &str) -> Selection {
        Selection::Name(s.into())
    }

    #[test]
    fn name_selection() {
        let out = instance("/etc/postfix-out", Some("postfix-out"), Some("mta"), false);
        assert!(out.matches(&by_name("postfix-out")));
        assert!(out.matches(&by_name("out")));
        assert!(out.matches(&by_name("/etc/postfix-out")));
        assert!(!out.matches(&by_name("/etc/postfix-out/")));
        assert!(!out.matches(&by_name("-")));
        let nameless = instance("/etc/postfix-x", None, None, false);
        assert!(nameless.matches(&by_name("/etc/postfix-x")));
        assert!(!nameless.matches(&by_name("x")));
        let primary = instance("/etc/postfix", Some("postfix-main"), None, true);
        assert!(primary.matches(&by_name("-")));
        let foo = instance("/etc/foo", Some("foo"), None, false);
        assert!(foo.matches(&by_name("foo")));
        assert!(!foo.matches(&by_name("postfix-foo")));
    }

    #[test]
    fn group_selection_skips_groupless() {
        let a = instance("/a", Some("postfix-a"), Some("mta"), false);
        let b = instance("/b", Some("postfix-b"), None, false);
        let g = Selection::Group(b"mta".to_vec());
        assert!(a.matches(&g));
        assert!(!b.matches(&g));
        assert!(!a.matches(&Selection::Unspecified));
    }
}
