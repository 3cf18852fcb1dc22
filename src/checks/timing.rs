//! Reliance on sleep (and on luck): the program's output is judged again
//! under perturbed timing, and a failure is explained from the thread trace.
//!
//! Measured on a machine like ours (research/perturb.md): scheduling tricks
//! (pinning, `nice`, idle class, CPU hogs) never exposed "sleep instead of
//! join"; sleeps fast-forwarded plus a delayed thread start exposed it every
//! time, and inverted sleeps exposed output ordered by sleeps. So a program
//! right at normal timing is run under each profile of the spec (default:
//! three), and output that is right only at normal timing is a failure:
//!
//! - `sleep-reliance` when `main` slept while threads it never joined were
//!   running (the lesson's example), or when the order of the output
//!   followed how long threads slept, or on any other loss under perturbed
//!   timing ("luck");
//! - `early-exit` when `main` returned while threads were still running and
//!   their work went missing, with no sleep standing in for the wait.
//!
//! The verdict rests on the output alone; the trace only explains it.

use super::output::{evaluate, judge_termination, numbered};
use super::{Category, CheckOutcome};
use crate::grade::Observed;
use crate::spec::Rule;
use crate::trace::Trace;
use std::fmt::Write as _;
use std::path::Path;

/// Judges the perturbed runs of a program whose baseline run was right.
pub fn judge(
    name: &str,
    points: u32,
    rules: &[Rule],
    baseline: &Observed,
    perturbed: &[Observed],
    sources: &Path,
) -> CheckOutcome {
    if judge_termination(name, points, &baseline.outcome).is_some()
        || !evaluate(rules, &baseline.outcome.stdout_text()).is_empty()
    {
        return CheckOutcome::skip(
            name,
            points,
            "not judged: the output is already wrong at normal timing",
        );
    }
    for run in perturbed {
        let profile = run.profile.as_ref().expect("perturbed runs have a profile");
        let under = format!("under perturbed timing ({})", profile.describe());
        if let Some(mut failed) = judge_termination(name, points, &run.outcome) {
            failed.message = format!("{under}, {}", failed.message.trim_start_matches("the "));
            return failed;
        }
        let stdout = run.outcome.stdout_text();
        let broken = evaluate(rules, &stdout);
        if broken.is_empty() {
            continue;
        }
        let lost = &broken[0].message;
        let mut details = String::new();
        let _ = writeln!(details, "{under} (profile `{}`):", profile.name);
        for b in &broken {
            let _ = writeln!(details, "  ✗ {}", b.message);
        }
        let _ = writeln!(details, "the program printed:");
        details.push_str(&numbered(&stdout));
        let Some(trace) = &run.trace else {
            return CheckOutcome::fail(
                name,
                points,
                Category::SleepReliance,
                format!("right at normal timing, wrong {under}: {lost}"),
            )
            .with_details(details);
        };
        let _ = writeln!(details, "what the threads did in that run:");
        details.push_str(&timeline(trace));
        return explain(name, points, trace, lost, &under, sources).with_details(details);
    }
    let mut message = format!(
        "the output stays right under {} perturbed run{}",
        perturbed.len(),
        if perturbed.len() == 1 { "" } else { "s" }
    );
    // A sleep followed by a join is harmless: worth a note, not a failure.
    if let Some(trace) = perturbed.iter().find_map(|r| r.trace.as_ref()) {
        let pointless = trace
            .sleeps
            .iter()
            .filter(|s| s.thread == Some(0) && s.requested_ns >= 10_000_000)
            .filter(|s| trace.spawned().iter().any(|t| t.running_at(s.at)))
            .count();
        if pointless > 0 {
            message.push_str(
                "; note: main sleeps while its threads run, then joins them — the join alone is enough",
            );
        }
    }
    CheckOutcome::pass(name, points, message)
}

