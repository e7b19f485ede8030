//! postmulti with `--systemd-generator` in front, as the test suites need
//! it (tests/systemd.rs binds this binary as /usr/sbin/postmulti in a
//! root), until src/cli wires the option into postmulti itself: the first
//! argument `--systemd-generator` runs the generator with the rest,
//! anything else is postmulti.

use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == "--systemd-generator") {
        return ExitCode::from(postmulti::systemd::generator::run(&args[1..]));
    }
    postmulti::main()
}
