//! The user and group checks of mail_params_init(): `default_privs` and
//! `mail_owner` must be unprivileged users, `setgid_group` an
//! unprivileged group, none sharing an ID with another.

use nix::unistd::{Gid, Group, Uid, User};

use crate::error::Result;
use crate::fatal;

/// An account checked: its name and IDs.
struct Account {
    name: Vec<u8>,
    uid: u32,
    gid: u32,
}

/// `file <config_dir>/main.cf: parameter <name>: `.
fn prefix(config_dir: &[u8], name: &str) -> Vec<u8> {
    crate::msg!(b"file ", config_dir, b"/main.cf: parameter ", name, b": ")
}

fn user(config_dir: &[u8], parameter: &str, name: &[u8]) -> Result<Account> {
    let found = std::str::from_utf8(name)
        .ok()
        .and_then(|n| User::from_name(n).ok().flatten());
    let Some(user) = found else {
        fatal!(
            prefix(config_dir, parameter),
            b"unknown user name value: ",
            name
        );
    };
    if user.uid.is_root() {
        fatal!(
            prefix(config_dir, parameter),
            b"user ",
            name,
            b" has privileged user ID"
        );
    }
    if user.gid.as_raw() == 0 {
        fatal!(
            prefix(config_dir, parameter),
            b"user ",
            name,
            b" has privileged group ID"
        );
    }
    Ok(Account {
        name: name.to_vec(),
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
    })
}

/// The checks, in the library's order.
pub fn check(
    config_dir: &[u8],
    default_privs: &[u8],
    mail_owner: &[u8],
    setgid_group: &[u8],
) -> Result<()> {
    let privs = user(config_dir, "default_privs", default_privs)?;
    let owner = user(config_dir, "mail_owner", mail_owner)?;
    if let Ok(Some(first)) = User::from_uid(Uid::from_raw(owner.uid))
        && first.name.as_bytes() != mail_owner
    {
        fatal!(
            prefix(config_dir, "mail_owner"),
            format!(
                "user {} has the same user ID {} as user {}",
                String::from_utf8_lossy(mail_owner),
                owner.uid,
                first.name
            )
        );
    }
    let found = std::str::from_utf8(setgid_group)
        .ok()
        .and_then(|n| Group::from_name(n).ok().flatten());
    let Some(group) = found else {
        fatal!(
            prefix(config_dir, "setgid_group"),
            b"unknown group name: ",
            setgid_group
        );
    };
    let setgid_gid = group.gid.as_raw();
    if setgid_gid == 0 {
        fatal!(
            prefix(config_dir, "setgid_group"),
            b"group ",
            setgid_group,
            b" has privileged group ID"
        );
    }
    if let Ok(Some(first)) = Group::from_gid(Gid::from_raw(setgid_gid))
        && first.name.as_bytes() != setgid_group
    {
        fatal!(
            prefix(config_dir, "setgid_group"),
            format!(
                "group {} has the same group ID {setgid_gid} as group {}",
                String::from_utf8_lossy(setgid_group),
                first.name
            )
        );
    }
    let both = |a: &str, b: &str| {
        crate::msg!(
            b"file ",
            config_dir,
            b"/main.cf: parameters ",
            a,
            b" and ",
            b
        )
    };
    let (p, o) = (
        String::from_utf8_lossy(&privs.name),
        String::from_utf8_lossy(&owner.name),
    );
    let g = String::from_utf8_lossy(setgid_group);
    if privs.name == owner.name {
        fatal!(
            both("default_privs", "mail_owner"),
            format!(" specify the same user {p}")
        );
    }
    if privs.uid == owner.uid {
        fatal!(
            both("default_privs", "mail_owner"),
            format!(": users {p} and {o} have the same user ID: {}", owner.uid)
        );
    }
    if privs.gid == owner.gid {
        fatal!(
            both("default_privs", "mail_owner"),
            format!(": users {p} and {o} have the same group ID: {}", owner.gid)
        );
    }
    if privs.gid == setgid_gid {
        fatal!(
            both("default_privs", "setgid_group"),
            format!(": user {p} and group {g} have the same group ID: {setgid_gid}")
        );
    }
    if owner.gid == setgid_gid {
        fatal!(
            both("mail_owner", "setgid_group"),
            format!(": user {o} and group {g} have the same group ID: {setgid_gid}")
        );
    }
    Ok(())
}