/// Names the mistake behind a loss under perturbed timing.
fn explain(
    name: &str,
    points: u32,
    trace: &Trace,
    lost: &str,
    under: &str,
    sources: &Path,
) -> CheckOutcome {
    if let Some(s) = trace.sleeps_while_running().first() {
        let site = sleep_site(trace, &s.sleep, sources);
        let at = site
            .as_ref()
            .map(|(f, l)| format!(" at {f}:{l}"))
            .unwrap_or_default();
        let threads = thread_list(&s.never_joined);
        let message = format!(
            "main slept {}{at} while {threads} {} still running, and never joined {}: {under}, {lost}",
            ms(s.sleep.requested_ns),
            if s.never_joined.len() == 1 {
                "was"
            } else {
                "were"
            },
            if s.never_joined.len() == 1 {
                "it"
            } else {
                "them"
            },
        );
        let mut out = CheckOutcome::fail(name, points, Category::SleepReliance, message);
        if let Some((file, line)) = site {
            out = out.at(file, line, "main waits for its threads by sleeping here");
        }
        return out;
    }
    if let Some(alive) = trace.alive_at_exit().filter(|a| !a.is_empty()) {
        return CheckOutcome::fail(
            name,
            points,
            Category::EarlyExit,
            format!("{}: {under}, {lost}", early_exit(&alive)),
        );
    }
    if let Some(s) = trace
        .sleeps
        .iter()
        .find(|s| s.thread.is_some_and(|t| t > 0))
    {
        let site = sleep_site(trace, s, sources);
        let at = site
            .as_ref()
            .map(|(f, l)| format!(" (the sleep at {f}:{l})"))
            .unwrap_or_default();
        let mut out = CheckOutcome::fail(
            name,
            points,
            Category::SleepReliance,
            format!("the output's order came from how long threads slept{at}: {under}, {lost}"),
        );
        if let Some((file, line)) = site {
            out = out.at(file, line, "the order of the output depends on this sleep");
        }
        return out;
    }
    CheckOutcome::fail(
        name,
        points,
        Category::SleepReliance,
        format!("right at normal timing only, by luck: {under}, {lost}"),
    )
}

/// The student's line that called a sleep, relative to the submission.
fn sleep_site(
    trace: &Trace,
    sleep: &crate::trace::SleepEvent,
    sources: &Path,
) -> Option<(String, usize)> {
    let init = trace.init.as_ref()?;
    let is_student = |p: &Path| !crate::symbolize::is_toolchain_source(p);
    let loc = crate::symbolize::sleep_site(init, sleep, is_student).ok()??;
    let file = loc
        .file
        .strip_prefix(sources)
        .map(Path::to_path_buf)
        .unwrap_or(loc.file);
    Some((file.to_string_lossy().into_owned(), loc.line as usize))
}

fn ms(ns: u64) -> String {
    if ns >= 1_000_000 {
        format!("{} ms", ns / 1_000_000)
    } else {
        format!("{} µs", ns / 1_000)
    }
}

/// "main returned while thread 1 was still running, and its work was lost".
pub fn early_exit(alive: &[usize]) -> String {
    format!(
        "main returned while {} {} still running, and {} work was lost",
        thread_list(alive),
        if alive.len() == 1 { "was" } else { "were" },
        if alive.len() == 1 { "its" } else { "their" },
    )
}

fn thread_list(threads: &[usize]) -> String {
    let names: Vec<String> = threads.iter().map(|t| t.to_string()).collect();
    match names.len() {
        1 => format!("thread {}", names[0]),
        _ => format!("threads {}", names.join(", ")),
    }
}

/// A short account of the run's threads, for failure details.
pub fn timeline(trace: &Trace) -> String {
    let mut out = String::new();
    for t in trace.spawned() {
        let mut parts = vec![format!(
            "  thread {}: spawned by {}",
            t.index,
            t.created_by.map_or("?".to_string(), |c| if c == 0 {
                "main".to_string()
            } else {
                format!("thread {c}")
            })
        )];
        if t.start_delay_ns > 0 {
            parts.push(format!("started {} late", ms(t.start_delay_ns)));
        }
        parts.push(match (t.finished, t.joined_by) {
            (Some(_), Some(0)) => "finished, joined by main".to_string(),
            (Some(_), Some(j)) => format!("finished, joined by thread {j}"),
            (Some(_), None) => "finished, never joined".to_string(),
            (None, _) => "still running when the program ended".to_string(),
        });
        let _ = writeln!(out, "{}", parts.join(", "));
    }
    for s in trace.sleeps.iter().filter(|s| s.thread == Some(0)) {
        let slept = if s.effective_ns == 0 {
            "skipped".to_string()
        } else {
            format!("slept {}", ms(s.effective_ns))
        };
        let _ = writeln!(
            out,
            "  main: asked to sleep {} ({slept})",
            ms(s.requested_ns)
        );
    }
    if let Some(exit) = &trace.exit {
        let _ = writeln!(
            out,
            "  main returned with {} thread(s) still running",
            exit.pending
        );
    }
    out
}
