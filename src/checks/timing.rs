//! Reliance on sleep (and on luck): the program's output is judged again
//! under perturbed timing, and every failure gets its category from the
//! thread trace's facts ([`super::facts`]), never from which run happened
//! to finish first.
//!
//! Measured on a machine like ours (research/perturb.md): scheduling tricks
//! (pinning, `nice`, idle class, CPU hogs) never exposed "sleep instead of
//! join"; skipped sleeps plus a late thread start exposed it every time. The
//! perturbed runs ([`crate::perturb::default_profiles`]) skip every wait by
//! time and start threads only when every other thread waits by
//! synchronization, or before their spawner goes on. Output that is right
//! at normal timing and wrong there is a failure:
//!
//! - `sleep-reliance` when `main` waited by time (a sleep, a timeout, a
//!   yield loop, a loop on the clock) while threads it never joined had not
//!   finished, or when the output's order came from threads' sleeps, or on
//!   any other loss under perturbed timing ("luck");
//! - `early-exit` when `main` returned while threads it never joined had not
//!   finished, with no wait by time standing in for the join.
//!
//! The output check's failure is decided here too ([`judge_output`]): wrong
//! output at normal timing that is right in a perturbed run is timing, not
//! the answer, and is left to the timing check, so that a racy program gets
//! the same score whichever way its normal run went; a program stopped at
//! its time limit in the middle of a sleep is judged by the perturbed runs,
//! where the sleep costs nothing.

use super::facts::{self, Finding, TimeWait};
use super::observed::Observed;
use super::output::{evaluate, judge_run, judge_termination, numbered};
use super::{Category, CheckOutcome, Status};
use crate::run::{Activity, Termination};
use crate::spec::Rule;
use crate::trace::{SleepEvent, Trace};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The runs of one program and what they are judged against.
pub struct Runs<'a> {
    pub baseline: &'a Observed,
    /// Empty where the spec has no timing check (or the platform no shim).
    pub perturbed: &'a [Observed],
    /// The output rules as they apply in perturbed runs.
    pub rules: &'a [Rule],
    /// The submission's root, to name its files relative to it.
    pub sources: &'a Path,
    /// The run's wall-clock limit.
    pub wall_limit: Duration,
    /// A bin exercise. In a library exercise the output is the library's
    /// result, whose threads the model checker judges, and a worker that
    /// has sent its part and is only winding down when `main` returns would
    /// make "early exit" a matter of luck (06's fixtures: one run in four).
    pub bin: bool,
}

impl Runs<'_> {
    fn right(&self, run: &Observed) -> bool {
        judge_termination("", 0, &run.outcome).is_none()
            && evaluate(self.rules, &run.outcome.stdout_text()).is_empty()
    }

    /// The sleep the normal run was in when its time ran out.
    fn slept_past_limit(&self) -> Option<&SleepEvent> {
        let outcome = &self.baseline.outcome;
        if outcome.termination != (Termination::WallTimeout { blocked: false }) {
            return None;
        }
        if outcome
            .stopped_while
            .is_some_and(|a| a.running > 0 || a.sleeping == 0)
        {
            return None;
        }
        let trace = self.baseline.trace.as_ref()?;
        let stopped = outcome.wall.min(self.wall_limit).as_nanos() as u64;
        facts::sleeping_at_end(trace, stopped.saturating_sub(50_000_000))
    }
}

fn under(run: &Observed) -> (String, String) {
    let profile = run.profile.as_ref().expect("perturbed runs have a profile");
    (
        format!("under perturbed timing ({})", profile.describe()),
        profile.name.clone(),
    )
}

