//! Output matching made for concurrent programs.
//!
//! Threads print in an order nobody controls, so most rules say nothing of
//! order: a set of lines in any order, "exactly once", "this line is last",
//! "A before B". Each broken rule is named in words a student can act on
//! ("`Main function finished` must be the last line; it was line 1 of 3").
//!
//! This module judges text only. Whether the run crashed or timed out is
//! decided first, from grader-side facts, by [`judge_run`].

use super::{Category, CheckOutcome};
use crate::run::{Outcome, Termination};
use crate::spec::Rule;
use std::fmt::Write as _;

pub use super::rules::{evaluate, numbered};

/// Judges one run against the rules: first how it ended (grader-side facts
/// only), then what it printed.
pub fn judge_run(name: &str, points: u32, rules: &[Rule], run: &Outcome) -> CheckOutcome {
    if let Some(failed) = judge_termination(name, points, run) {
        return failed;
    }
    let stdout = run.stdout_text();
    let broken = evaluate(rules, &stdout);
    if broken.is_empty() {
        return CheckOutcome::pass(name, points, "the output is right");
    }
    let mut details = String::new();
    for b in &broken {
        let _ = writeln!(details, "✗ {}", b.message);
        if !b.details.is_empty() {
            for l in b.details.lines() {
                let _ = writeln!(details, "    {l}");
            }
        }
    }
    let _ = writeln!(details, "the program printed:");
    details.push_str(&numbered(&stdout));
    CheckOutcome::fail(
        name,
        points,
        Category::WrongAnswer,
        broken[0].message.clone(),
    )
    .with_details(details)
}

/// A failing outcome when the run did not end normally, or `None`.
pub fn judge_termination(name: &str, points: u32, run: &Outcome) -> Option<CheckOutcome> {
    let stderr = run.stderr_text();
    let tail = tail_lines(&stderr, 20);
    let fail = |category, message: String| {
        let mut details = String::new();
        if !tail.is_empty() {
            details.push_str("the program's stderr ended with:\n");
            for l in tail.lines() {
                let _ = writeln!(details, "    {l}");
            }
        }
        Some(CheckOutcome::fail(name, points, category, message).with_details(details))
    };
    match run.termination {
        Termination::Exited(0) => None,
        Termination::WallTimeout { blocked: true } => fail(
            Category::Deadlock,
            format!(
                "the program blocked forever: after {:.1} s every thread was waiting and none could go on",
                run.wall.as_secs_f64()
            ),
        ),
        Termination::WallTimeout { blocked: false } => fail(
            Category::Timeout,
            format!(
                "the program ran past its time limit ({:.1} s) and was stopped",
                run.wall.as_secs_f64()
            ),
        ),
        Termination::Signaled(libc::SIGXCPU) => fail(
            Category::Timeout,
            format!(
                "the program used more than its CPU time limit ({:.1} s of CPU)",
                run.cpu.as_secs_f64()
            ),
        ),
        Termination::Signaled(libc::SIGKILL) if run.cpu.as_secs() >= 1 && cpu_bound(run) => fail(
            Category::Timeout,
            format!(
                "the program used more than its CPU time limit ({:.1} s of CPU)",
                run.cpu.as_secs_f64()
            ),
        ),
        Termination::OutputLimit => fail(
            Category::ResourceLimit,
            format!(
                "the program printed more than {} and was stopped",
                human_bytes(run.stdout.len() + run.stderr.len())
            ),
        ),
        Termination::Signaled(libc::SIGXFSZ) => fail(
            Category::ResourceLimit,
            "the program wrote a file larger than its limit and was stopped".to_string(),
        ),
        Termination::Signaled(libc::SIGABRT) if stderr.contains("memory allocation of") => fail(
            Category::ResourceLimit,
            "the program tried to use more memory than its limit and was stopped".to_string(),
        ),
        Termination::MemoryLimit => fail(
            Category::ResourceLimit,
            "the program used more memory than its limit and was stopped".to_string(),
        ),
        Termination::TaskLimit => fail(
            Category::ResourceLimit,
            "the program started more threads or processes than its limit allows".to_string(),
        ),
        Termination::Signaled(sig) => fail(
            Category::Crash,
            format!(
                "the program was killed by signal {sig} ({})",
                signal_name(sig)
            ),
        ),
        // Where no cgroup counts refused forks, the task limit shows as the
        // panic of `thread::spawn`; it only ever picks between two failing
        // categories, so reading it from stderr cannot make a run pass.
        Termination::Exited(101) if stderr.contains("failed to spawn thread") => fail(
            Category::ResourceLimit,
            "the program started more threads than its limit allows (thread::spawn failed)"
                .to_string(),
        ),
        Termination::Exited(101) => match panic_message(&stderr) {
            Some(p) => fail(Category::Crash, format!("the program panicked: {p}")).map(|o| {
                match panic_location(&stderr) {
                    Some((file, line)) => o.at(file, line, "the first panic"),
                    None => o,
                }
            }),
            None => fail(
                Category::Crash,
                "the program panicked (exit status 101)".to_string(),
            ),
        },
        Termination::Exited(code) => fail(
            Category::Crash,
            format!("the program exited with status {code}; a finished program exits with 0"),
        ),
    }
}

fn cpu_bound(run: &Outcome) -> bool {
    run.cpu.as_secs_f64() >= 0.5 * run.wall.as_secs_f64()
}

fn human_bytes(n: usize) -> String {
    if n >= 1 << 20 {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGABRT => "SIGABRT: the program aborted",
        libc::SIGSEGV => "SIGSEGV: invalid memory access",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGPIPE => "SIGPIPE",
        _ => "signal",
    }
}

/// The first panic's location and message, from a Rust panic report:
/// `thread 'main' panicked at src/main.rs:4:5:\nmessage`.
pub fn panic_message(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    while let Some(l) = lines.next() {
        if let Some(rest) = l.split_once("panicked at ") {
            let thread = rest
                .0
                .trim()
                .strip_prefix("thread ")
                .unwrap_or("a thread")
                .trim();
            // Since Rust 1.88 the report adds the OS thread id: `'main' (21362)`.
            let thread = match thread.rsplit_once(" (") {
                Some((name, id))
                    if id.trim_end_matches(')').bytes().all(|b| b.is_ascii_digit()) =>
                {
                    name
                }
                _ => thread,
            };
            let at = rest.1.trim_end_matches(':');
            let msg = lines.next().unwrap_or("").trim();
            return Some(format!("{msg} (in thread {thread} at {at})"));
        }
    }
    None
}

/// The first panic's place, when it is in the submission's own sources
/// (`src/main.rs:6:33` → `("src/main.rs", 6)`).
pub fn panic_location(stderr: &str) -> Option<(String, usize)> {
    let (_, at) = stderr.lines().find_map(|l| l.split_once("panicked at "))?;
    let mut parts = at.trim_end_matches(':').rsplitn(3, ':');
    let _column = parts.next()?;
    let line: usize = parts.next()?.parse().ok()?;
    let file = parts.next()?;
    (file.starts_with("src/") && !file.contains("..")).then(|| (file.to_string(), line))
}

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    lines[start..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_are_found() {
        let stderr = "\nthread 'main' (4242) panicked at src/main.rs:4:5:\nboom\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(panic_location(stderr), Some(("src/main.rs".to_string(), 4)));
        assert_eq!(
            panic_message(stderr).unwrap(),
            "boom (in thread 'main' at src/main.rs:4:5)"
        );
    }
}
