//! Records the installation defaults of the Postfix this binary is built
//! for, so that the iterator path needs no `postconf -d` process at run time.
//!
//! For each parameter, in this order: the environment variable
//! `POSTMULTI_DEFAULT_<NAME>` (for packagers), the build host's
//! `postconf -d` (the Postfix the binary will run beside), and finally
//! upstream Postfix's compiled-in default.

use std::process::Command;

const INSTALL_PARAMETERS: [(&str, &str); 14] = [
    ("command_directory", "/usr/sbin"),
    ("daemon_directory", "/usr/libexec/postfix"),
    ("meta_directory", "/etc/postfix"),
    ("shlib_directory", "/usr/lib/postfix"),
    ("queue_directory", "/var/spool/postfix"),
    ("data_directory", "/var/lib/postfix"),
    ("mail_owner", "postfix"),
    ("setgid_group", "postdrop"),
    ("sendmail_path", "/usr/sbin/sendmail"),
    ("mailq_path", "/usr/bin/mailq"),
    ("newaliases_path", "/usr/bin/newaliases"),
    ("html_directory", "no"),
    ("manpage_directory", "/usr/local/man"),
    ("readme_directory", "no"),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let postconf =
        std::env::var("POSTMULTI_POSTCONF").unwrap_or_else(|_| "/usr/sbin/postconf".into());
    println!("cargo:rerun-if-env-changed=POSTMULTI_POSTCONF");
    // The directory, so that installing Postfix after a build is noticed.
    if let Some(dir) = std::path::Path::new(&postconf).parent() {
        println!("cargo:rerun-if-changed={}", dir.display());
    }
    let names: Vec<&str> = INSTALL_PARAMETERS.iter().map(|(n, _)| *n).collect();
    let installed = Command::new(&postconf)
        .arg("-d")
        .args(&names)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    for (name, upstream) in INSTALL_PARAMETERS {
        let var = format!("POSTMULTI_DEFAULT_{}", name.to_uppercase());
        println!("cargo:rerun-if-env-changed={var}");
        let from_host = installed.lines().find_map(|line| {
            let (n, v) = line.split_once(" = ").or_else(|| line.split_once(" ="))?;
            (n == name).then(|| v.to_string())
        });
        let value = std::env::var(&var)
            .ok()
            .or(from_host)
            .unwrap_or_else(|| upstream.to_string());
        println!("cargo:rustc-env={var}={value}");
    }
}
