//! systemd integration: a generator that makes boot start the enabled
//! instances of the primary's `multi_instance_directories`, in list order,
//! with the distribution's `postfix@.service` where it fits and our
//! `postmulti@.service` (systemd/ in the repository) elsewhere; systemd's
//! unit-name escaping, which both need; and, where systemd runs, the state
//! of those units for `-l --status`.  The generator reads files only.
//! Documented in docs/systemd.md.

#![forbid(unsafe_code)]

pub mod escape;
pub mod generator;
pub mod status;
