//! The mail_conf library's dictionary as it grows during start-up: what
//! main.cf sets (unexpanded), `config_directory`, and each default stored
//! as its table entry is reached.  A value is expanded against the
//! dictionary as it is at that moment, so a reference to a parameter that
//! main.cf does not set and that has not been evaluated yet is empty, as
//! in Postfix.

use crate::diag;
use crate::error::Result;
use crate::fatal;
use crate::maincf::MainCf;
use crate::maincf::expand;
use crate::maincf::fnv::FnvHashMap;

/// The configuration dictionary (`mail_dict`).
#[derive(Debug, Clone, Default)]
pub struct Dictionary {
    values: FnvHashMap<Box<[u8]>, Box<[u8]>>,
}

impl Dictionary {
    /// What main.cf and the library's seed (`config_directory`) define.
    pub fn from_main_cf(cf: &MainCf) -> Dictionary {
        // Room for the table defaults stored later (some 150).
        let room = cf.names().count() + 160;
        let mut values = FnvHashMap::with_capacity_and_hasher(room, Default::default());
        values.extend(
            cf.names()
                .map(|name| (name.into(), cf.get(name).unwrap_or_default().into())),
        );
        Dictionary { values }
    }

    /// Whether `name` is defined yet.
    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name.as_bytes())
    }

    /// Stores a value (a default, or a value a default function computed).
    pub fn store(&mut self, name: &str, value: &[u8]) {
        self.values.insert(name.as_bytes().into(), value.into());
    }

    /// `mail_conf_lookup_eval`: the value of `name` expanded, `None` if it
    /// is not defined.  A macro error is fatal, after its warnings.
    pub fn lookup_eval(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match self.values.get(name.as_bytes()) {
            Some(raw) => self.eval(raw).map(Some),
            None => Ok(None),
        }
    }

    /// `mail_conf_eval`: `text` expanded against the dictionary.
    pub fn eval(&self, text: &[u8]) -> Result<Vec<u8>> {
        let mut lookup = |name: &[u8]| self.values.get(name).map(|v| v.to_vec());
        match expand::expand(text, &mut lookup, true) {
            Ok(expanded) => Ok(expanded.value),
            Err(error) => {
                for warning in &error.warnings {
                    diag::warn(warning);
                }
                fatal!(b"dictionary mail_dict: macro processing error")
            }
        }
    }

    /// The value of `name` expanded, empty if it is not defined (every
    /// parameter postmulti uses has been defined by start-up).
    pub fn value(&self, name: &str) -> Result<Vec<u8>> {
        Ok(self.lookup_eval(name)?.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dictionary(text: &str) -> Dictionary {
        let cf = MainCf::parse(
            text.as_bytes(),
            std::path::Path::new("main.cf"),
            &[],
            &mut |_| {},
        )
        .unwrap();
        Dictionary::from_main_cf(&cf)
    }

    #[test]
    fn references_see_only_what_is_defined_so_far() {
        let mut dict = dictionary("mail_name = $mail_owner\nmyhostname = $mail_name.example\n");
        assert_eq!(dict.value("mail_name").unwrap(), b"");
        dict.store("mail_owner", b"postfix");
        assert_eq!(dict.value("mail_name").unwrap(), b"postfix");
        assert_eq!(dict.value("myhostname").unwrap(), b"postfix.example");
        assert_eq!(dict.lookup_eval("undefined").unwrap(), None);
    }
}
