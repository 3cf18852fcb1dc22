//! Support for the grader's functional tests (`graders/<id>/unit/*.rs`):
//! compiled into the unit harness beside the tests, never into the grader.
//!
//! A test is `pub fn test()` that calls the student's library on one thread
//! and states what it expects with `check_eq!` / `check!`. The first unmet
//! expectation ends the run as a wrong answer; any other panic is a crash.
//! `lenient(|| ...)` runs a call whose panicking is acceptable (where the
//! exercise's contract is silent). Results go to stderr as protocol lines
//! tagged with a tag derived from the run's key, which `main` reads from
//! stdin before any student code runs (`grader_seal`); a pass is a `done`
//! line sealed with that key by `main`'s last step, after the test
//! returned. The student's own output cannot forge either, and a library
//! that exits early never reaches that step.

use std::io::Write as _;
use std::panic::Location;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

static TAG: OnceLock<String> = OnceLock::new();
static KEY: OnceLock<grader_seal::Key> = OnceLock::new();
static LENIENT: AtomicBool = AtomicBool::new(false);

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

fn report(kind: &str, message: &str, loc: Option<&Location<'_>>) -> ! {
    let tag = TAG.get().map(String::as_str).unwrap_or("@@untagged ");
    let loc = loc
        .map(|l| format!("{}:{}", l.file(), l.line()))
        .unwrap_or_default();
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\n{tag}fail\t{kind}\t{}\t{}\n{tag}end\n",
        esc(message),
        esc(&loc)
    );
    let _ = err.flush();
    std::process::exit(3);
}

/// An expectation did not hold: a wrong answer.
#[track_caller]
pub fn wrong(message: &str) -> ! {
    report("wrong", message, Some(Location::caller()))
}

/// Runs `f`; a panic inside is accepted and gives `None`.
pub fn lenient<R>(f: impl FnOnce() -> R) -> Option<R> {
    LENIENT.store(true, Ordering::SeqCst);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    LENIENT.store(false, Ordering::SeqCst);
    r.ok()
}

/// `harness <test>`, with the run's key on stdin.
pub fn main(tests: &[(&str, fn())]) {
    // First thing, before any student code: the key, read to the end of
    // the pipe (nothing is left for anyone else to read).
    let Some(key) = grader_seal::read_key() else {
        eprintln!("harness: no key on stdin");
        std::process::exit(2);
    };
    let _ = TAG.set(format!("@@{} ", grader_seal::tag(&key)));
    let _ = KEY.set(key);
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 2 {
        eprintln!("usage: harness <test>");
        std::process::exit(2);
    }
    let name = args[1].clone();
    let Some(&(_, test)) = tests.iter().find(|(n, _)| *n == name) else {
        eprintln!("no test named {name}");
        std::process::exit(2);
    };
    std::panic::set_hook(Box::new(|info| {
        if LENIENT.load(Ordering::SeqCst) {
            return;
        }
        let message = info
            .payload_as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| "a panic with a non-text payload".to_owned());
        report("panic", &message, info.location());
    }));
    test();
    // The last step: the claim, sealed under the run's key.
    let (Some(tag), Some(key)) = (TAG.get(), KEY.get()) else {
        std::process::exit(3);
    };
    let mac = grader_seal::seal(key, &["unit", &name, "1", "pass"]);
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\n{tag}done\t1\t{mac}\n");
    let _ = err.flush();
    std::process::exit(0);
}

/// `check_eq!(got, expected, "what was called")`
macro_rules! check_eq {
    ($got:expr, $want:expr, $($what:tt)+) => {{
        let got = $got;
        let want = $want;
        if got != want {
            $crate::support::wrong(&format!(
                "{}: expected {:?}, got {:?}",
                format!($($what)+),
                want,
                got
            ));
        }
    }};
}

/// `check!(condition, "what should hold")`
#[allow(unused_macros)]
macro_rules! check {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            $crate::support::wrong(&format!($($msg)+));
        }
    };
}