/// Judges the timing check: the perturbed runs of a program, against its
/// normal run.
pub fn judge(name: &str, points: u32, runs: &Runs) -> CheckOutcome {
    let base = runs.baseline;
    let slept = runs.slept_past_limit();
    if slept.is_none() && judge_termination(name, points, &base.outcome).is_some() {
        return CheckOutcome::skip(
            name,
            points,
            "not judged: the program did not finish normally at normal timing",
        );
    }
    let base_right =
        slept.is_none() && evaluate(runs.rules, &base.outcome.stdout_text()).is_empty();
    let wrong: Vec<&Observed> = runs.perturbed.iter().filter(|r| !runs.right(r)).collect();
    if !base_right && slept.is_none() && wrong.len() == runs.perturbed.len() {
        return CheckOutcome::skip(
            name,
            points,
            "not judged: the output is already wrong at normal timing",
        );
    }
    if wrong.is_empty() {
        if base_right || slept.is_some() {
            return pass(name, points, runs);
        }
        // Wrong at normal timing only: the normal run's trace says why.
        let lost = first_broken(runs, base);
        let what = "at normal timing, though right under perturbed timing";
        return match base.trace.as_ref().and_then(facts::find) {
            Some(finding) => explain(name, points, &finding, base, what, &lost, runs.sources),
            None => CheckOutcome::fail(
                name,
                points,
                Category::SleepReliance,
                format!("right only by luck: wrong {what}: {lost}"),
            ),
        }
        .with_details(account(runs, base, what));
    }
    // The finding that explains best, from whichever runs failed: the
    // category does not depend on which profile happened to catch it.
    let best = wrong
        .iter()
        .filter_map(|run| Some((run.trace.as_ref().and_then(facts::find)?, *run)))
        .min_by_key(|(finding, _)| finding.rank());
    if let Some((finding, run)) = best {
        let (under, profile) = under(run);
        let lost = first_broken(runs, run);
        let what = format!("{under}, profile `{profile}`");
        return explain(name, points, &finding, run, &under, &lost, runs.sources)
            .with_details(account(runs, run, &what));
    }
    let run = wrong[0];
    let (under, profile) = under(run);
    if let Some(mut failed) = judge_termination(name, points, &run.outcome) {
        failed.message = format!("{under}, {}", failed.message.trim_start_matches("the "));
        return failed;
    }
    let lost = first_broken(runs, run);
    CheckOutcome::fail(
        name,
        points,
        Category::SleepReliance,
        format!("right at normal timing only, by luck: {under}, {lost}"),
    )
    .with_details(account(runs, run, &format!("{under}, profile `{profile}`")))
}

fn pass(name: &str, points: u32, runs: &Runs) -> CheckOutcome {
    let n = runs.perturbed.len();
    let mut message = format!(
        "the output stays right under {n} perturbed run{}",
        if n == 1 { "" } else { "s" }
    );
    // A sleep followed by a join is harmless: worth a note, not a failure.
    if let Some(trace) = runs.baseline.trace.as_ref() {
        let pointless = trace
            .sleeps
            .iter()
            .filter(|s| s.thread == Some(0) && s.requested_ns >= 10_000_000)
            .any(|s| trace.spawned().iter().any(|t| t.running_at(s.at)));
        if pointless {
            message.push_str(
                "; note: main sleeps while its threads run, then waits for them — the wait alone is enough",
            );
        }
    }
    CheckOutcome::pass(name, points, message)
}

/// The first broken rule of a run, in words.
fn first_broken(runs: &Runs, run: &Observed) -> String {
    evaluate(runs.rules, &run.outcome.stdout_text())
        .first()
        .map(|b| b.message.clone())
        .unwrap_or_else(|| "its output was wrong".into())
}

/// The details of a failing run: broken rules, output, what the threads did.
fn account(runs: &Runs, run: &Observed, what: &str) -> String {
    let stdout = run.outcome.stdout_text();
    let mut details = String::new();
    let _ = writeln!(details, "{what}:");
    for b in evaluate(runs.rules, &stdout) {
        let _ = writeln!(details, "  ✗ {}", b.message);
    }
    let _ = writeln!(details, "the program printed:");
    details.push_str(&numbered(&stdout));
    if let Some(trace) = &run.trace {
        let _ = writeln!(details, "what the threads did in that run:");
        details.push_str(&timeline(trace));
    }
    details
}

/// The failure a finding stands for, with the line to change.
fn explain(
    name: &str,
    points: u32,
    finding: &Finding,
    run: &Observed,
    under: &str,
    lost: &str,
    sources: &Path,
) -> CheckOutcome {
    let trace = run.trace.as_ref().expect("a finding comes from a trace");
    let (category, text, site) = describe(finding, trace, sources);
    let mut out = CheckOutcome::fail(name, points, category, format!("{text}: {under}, {lost}"));
    if let Some((file, line, label)) = site {
        out = out.at(file, line, label);
    }
    out
}

