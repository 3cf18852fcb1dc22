//! The runtime of a model harness: runs one scenario under `loom`, counts
//! the iterations, and reports the outcome on stderr as protocol lines that
//! the grader parses (`<tag>done\t<iterations>\t<mac>` or `<tag>fail\t...`
//! followed by the trace of the failing iteration).
//!
//! Before any student code runs, [`main`] reads the run's key from stdin
//! (`grader_seal`): the tag of every protocol line derives from it, and the
//! `done` line carries a MAC under it, written by this runtime's own last
//! step. A submission can neither print a tagged line nor a valid `done`;
//! one that exits early (`process::exit(0)` in the middle of an iteration)
//! never gets that far, and calling [`main`] again from student code ends
//! the run as a failure. The runtime sets every loom option itself (the
//! environment is ignored): no duration or permutation cut-off, which would
//! end an exploration early and look like a pass.

use crate::trace;
use std::io::Write as _;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Exit status of a harness whose scenario failed (any failure; the kind is
/// in the protocol lines).
pub const EXIT_FAILED: i32 = 3;

static TAG: OnceLock<String> = OnceLock::new();
static KEY: OnceLock<grader_seal::Key> = OnceLock::new();
/// Set by the first call of [`main`]: a second call (student code naming
/// the harness) cannot start an exploration of its own.
static ENTERED: AtomicBool = AtomicBool::new(false);

/// How long the harness keeps exploring after a first failed assertion
/// when no iteration has passed yet, to tell "wrong in every interleaving"
/// (a wrong answer) from "wrong in some" (a race).
const SETTLE: Duration = Duration::from_millis(1500);

/// The first failed assertion: its report, when it happened.
static FIRST_FAILURE: Mutex<Option<(String, Instant)>> = Mutex::new(None);
/// Whether the running iteration has failed an assertion.
static ITERATION_FAILED: AtomicBool = AtomicBool::new(false);
static PASSED: AtomicUsize = AtomicUsize::new(0);
static FAILED: AtomicUsize = AtomicUsize::new(0);

fn tag() -> &'static str {
    TAG.get().map(String::as_str).unwrap_or("@@untagged ")
}

fn render(kind: &str, message: &str, loc: Option<&Location<'_>>) -> String {
    let tag = tag();
    let loc = loc
        .map(|l| format!("{}:{}", l.file(), l.line()))
        .unwrap_or_default();
    let mut out = format!(
        "\n{tag}fail\t{kind}\t{}\t{}\n",
        trace::esc(message),
        trace::esc(&loc)
    );
    out.push_str(&trace::dump(tag));
    out
}

fn emit(report: &str, extra: &str) -> ! {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(report.as_bytes());
    let _ = err.write_all(extra.as_bytes());
    let _ = writeln!(
        err,
        "{}counts\t{}\t{}\n{}end",
        tag(),
        PASSED.load(Ordering::Relaxed),
        FAILED.load(Ordering::Relaxed),
        tag()
    );
    let _ = err.flush();
    std::process::exit(EXIT_FAILED);
}

/// Reports the first failed assertion, if any, and exits.
fn emit_first_failure(extra: &str) {
    let first = FIRST_FAILURE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some((report, _)) = first {
        emit(&report, extra);
    }
}

/// A scenario's assertion failed: `message` says, in plain words, what
/// should have held. The iteration runs on (its other assertions are
/// ignored), so the harness can learn whether other interleavings pass.
#[track_caller]
pub fn assertion_failed(message: &str) {
    if ITERATION_FAILED.swap(true, Ordering::Relaxed) {
        return;
    }
    let mut first = FIRST_FAILURE.lock().unwrap_or_else(|e| e.into_inner());
    if first.is_none() {
        *first = Some((
            render("assert", message, Some(Location::caller())),
            Instant::now(),
        ));
    }
}

fn classify(message: &str, file: &str) -> &'static str {
    let from_loom = file.contains("/loom-") || file.contains("\\loom-");
    if message.starts_with(crate::thread::TOO_MANY_THREADS) {
        "threads"
    } else if from_loom && message.starts_with("deadlock;") {
        "deadlock"
    } else if from_loom && message.contains("maximum number of branches") {
        "branches"
    } else if from_loom && message.contains("Causality violation") {
        "causality"
    } else if from_loom && message.contains("leaked") {
        "leak"
    } else if from_loom {
        "internal"
    } else {
        "panic"
    }
}

/// Runs `name` from `scenarios` as the command line says:
/// `harness <scenario>`, with the run's key on stdin. `LOOM_MAX_PREEMPTIONS`
/// bounds the preemptions per interleaving; `LOOM_LOCATION` is forced on.
pub fn main(scenarios: &[(&str, fn())]) {
    if ENTERED.swap(true, Ordering::SeqCst) {
        // Student code called the harness: no report, a failed run.
        std::process::exit(EXIT_FAILED);
    }
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
        eprintln!("usage: harness <scenario>");
        std::process::exit(2);
    }
    let name = args[1].clone();
    let Some(&(_, scenario)) = scenarios.iter().find(|(n, _)| *n == name) else {
        eprintln!("no scenario named {name}");
        std::process::exit(2);
    };

    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload_as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| "a panic with a non-text payload".to_owned());
        // A failed assertion earlier in this iteration explains more than
        // what broke after it.
        emit_first_failure("");
        let file = info.location().map(|l| l.file()).unwrap_or("");
        emit(
            &render(classify(&message, file), &message, info.location()),
            "",
        );
    }));

    // `Builder::new` reads the preemption bound from the environment; the
    // cut-offs that end an exploration early with success are overridden.
    let mut builder = loom::model::Builder::new();
    builder.max_duration = None;
    builder.max_permutations = None;
    builder.checkpoint_file = None;
    builder.location = true;
    builder.log = false;
    let iterations = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = iterations.clone();
    builder.check(move || {
        let i = counter.fetch_add(1, Ordering::Relaxed) + 1;
        trace::reset(i);
        ITERATION_FAILED.store(false, Ordering::Relaxed);
        scenario();
        if ITERATION_FAILED.load(Ordering::Relaxed) {
            FAILED.fetch_add(1, Ordering::Relaxed);
        } else {
            PASSED.fetch_add(1, Ordering::Relaxed);
        }
        let since = FIRST_FAILURE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(_, at)| at.elapsed());
        match since {
            // Some interleavings pass and some fail: the outcome depends
            // on timing.
            Some(_) if PASSED.load(Ordering::Relaxed) > 0 => emit_first_failure(""),
            Some(t) if t > SETTLE => emit_first_failure(&format!("{}cut\n", tag())),
            _ => {}
        }
    });
    // Every interleaving explored failed (or none did).
    emit_first_failure("");
    // The last step: the claim, sealed under the run's key.
    let n = iterations.load(Ordering::Relaxed).to_string();
    let Some(key) = KEY.get() else {
        std::process::exit(EXIT_FAILED);
    };
    let mac = grader_seal::seal(key, &["model", &name, &n, "pass"]);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "\n{}done\t{n}\t{mac}", tag());
    let _ = err.flush();
    std::process::exit(0);
}
