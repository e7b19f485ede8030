//! Panic fuzzing of every parser, in-process (docs/fuzzing.md): the option
//! grammar (`cli::parse`), the main.cf reader (`MainCf::parse`), the
//! expander (`expand`, recursive and not), the editor
//! (`EditRequest::new` + `apply`, in every release's dialect), master.cf
//! (`master_cf_is_plain`, `master_fields`), `Release::parse`,
//! `parse_compatibility_level`, `SilentMainCf::parse`, the list, boolean
//! and printable helpers.  (The installation cache's parser is private:
//! its fuzz test is a unit test in `src/config/installation.rs`.)
//!
//! Inputs are random bytes, generated main.cf files, values, requests and
//! command lines (`tests/fuzzgen`), and mutations of them.  None may
//! panic; a panicking input is saved under `target/fuzz-failures/` and
//! printed with its seed and index.
//!
//! `POSTMULTI_FUZZ_INPUTS` (default 100000), `POSTMULTI_FUZZ_SEED` (a
//! number or `random`; default fixed), `POSTMULTI_FUZZ_FIRST` (default 0).

mod fuzzgen;

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::time::Instant;

use fuzzgen::rng::{count_from_env, seed_from_env};
use fuzzgen::{Names, Rng, Style};
use postmulti::config::installation::Release;
use postmulti::instance::secondary::SilentMainCf;
use postmulti::maincf::edit::{Dialect, EditMode, EditRequest, apply};
use postmulti::maincf::expand::{expand, parse_compatibility_level};
use postmulti::maincf::mastercf::{master_cf_is_plain, master_fields};
use postmulti::maincf::{MainCf, parse_bool, split_list};

const DEFAULT_SEED: u64 = 20_260_601;
const DEFAULT_INPUTS: u64 = 100_000;

/// What the parsers get: one input of one target.
#[derive(Debug)]
enum Input {
    CommandLine(Vec<Vec<u8>>),
    MainCf(Vec<u8>),
    Expand {
        value: Vec<u8>,
        table: Vec<(Vec<u8>, Vec<u8>)>,
        recursive: bool,
    },
    Edit {
        mode: EditMode,
        args: Vec<Vec<u8>>,
        release: (u64, u64, u64),
        content: Vec<u8>,
    },
    MasterCf(Vec<u8>),
    Version(Vec<u8>),
    Silent {
        main_cf: Vec<u8>,
        master_cf: Vec<u8>,
    },
}

/// Either a generated text or random bytes, sometimes mutated.
fn text(rng: &mut Rng, generated: impl FnOnce(&mut Rng) -> Vec<u8>) -> Vec<u8> {
    let base = if rng.chance(1, 4) {
        fuzzgen::bytes(rng, 64)
    } else {
        generated(rng)
    };
    if rng.chance(1, 3) {
        fuzzgen::mutate(rng, &base)
    } else {
        base
    }
}

fn style(rng: &mut Rng) -> Style {
    if rng.chance(1, 4) {
        Style::Clean
    } else {
        Style::Wild
    }
}

fn make(seed: u64, index: u64, names: &Names) -> Input {
    let mut rng = Rng::for_case(seed, index);
    let rng = &mut rng;
    match index % 7 {
        0 => {
            let mut args = fuzzgen::command_line(rng);
            if rng.chance(1, 4) && !args.is_empty() {
                let i = rng.below(args.len());
                args[i] = fuzzgen::mutate(rng, &args[i]);
            }
            Input::CommandLine(args)
        }
        1 => Input::MainCf(text(rng, |r| {
            if r.chance(1, 10) {
                r.pick(fuzzgen::CORPUS).to_vec()
            } else {
                let s = style(r);
                names.main_cf(r, s)
            }
        })),
        2 => {
            let value = text(rng, |r| {
                let s = style(r);
                names.value(r, s)
            });
            let table = (0..rng.below(8))
                .map(|_| {
                    let name = names.name(rng, Style::Wild);
                    let s = style(rng);
                    (name, names.value(rng, s))
                })
                .collect();
            Input::Expand {
                value,
                table,
                recursive: rng.chance(3, 4),
            }
        }
        3 => {
            let content = text(rng, |r| {
                let s = style(r);
                names.main_cf(r, s)
            });
            let (mode, mut args) = names.edit_request(rng, &content);
            if rng.chance(1, 5) && !args.is_empty() {
                let i = rng.below(args.len());
                args[i] = fuzzgen::mutate(rng, &args[i]);
            }
            let mode = match mode {
                "-e" => EditMode::Set,
                "-X" => EditMode::Remove,
                _ => EditMode::CommentOut,
            };
            let release = if rng.chance(1, 8) {
                (rng.next_u64(), rng.next_u64(), rng.next_u64())
            } else {
                (
                    rng.below(5) as u64,
                    rng.below(14) as u64,
                    rng.below(20) as u64,
                )
            };
            Input::Edit {
                mode,
                args,
                release,
                content,
            }
        }
        4 => Input::MasterCf(text(rng, fuzzgen::master_cf)),
        5 => Input::Version(text(rng, |r| {
            let parts: Vec<String> = (0..r.below(5))
                .map(|_| match r.below(4) {
                    0 => String::new(),
                    1 => r.next_u64().to_string(),
                    _ => r.below(1100).to_string(),
                })
                .collect();
            parts.join(".").into_bytes()
        })),
        _ => Input::Silent {
            main_cf: text(rng, |r| {
                let s = style(r);
                names.main_cf(r, s)
            }),
            master_cf: text(rng, fuzzgen::master_cf),
        },
    }
}

