//! The configuration postmulti works from: the installed Postfix (its
//! defaults), the primary instance's main.cf, read and validated as
//! Postfix's mail_conf library does at start-up, and the parameters
//! evaluated from it.

#![forbid(unsafe_code)]

pub mod installation;
pub mod mail_params;
pub mod primary;

pub use primary::{CommandLists, Params, Primary, directory};
