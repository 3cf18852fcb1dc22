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
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A rule the output broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// One line, naming the rule and what was seen.
    pub message: String,
    /// Optional extra lines (a diff).
    pub details: String,
}

/// Checks every rule against the program's stdout; returns the broken ones.
pub fn evaluate(rules: &[Rule], stdout: &str) -> Vec<Broken> {
    let mut broken = Vec::new();
    let lines = split_lines(stdout);
    if !stdout.is_empty() && !stdout.ends_with('\n') {
        broken.push(Broken {
            message: format!(
                "the last line `{}` does not end with a newline (use `println!`)",
                lines.last().copied().unwrap_or_default()
            ),
            details: String::new(),
        });
    }
    for rule in rules {
        if let Some(b) = check_rule(rule, &lines) {
            broken.push(b);
        }
    }
    broken
}

fn split_lines(stdout: &str) -> Vec<&str> {
    let body = stdout.strip_suffix('\n').unwrap_or(stdout);
    if stdout.is_empty() {
        Vec::new()
    } else {
        body.split('\n').collect()
    }
}

fn positions(lines: &[&str], want: &str) -> Vec<usize> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| **l == want)
        .map(|(i, _)| i + 1)
        .collect()
}

fn list(ns: &[usize]) -> String {
    let s: Vec<String> = ns.iter().map(|n| n.to_string()).collect();
    match s.len() {
        0 => String::new(),
        1 => s[0].clone(),
        _ => format!("{} and {}", s[..s.len() - 1].join(", "), s[s.len() - 1]),
    }
}

fn of(lines: &[&str]) -> String {
    match lines.len() {
        0 => "the output is empty".to_string(),
        1 => "the output has 1 line".to_string(),
        n => format!("the output has {n} lines"),
    }
}

fn check_rule(rule: &Rule, lines: &[&str]) -> Option<Broken> {
    let fail = |message: String| {
        Some(Broken {
            message,
            details: String::new(),
        })
    };
    match rule {
        Rule::Lines { lines: want } => {
            if lines.iter().copied().eq(want.iter().map(String::as_str)) {
                return None;
            }
            let expected = want.join("\n") + "\n";
            let got = if lines.is_empty() {
                String::new()
            } else {
                lines.join("\n") + "\n"
            };
            let first = want
                .iter()
                .zip(lines)
                .position(|(w, g)| w != g)
                .unwrap_or(want.len().min(lines.len()));
            let message = match (want.get(first), lines.get(first)) {
                (Some(w), Some(g)) => {
                    format!("line {} should be `{w}` but was `{g}`", first + 1)
                }
                (Some(w), None) => format!("line {} should be `{w}` but {}", first + 1, of(lines)),
                (None, Some(g)) => format!(
                    "expected {} lines, but there is more: line {} is `{g}`",
                    want.len(),
                    first + 1
                ),
                (None, None) => "the output differs from the expected lines".to_string(),
            };
            Some(Broken {
                message,
                details: diff(&expected, &got),
            })
        }
        Rule::Unordered { lines: want } => {
            let mut need: BTreeMap<&str, isize> = BTreeMap::new();
            for w in want {
                *need.entry(w.as_str()).or_default() += 1;
            }
            for g in lines {
                *need.entry(g).or_default() -= 1;
            }
            let missing: Vec<&str> = need
                .iter()
                .filter(|(_, n)| **n > 0)
                .flat_map(|(l, n)| std::iter::repeat_n(*l, *n as usize))
                .collect();
            let extra: Vec<&str> = need
                .iter()
                .filter(|(_, n)| **n < 0)
                .flat_map(|(l, n)| std::iter::repeat_n(*l, (-*n) as usize))
                .collect();
            if missing.is_empty() && extra.is_empty() {
                return None;
            }
            let mut parts = Vec::new();
            if !missing.is_empty() {
                parts.push(format!("missing {}", quote_all(&missing)));
            }
            if !extra.is_empty() {
                parts.push(format!("unexpected {}", quote_all(&extra)));
            }
            let mut details = String::from("expected these lines, in any order:\n");
            for w in want {
                let _ = writeln!(details, "  {w}");
            }
            Some(Broken {
                message: format!(
                    "the lines (in any order) are not right: {}",
                    parts.join("; ")
                ),
                details,
            })
        }
        Rule::Once { line } => {
            let at = positions(lines, line);
            match at.len() {
                1 => None,
                0 => fail(format!("`{line}` must appear exactly once; it is missing")),
                n => fail(format!(
                    "`{line}` must appear exactly once; it appeared {n} times (lines {})",
                    list(&at)
                )),
            }
        }
        Rule::Last { line } => {
            if lines.last() == Some(&line.as_str()) {
                return None;
            }
            let at = positions(lines, line);
            if at.is_empty() {
                fail(format!("`{line}` must be the last line; it is missing"))
            } else {
                fail(format!(
                    "`{line}` must be the last line; it was line {} of {}",
                    list(&at),
                    lines.len()
                ))
            }
        }
        Rule::First { line } => {
            if lines.first() == Some(&line.as_str()) {
                return None;
            }
            let at = positions(lines, line);
            if at.is_empty() {
                fail(format!("`{line}` must be the first line; it is missing"))
            } else {
                fail(format!(
                    "`{line}` must be the first line; it was line {} of {}",
                    list(&at),
                    lines.len()
                ))
            }
        }
        Rule::Before { first, then } => {
            let a = positions(lines, first);
            let b = positions(lines, then);
            if a.is_empty() {
                return fail(format!(
                    "`{first}` must come before `{then}`; `{first}` is missing"
                ));
            }
            if b.is_empty() {
                return fail(format!(
                    "`{first}` must come before `{then}`; `{then}` is missing"
                ));
            }
            let last_a = *a.last().expect("non-empty");
            let first_b = b[0];
            if last_a < first_b {
                None
            } else {
                fail(format!(
                    "`{first}` must come before `{then}`; `{then}` was line {first_b} and `{first}` line {last_a}"
                ))
            }
        }
        Rule::Regex { pattern, count } => {
            // The spec was validated at load time.
            let re = regex::Regex::new(pattern).ok()?;
            let n = lines.iter().filter(|l| re.is_match(l)).count();
            match count {
                None if n == 0 => fail(format!("no line matches /{pattern}/")),
                Some(c) if n != *c => fail(format!(
                    "expected {c} line{} matching /{pattern}/, found {n}",
                    if *c == 1 { "" } else { "s" }
                )),
                _ => None,
            }
        }
    }
}