/// A finding in words: its category, its sentence, and the line it is
/// about.
fn describe(
    finding: &Finding,
    trace: &Trace,
    sources: &Path,
) -> (Category, String, Option<(String, usize, &'static str)>) {
    match finding {
        Finding::WaitedByTime { how, threads } => {
            let who = thread_list(threads);
            let verb = if threads.len() == 1 { "was" } else { "were" };
            let it = if threads.len() == 1 { "it" } else { "them" };
            let (what, event) = match how {
                TimeWait::Sleep(s) => (format!("main slept {}", ms(s.requested_ns)), Some(s)),
                TimeWait::Timeout(w) => (
                    format!(
                        "main waited with a timeout of {} (it ended by time, not by the thread's signal)",
                        ms(w.requested_ns)
                    ),
                    Some(w),
                ),
                TimeWait::Yields(n) => (format!("main called yield_now {n} times"), None),
                TimeWait::ClockLoop(n) => (
                    format!("main read the clock {n} times in a loop (a wait by time)"),
                    None,
                ),
            };
            let site = event.and_then(|e| sleep_site(trace, e, sources));
            let at = site
                .as_ref()
                .map(|(f, l)| format!(" at {f}:{l}"))
                .unwrap_or_default();
            (
                Category::SleepReliance,
                format!("{what}{at} while {who} {verb} still running, and never joined {it}"),
                site.map(|(f, l)| (f, l, "main waits for its threads by time here")),
            )
        }
        Finding::LeftEarly { threads } => (Category::EarlyExit, early_exit(threads), None),
        Finding::OrderedBySleep(s) => {
            let site = sleep_site(trace, s, sources);
            let at = site
                .as_ref()
                .map(|(f, l)| format!(" (the sleep at {f}:{l})"))
                .unwrap_or_default();
            (
                Category::SleepReliance,
                format!("the output's order came from how long threads slept{at}"),
                site.map(|(f, l)| (f, l, "the order of the output depends on this sleep")),
            )
        }
    }
}

/// Judges an `output` check: its rules on the normal run, with the cases
/// the timing facts decide.
pub fn judge_output(name: &str, points: u32, rules: &[Rule], runs: &Runs) -> CheckOutcome {
    let base = runs.baseline;
    let mut outcome = judge_run(name, points, rules, &base.outcome);
    if outcome.status == Status::Pass {
        return outcome;
    }
    if let Some(sleep) = runs.slept_past_limit() {
        return slept_too_long(name, points, sleep, runs).with_details(outcome.details);
    }
    if outcome.category == Some(Category::Timeout)
        && let Some(activity) = base.outcome.stopped_while
        && matches!(base.outcome.termination, Termination::WallTimeout { .. })
    {
        outcome.message = format!(
            "the program ran past its time limit ({:.1} s) and was stopped while {}",
            runs.wall_limit.as_secs_f64(),
            doing(activity)
        );
        return outcome;
    }
    if outcome.category != Some(Category::WrongAnswer) {
        return outcome;
    }
    // Lost work breaks a rule the perturbed runs also judge; a wrong value
    // of a rule kept out of them (`perturbed = false`) is the answer's.
    let own: Vec<Rule> = rules.iter().filter_map(Rule::for_perturbed).collect();
    let lost_work = !evaluate(&own, &base.outcome.stdout_text()).is_empty();
    let right = |run: &&Observed| {
        judge_termination("", 0, &run.outcome).is_none()
            && evaluate(&own, &run.outcome.stdout_text()).is_empty()
    };
    if lost_work && let Some(right) = runs.perturbed.iter().find(right) {
        let (_, profile) = under(right);
        return CheckOutcome::pass(
            name,
            points,
            format!(
                "the output is right when the threads have time to finish (profile `{profile}`); \
                 at normal timing this run lost part of it, which the timing check judges"
            ),
        );
    }
    if runs.perturbed.is_empty()
        && runs.bin
        && let Some(trace) = &base.trace
        && let Some(Finding::LeftEarly { threads }) = facts::find(trace)
    {
        // No perturbed runs to decide from: the normal run's facts.
        outcome.category = Some(Category::EarlyExit);
        outcome.message = format!("{}: {}", early_exit(&threads), outcome.message);
    }
    outcome
}

/// The normal run was stopped at its time limit in the middle of a sleep:
/// the perturbed runs, where the sleep costs nothing, say whether the sleep
/// stood in for a wait.
fn slept_too_long(name: &str, points: u32, sleep: &SleepEvent, runs: &Runs) -> CheckOutcome {
    let trace = runs
        .baseline
        .trace
        .as_ref()
        .expect("the sleep is in the trace");
    let site = sleep_site(trace, sleep, runs.sources);
    let at = site
        .as_ref()
        .map(|(f, l)| format!(" at {f}:{l}"))
        .unwrap_or_default();
    let who = match sleep.thread {
        Some(0) => "main".to_string(),
        Some(t) => format!("thread {t}"),
        None => "a thread".to_string(),
    };
    let slept = format!(
        "{who} slept {}{at} against a time limit of {}",
        seconds(sleep.requested_ns),
        seconds(runs.wall_limit.as_nanos() as u64)
    );
    let found = runs
        .perturbed
        .iter()
        .filter(|r| !runs.right(r))
        .filter_map(|r| Some((r.trace.as_ref().and_then(facts::find)?, r)))
        .min_by_key(|(f, _)| f.rank());
    let mut out = match found {
        Some((finding, run)) => {
            let trace = run.trace.as_ref().expect("a finding comes from a trace");
            let then = match &finding {
                Finding::WaitedByTime { threads, .. } | Finding::LeftEarly { threads } => format!(
                    "main went on while {} {} still running, and never joined {}",
                    thread_list(threads),
                    if threads.len() == 1 { "was" } else { "were" },
                    if threads.len() == 1 { "it" } else { "them" },
                ),
                other => describe(other, trace, runs.sources).1,
            };
            let (under, _) = under(run);
            CheckOutcome::fail(
                name,
                points,
                Category::SleepReliance,
                format!(
                    "the program was stopped while sleeping: {slept}; with the sleep skipped, {then} ({under}: {})",
                    first_broken(runs, run)
                ),
            )
        }
        None => CheckOutcome::fail(
            name,
            points,
            Category::Timeout,
            format!("the program was stopped while sleeping: {slept}"),
        ),
    };
    if let Some((file, line)) = site {
        out = out.at(file, line, "this sleep outlasts the time limit");
    }
    out
}

fn doing(a: Activity) -> String {
    let threads = |n: usize| format!("{n} thread{}", if n == 1 { "" } else { "s" });
    if a.running > 0 {
        let mut text = format!("computing ({} running", threads(a.running));
        if a.sleeping + a.waiting > 0 {
            let _ = write!(
                text,
                ", {} sleeping or waiting",
                threads(a.sleeping + a.waiting)
            );
        }
        text.push(')');
        text
    } else if a.sleeping > 0 {
        format!("sleeping ({} in a sleep)", threads(a.sleeping))
    } else {
        format!(
            "waiting ({} waiting with a timeout or on I/O)",
            threads(a.waiting)
        )
    }
}

/// The student's line that called a sleep or a timed wait, relative to the
/// submission.
fn sleep_site(trace: &Trace, sleep: &SleepEvent, sources: &Path) -> Option<(String, usize)> {
    let init = trace.init.as_ref()?;
    let is_student = |p: &Path| !crate::symbolize::is_toolchain_source(p);
    let loc = crate::symbolize::sleep_site(init, sleep, is_student).ok()??;
    // A build reused from the build cache names the folder it was built in:
    // the file is the one at the same place under `src/` here.
    let relocated = || {
        let parts: Vec<_> = loc.file.components().collect();
        (0..parts.len())
            .filter(|&at| parts[at].as_os_str() == "src")
            .map(|at| parts[at..].iter().collect::<PathBuf>())
            .find(|rel| sources.join(rel).is_file())
    };
    let file = loc
        .file
        .strip_prefix(sources)
        .map(Path::to_path_buf)
        .ok()
        .or_else(relocated)
        .unwrap_or_else(|| loc.file.clone());
    Some((file.to_string_lossy().into_owned(), loc.line as usize))
}

fn ms(ns: u64) -> String {
    if ns >= 10_000_000_000 {
        seconds(ns)
    } else if ns >= 1_000_000 {
        // A timeout's deadline is read back a few µs after it was set.
        format!("{} ms", (ns + 500_000) / 1_000_000)
    } else {
        format!("{} µs", ns / 1_000)
    }
}

fn seconds(ns: u64) -> String {
    let s = ns as f64 / 1e9;
    if (s - s.round()).abs() < 0.05 {
        format!("{} s", s.round())
    } else {
        format!("{s:.1} s")
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
        if t.started.is_some() && t.start_delay_ns > 0 {
            parts.push(format!("held {}", ms(t.start_delay_ns)));
        }
        parts.push(match (t.started, t.finished, t.joined_by) {
            (_, Some(_), Some(0)) => "finished, joined by main".to_string(),
            (_, Some(_), Some(j)) => format!("finished, joined by thread {j}"),
            (_, Some(_), None) => "finished, never joined".to_string(),
            (None, None, _) if trace.exit.is_some() => {
                "had not started when the program ended".to_string()
            }
            (_, None, _) => "still running when the program ended".to_string(),
        });
        let _ = writeln!(out, "{}", parts.join(", "));
    }
    for s in trace.sleeps.iter().filter(|s| s.thread == Some(0)) {
        let slept = if s.effective_ns == 0 && s.requested_ns > 0 {
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
    for w in trace.timed_waits.iter().filter(|w| w.thread == Some(0)) {
        let _ = writeln!(
            out,
            "  main: waited with a timeout of {}",
            ms(w.requested_ns)
        );
    }
    for r in trace.repeats.iter().filter(|r| r.thread == Some(0)) {
        use crate::trace::RepeatKind;
        match r.kind {
            RepeatKind::Yield => {
                let _ = writeln!(out, "  main: called yield_now {} times", r.count);
            }
            RepeatKind::Clock if r.count >= 1000 => {
                let _ = writeln!(out, "  main: read the clock {} times in a row", r.count);
            }
            _ => {}
        }
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
