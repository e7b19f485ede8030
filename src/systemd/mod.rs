//! systemd integration: a generator that makes boot start the enabled
//! instances of the primary's `multi_instance_directories`, in list order,
//! with the distribution's `postfix@.service` where it fits and our
//! `postmulti@.service` (systemd/ in the repository) elsewhere; and
//! systemd's unit-name escaping, which both need.  Files only: nothing
//! here starts a process.  Documented in docs/systemd.md.

#![forbid(unsafe_code)]

pub mod escape;
pub mod generator;
