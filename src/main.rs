//! postmulti, Postfix's multi-instance manager: everything is in the
//! library; see `lib.rs` for the start-up sequence.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    postmulti::main()
}