/// Runs the parsers on `input`; whatever they return is fine, only
/// panics count.
fn run(input: &Input) {
    match input {
        Input::CommandLine(args) => {
            let args: Vec<OsString> = args.iter().map(|a| OsString::from_vec(a.clone())).collect();
            let _ = postmulti::cli::parse(b"postmulti", &args);
        }
        Input::MainCf(content) => {
            let mut warnings = 0usize;
            let seed: [(&[u8], &[u8]); 1] = [(b"config_directory", b"/etc/postfix")];
            if let Ok(cf) = MainCf::parse(content, Path::new("/x/main.cf"), &seed, &mut |_| {
                warnings += 1
            }) {
                for name in cf.names() {
                    let value = cf.get(name).unwrap_or_default();
                    let _ = parse_bool(value);
                    let _ = split_list(value).count();
                    let _ = postmulti::diag::printable(value, true);
                }
            }
        }
        Input::Expand {
            value,
            table,
            recursive,
        } => {
            let table: HashMap<&[u8], &[u8]> = table
                .iter()
                .map(|(n, v)| (n.as_slice(), v.as_slice()))
                .collect();
            // A lookup may be any function; this one gives up after a
            // while, so that a value doubling at each of a few levels
            // stays cheap.
            let mut budget = 2_000;
            let mut lookup = |n: &[u8]| {
                budget -= 1;
                (budget > 0)
                    .then(|| table.get(n).map(|v| v.to_vec()))
                    .flatten()
            };
            let _ = expand(value, &mut lookup, *recursive);
        }
        Input::Edit {
            mode,
            args,
            release,
            content,
        } => {
            let dialect = Dialect::of_release(release.0, release.1, release.2);
            if let Ok((request, _)) = EditRequest::new(*mode, args, dialect) {
                let _ = apply(content, b"/x/main.cf", &request);
            }
        }
        Input::MasterCf(content) => {
            let _ = master_cf_is_plain(content);
            for line in content.split(|&b| b == b'\n') {
                let _ = master_fields(line);
            }
        }
        Input::Version(text) => {
            if let Some(release) = Release::parse(text) {
                let _ = release.postconf_dialect();
                let _ = release.last_compatibility_level();
                let _ = release.to_string();
            }
            let _ = parse_compatibility_level(text);
        }
        Input::Silent { main_cf, master_cf } => {
            if let Some(cf) = SilentMainCf::parse(b"/x", main_cf, master_cf) {
                let _ = cf.expanded("queue_directory");
            }
        }
    }
}

/// One line on the real standard error (the test harness captures
/// `eprintln!`).
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

thread_local! {
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

#[test]
fn no_parser_panics() {
    let seed = seed_from_env("POSTMULTI_FUZZ_SEED", DEFAULT_SEED);
    let inputs = count_from_env("POSTMULTI_FUZZ_INPUTS", DEFAULT_INPUTS);
    let first = count_from_env("POSTMULTI_FUZZ_FIRST", 0);
    let names = Names::default();
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
    // Panics are caught and reported below, with their input.
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|info| {
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let text = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        PANIC.with(|p| *p.borrow_mut() = Some(format!("{text}{place}")));
    }));
    let started = Instant::now();
    let mut failures = Vec::new();
    for index in first..first + inputs {
        let input = make(seed, index, &names);
        if panic::catch_unwind(AssertUnwindSafe(|| run(&input))).is_err() {
            let why = PANIC.with(|p| p.borrow_mut().take()).unwrap_or_default();
            let report = format!(
                "seed {seed} input {index}: panicked: {why}\ninput: {input:?}\nreproduce: \
                 POSTMULTI_FUZZ_SEED={seed} POSTMULTI_FUZZ_FIRST={index} POSTMULTI_FUZZ_INPUTS=1 \
                 cargo test --release --test fuzz_panic\n"
            );
            let _ = std::fs::create_dir_all(&out);
            let _ = std::fs::write(out.join(format!("panic-{seed}-{index}.txt")), &report);
            say(&format!("fuzz_panic: {report}"));
            failures.push(format!("seed {seed} input {index}: {why}"));
            if failures.len() >= 20 {
                break;
            }
        }
    }
    panic::set_hook(previous);
    let seconds = started.elapsed().as_secs_f64();
    say(&format!(
        "fuzz_panic: seed {seed}, {inputs} inputs from {first} in {seconds:.1} s ({:.0} inputs/s), {} panicking",
        inputs as f64 / seconds,
        failures.len()
    ));
    assert!(
        failures.is_empty(),
        "{} input(s) panicked (saved under {}):\n{}",
        failures.len(),
        out.display(),
        failures.join("\n")
    );
}