fn quote_all(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| format!("`{l}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A line diff, `-` expected, `+` got.
pub fn diff(expected: &str, got: &str) -> String {
    let mut out = String::from("--- expected\n+++ got\n");
    let d = similar::TextDiff::from_lines(expected, got);
    for change in d.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => ' ',
        };
        let text = change.value().strip_suffix('\n').unwrap_or(change.value());
        let _ = writeln!(out, "{sign} {text}");
    }
    out
}

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

/// The output with line numbers, for failure details.
pub fn numbered(text: &str) -> String {
    let lines = split_lines(text);
    if lines.is_empty() {
        return "    (nothing)\n".to_string();
    }
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        let _ = writeln!(out, "  {:>3} | {l}", i + 1);
    }
    out
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

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn exact_lines_name_the_first_difference() {
        let rules = [Rule::Lines {
            lines: s(&["a", "b"]),
        }];
        assert!(evaluate(&rules, "a\nb\n").is_empty());
        let b = evaluate(&rules, "a\nc\n");
        assert_eq!(b[0].message, "line 2 should be `b` but was `c`");
        assert!(b[0].details.contains("- b"));
        assert!(b[0].details.contains("+ c"));
        let b = evaluate(&rules, "a\n");
        assert_eq!(
            b[0].message,
            "line 2 should be `b` but the output has 1 line"
        );
        let b = evaluate(&rules, "a\nb\nc\n");
        assert_eq!(
            b[0].message,
            "expected 2 lines, but there is more: line 3 is `c`"
        );
    }

    #[test]
    fn the_last_line_needs_its_newline() {
        let rules = [Rule::Lines {
            lines: s(&["a", "b"]),
        }];
        let b = evaluate(&rules, "a\nb");
        assert_eq!(b.len(), 1);
        assert!(b[0].message.contains("newline"));
    }

    #[test]
    fn unordered_lines_accept_any_order() {
        let rules = [Rule::Unordered {
            lines: s(&["x", "y", "y"]),
        }];
        assert!(evaluate(&rules, "y\nx\ny\n").is_empty());
        let b = evaluate(&rules, "y\nx\nz\n");
        assert_eq!(
            b[0].message,
            "the lines (in any order) are not right: missing `y`; unexpected `z`"
        );
    }

    #[test]
    fn last_names_where_the_line_was() {
        let rules = [Rule::Last {
            line: "Main function finished".into(),
        }];
        let b = evaluate(&rules, "Main function finished\na\nb\n");
        assert_eq!(
            b[0].message,
            "`Main function finished` must be the last line; it was line 1 of 3"
        );
        assert!(evaluate(&rules, "a\nMain function finished\n").is_empty());
    }

    #[test]
    fn once_counts() {
        let rules = [Rule::Once { line: "x".into() }];
        assert!(evaluate(&rules, "x\ny\n").is_empty());
        assert_eq!(
            evaluate(&rules, "x\ny\nx\n")[0].message,
            "`x` must appear exactly once; it appeared 2 times (lines 1 and 3)"
        );
        assert!(
            evaluate(&rules, "y\n")[0]
                .message
                .ends_with("it is missing")
        );
    }

    #[test]
    fn before_compares_every_occurrence() {
        let rules = [Rule::Before {
            first: "a".into(),
            then: "b".into(),
        }];
        assert!(evaluate(&rules, "a\nb\n").is_empty());
        assert_eq!(
            evaluate(&rules, "b\na\n")[0].message,
            "`a` must come before `b`; `b` was line 1 and `a` line 2"
        );
    }

    #[test]
    fn regex_counts_matching_lines() {
        let any = [Rule::Regex {
            pattern: "^n = \\d+$".into(),
            count: None,
        }];
        assert!(evaluate(&any, "n = 4\n").is_empty());
        assert!(!evaluate(&any, "n = x\n").is_empty());
        let two = [Rule::Regex {
            pattern: "^t\\d$".into(),
            count: Some(2),
        }];
        assert!(evaluate(&two, "t1\nt2\n").is_empty());
        assert_eq!(
            evaluate(&two, "t1\n")[0].message,
            "expected 2 lines matching /^t\\d$/, found 1"
        );
    }

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
