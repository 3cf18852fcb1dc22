//! The `lib-threads` check: whether each call of a library function used
//! its threads as the exercise asks (`not-concurrent` when not), from what
//! the model checker's facade saw of the call ([`crate::model::observe`]).
//!
//! Per call, in order:
//! 1. the number of threads spawned is within the spec's bounds, which are
//!    expressions over the call's arguments (`threads`,
//!    `min(workers, len(numbers))`);
//! 2. at least the lower bound of them did a real share of the work: each
//!    made at least `min_share` of an equal part of the result (what it
//!    added to shared values, sent, or returned). Measuring the result
//!    rather than operations is what catches threads spawned for show while
//!    the caller computes, or that touch the counter once each;
//! 3. those working threads could all run at the same time: none had done
//!    all its work before another was spawned (joined or received from in
//!    between).
//!
//! The observation is one deterministic interleaving, so the verdict is the
//! same on every run.

use super::{Category, CheckOutcome};
use crate::model::observe::{self, CallRun, Observation, Seen};
use crate::model::{ModelContext, ModelError};
use crate::spec::{CallRules, CheckSpec};
use std::fmt::Write as _;
use std::time::Duration;

/// Runs the `lib-threads` check at index `index` of the spec.
pub fn check(
    ctx: &ModelContext,
    index: usize,
    check: &CheckSpec,
) -> Result<CheckOutcome, ModelError> {
    let CheckSpec::LibThreads {
        name,
        points,
        timeout_ms,
        ..
    } = check
    else {
        return Ok(CheckOutcome::skip(
            check.name(),
            check.points(),
            "not a lib-threads check",
        ));
    };
    let rules = match check.call_rules() {
        Some(Ok(r)) => r,
        // The spec loader refuses broken rules; a spec built otherwise says so.
        Some(Err(e)) => return Ok(CheckOutcome::skip(name, *points, format!("not run: {e}"))),
        None => return Ok(CheckOutcome::skip(name, *points, "not a lib-threads check")),
    };
    let wall = timeout_ms
        .map(Duration::from_millis)
        .unwrap_or(observe::DEFAULT_CALL_TIMEOUT);
    let runs = observe::run_calls(ctx, index, &rules, wall)?;
    Ok(judge(name, *points, &rules, &runs))
}

/// The verdict on every call's run.
pub fn judge(name: &str, points: u32, rules: &CallRules, runs: &[CallRun]) -> CheckOutcome {
    let mut details = String::new();
    for (k, run) in runs.iter().enumerate() {
        let label = rules.label(k);
        let (lo, hi) = bounds(rules, k);
        let asked = asked(rules, lo, hi);
        let o = match run {
            CallRun::Observed(o) => o,
            CallRun::TooManyThreads => {
                return CheckOutcome::fail(
                    name,
                    points,
                    Category::NotConcurrent,
                    format!(
                        "`{label}` spawned more than {} threads, where {asked}",
                        crate::spec::MODEL_THREADS
                    ),
                )
                .with_details(details);
            }
            CallRun::Rejected(v) => {
                return CheckOutcome::fail(name, points, v.category, v.message.clone())
                    .with_details(v.details.clone());
            }
            // The call did not complete (a panic, a deadlock): a verdict,
            // in one line; the model checks tell the story of such failures
            // with the interleaving and the lines.
            CallRun::Failed(v) => {
                return CheckOutcome::fail(name, points, v.category, v.message.clone());
            }
        };
        let _ = write!(details, "{}", summary(&label, o));
        if let Some(fail) = broken(rules, &label, o, lo, hi, &asked) {
            let mut outcome =
                CheckOutcome::fail(name, points, Category::NotConcurrent, fail.message)
                    .with_details(details);
            for (at, label) in fail.places {
                if let Some((file, line)) = source_line(&at) {
                    outcome = outcome.at(file, line, label);
                }
            }
            return outcome;
        }
    }
    let calls = runs.len();
    CheckOutcome::pass(
        name,
        points,
        format!(
            "{} used {} as asked: each a real share of the result, all able to run at once",
            if calls == 1 {
                format!("`{}`", rules.label(0))
            } else {
                format!("all {calls} calls")
            },
            if calls == 1 {
                "its threads"
            } else {
                "their threads"
            }
        ),
    )
    .with_details(details)
}

fn bounds(rules: &CallRules, k: usize) -> (i64, i64) {
    let args = &rules.calls[k];
    let lo = rules.min_threads.eval(&rules.params, args).unwrap_or(0);
    let hi = rules.max_threads.eval(&rules.params, args).unwrap_or(lo);
    (lo.max(0), hi.max(0))
}

/// "the exercise asks for 4 (`threads`)".
fn asked(rules: &CallRules, lo: i64, hi: i64) -> String {
    let (a, b) = (rules.min_threads.to_string(), rules.max_threads.to_string());
    let n = |v: i64| format!("{v} thread{}", if v == 1 { "" } else { "s" });
    if a == b {
        format!("the exercise asks for {} (`{a}`)", n(lo))
    } else if lo == hi {
        // Both bounds agree for this call: the upper one says why.
        format!("the exercise asks for {} (`{b}`)", n(lo))
    } else {
        format!("the exercise asks for {lo} to {} (`{a}` to `{b}`)", n(hi))
    }
}

/// "thread 1", "thread 1 and thread 2", "thread 1, thread 2 and thread 3".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn thread_name(n: usize) -> String {
    if n == 0 {
        "the calling thread".into()
    } else {
        format!("thread {n}")
    }
}

/// A broken rule: the message, and places in the student's code.
struct Broken {
    message: String,
    places: Vec<(String, String)>,
}

fn broken(
    rules: &CallRules,
    label: &str,
    o: &Observation,
    lo: i64,
    hi: i64,
    asked: &str,
) -> Option<Broken> {
    let spawned = o.spawned();
    let n = spawned.len() as i64;
    let result = o.result_value();
    let caller = o.caller().cloned().unwrap_or_default();
    let spawn_places = || -> Vec<(String, String)> {
        let mut places: Vec<(String, String)> = Vec::new();
        for t in &spawned {
            if !places.iter().any(|(at, _)| *at == t.spawned_at) {
                places.push((t.spawned_at.clone(), "threads are spawned here".into()));
            }
        }
        places
    };
    if n < lo {
        let message = if n == 0 {
            let did = match result {
                Some(r) => format!("the calling thread computed the whole result ({r}) itself"),
                None => "the calling thread did all the work itself".into(),
            };
            format!("`{label}` spawned no thread, where {asked}: {did}")
        } else {
            format!(
                "`{label}` spawned {n} thread{}, where {asked}",
                if n == 1 { "" } else { "s" }
            )
        };
        return Some(Broken {
            message,
            places: spawn_places(),
        });
    }
    if n > hi {
        return Some(Broken {
            message: format!("`{label}` spawned {n} threads, where {asked}"),
            places: spawn_places(),
        });
    }
    // Who did a real share of the result.
    let needed = match result {
        Some(r) if r > 0 && lo > 0 => Some(rules.min_share * r as f64 / lo as f64),
        _ => None,
    };
    let real = |t: &Seen| {
        t.ops > 0
            && (t.unknown
                || match needed {
                    Some(need) => t.part as f64 >= need,
                    None => true,
                })
    };
    let working: Vec<&Seen> = spawned.iter().copied().filter(|t| real(t)).collect();
    if (working.len() as i64) < lo {
        let idle: Vec<&Seen> = spawned.iter().copied().filter(|t| !real(t)).collect();
        let message = match (result, needed) {
            (Some(r), Some(need)) => {
                let made: i128 = spawned.iter().map(|t| t.part).sum();
                let short: Vec<String> = idle.iter().map(|t| thread_name(t.number)).collect();
                let who = if made <= 0 {
                    format!("none of its {n} threads made any of it")
                } else {
                    let parts: Vec<String> = spawned
                        .iter()
                        .map(|t| format!("{} {}", thread_name(t.number), t.part))
                        .collect();
                    format!(
                        "{} made too little of it ({})",
                        and_list(&short),
                        parts.join(", ")
                    )
                };
                let rest = if caller.part > 0 {
                    format!("; the calling thread made {} itself", caller.part)
                } else if made <= 0 {
                    "; it all came from the calling thread".into()
                } else if made < r {
                    "; the rest came from the calling thread".into()
                } else {
                    String::new()
                };
                let share = if rules.min_share == 0.5 {
                    "half an equal part".to_string()
                } else {
                    format!("{:.0}% of an equal part", rules.min_share * 100.0)
                };
                format!(
                    "`{label}` returned {r}, but {who}{rest}: each of {lo} threads should make a real \
                     share, at least {} ({share})",
                    need.ceil() as i128
                )
            }
            _ => format!(
                "`{label}` spawned {n} thread{}, but only {} of them did any work the model checker \
                 could see (a write to shared data, a message, a returned value), where {asked}",
                if n == 1 { "" } else { "s" },
                working.len()
            ),
        };
        let mut places = Vec::new();
        for t in idle {
            if !places
                .iter()
                .any(|(at, _): &(String, String)| *at == t.spawned_at)
            {
                places.push((
                    t.spawned_at.clone(),
                    format!(
                        "{} is spawned here and does too little",
                        thread_name(t.number)
                    ),
                ));
            }
        }
        return Some(Broken { message, places });
    }
    // Could the working threads run at the same time?
    let is_working = |x: usize| working.iter().any(|t| t.number == x);
    if let Some(&(a, b)) = o
        .before
        .iter()
        .find(|(a, b)| is_working(*a) && is_working(*b))
    {
        let first = o.threads.iter().find(|t| t.number == a);
        let second = o.threads.iter().find(|t| t.number == b);
        let waited = first.map(|t| t.waited_at.clone()).filter(|w| !w.is_empty());
        let how = match &waited {
            Some(w) => format!(" (it was waited for at {w} first)"),
            None => String::new(),
        };
        let mut places = Vec::new();
        if let Some(w) = &waited {
            places.push((
                w.clone(),
                format!("waits for thread {a} before thread {b} is spawned"),
            ));
        }
        if let Some(t) = second {
            places.push((t.spawned_at.clone(), format!("thread {b} is spawned here")));
        }
        return Some(Broken {
            message: format!(
                "`{label}` ran its threads one after another, never at the same time: thread {a} \
                 had done all its work before thread {b} was spawned{how}; spawn them all, then wait \
                 for them"
            ),
            places,
        });
    }
    None
}

/// What a call did, for the details under the check.
fn summary(label: &str, o: &Observation) -> String {
    let mut out = String::new();
    let result = if o.result.is_empty() {
        String::new()
    } else {
        format!(" returned {}", o.result)
    };
    let _ = writeln!(out, "`{label}`{result}:");
    for t in &o.threads {
        if t.number == 0 && t.ops == 0 {
            continue;
        }
        let at = if t.spawned_at.is_empty() {
            String::new()
        } else {
            format!(" (spawned at {})", t.spawned_at)
        };
        let part = if t.unknown {
            format!(
                "{} pieces of work, some with values the grader cannot read",
                t.ops
            )
        } else if t.ops == 0 {
            "did no work the model checker could see".into()
        } else {
            format!("made {} of the result", t.part)
        };
        let _ = writeln!(out, "  - {}{at}: {part}", thread_name(t.number));
    }
    if o.spawned().is_empty() {
        let _ = writeln!(out, "  - no thread was spawned");
    }
    out
}

/// `lib.rs:12` → (`src/lib.rs`, 12), for places in the student's library
/// (never the grader's scenarios).
fn source_line(at: &str) -> Option<(String, usize)> {
    if at.starts_with("scenario/") || at.starts_with('/') {
        return None;
    }
    let (file, line) = at.rsplit_once(':')?;
    let line = line.parse().ok()?;
    Some((format!("src/{file}"), line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ExerciseSpec;
    use std::path::Path;

    fn rules(extra: &str) -> CallRules {
        let text = format!(
            r#"
format_version = 1
title = "t"
lesson = "l"
kind = "lib+bin"
hint = "h"
[[check]]
kind = "lib-threads"
name = "threads"
points = 2
{extra}
"#
        );
        let spec = ExerciseSpec::parse(&text, Path::new("s.toml")).unwrap();
        spec.checks[0].call_rules().unwrap().unwrap()
    }

    fn counter() -> CallRules {
        rules(
            "call = \"count_concurrently(threads, increments)\"\nargs = [[4, 10]]\nthreads = \"threads\"",
        )
    }

    fn seen(number: usize, ops: u32, part: i128) -> Seen {
        Seen {
            number,
            ops,
            part,
            spawned_at: if number == 0 {
                String::new()
            } else {
                "lib.rs:9".into()
            },
            finished: true,
            ..Seen::default()
        }
    }

    fn obs(result: &str, threads: Vec<Seen>, before: Vec<(usize, usize)>) -> CallRun {
        CallRun::Observed(Observation {
            result: result.into(),
            threads,
            before,
            complete: true,
        })
    }

    #[test]
    fn four_threads_adding_ten_each_pass() {
        let run = obs(
            "40",
            vec![
                seen(0, 0, 0),
                seen(1, 10, 10),
                seen(2, 10, 10),
                seen(3, 10, 10),
                seen(4, 10, 10),
            ],
            vec![],
        );
        let o = judge("threads", 2, &counter(), &[run]);
        assert_eq!(o.status, super::super::Status::Pass, "{}", o.message);
    }

    #[test]
    fn no_thread_at_all_is_named_with_the_result() {
        let o = judge(
            "threads",
            2,
            &counter(),
            &[obs("40", vec![seen(0, 0, 0)], vec![])],
        );
        assert_eq!(o.category, Some(Category::NotConcurrent));
        assert_eq!(
            o.message,
            "`count_concurrently(4, 10)` spawned no thread, where the exercise asks for 4 threads \
             (`threads`): the calling thread computed the whole result (40) itself"
        );
    }

    #[test]
    fn threads_for_show_while_the_caller_counts_fail() {
        let run = obs(
            "40",
            vec![
                seen(0, 36, 36),
                seen(1, 1, 1),
                seen(2, 1, 1),
                seen(3, 1, 1),
                seen(4, 1, 1),
            ],
            vec![],
        );
        let o = judge("threads", 2, &counter(), &[run]);
        assert_eq!(o.category, Some(Category::NotConcurrent));
        assert_eq!(
            o.message,
            "`count_concurrently(4, 10)` returned 40, but thread 1, thread 2, thread 3 and thread 4 \
             made too little of it (thread 1 1, thread 2 1, thread 3 1, thread 4 1); the calling \
             thread made 36 itself: each of 4 threads should make a real share, at least 5 (half \
             an equal part)"
        );
        assert_eq!(o.locations[0].file, "src/lib.rs");
    }

    #[test]
    fn threads_joined_one_by_one_are_not_concurrent() {
        let mut t1 = seen(1, 10, 10);
        t1.waited_at = "lib.rs:14".into();
        let run = obs(
            "40",
            vec![
                seen(0, 0, 0),
                t1,
                seen(2, 10, 10),
                seen(3, 10, 10),
                seen(4, 10, 10),
            ],
            vec![(1, 2), (1, 3), (2, 3)],
        );
        let o = judge("threads", 2, &counter(), &[run]);
        assert_eq!(o.category, Some(Category::NotConcurrent));
        assert!(o.message.contains("thread 1 had done all its work before thread 2 was spawned (it was waited for at lib.rs:14 first)"), "{}", o.message);
        assert_eq!(o.locations[0].line, 14);
    }

    #[test]
    fn a_range_of_threads_and_unknown_values() {
        let r = rules(
            "call = \"parallel_sum(numbers, workers)\"\nargs = [[[5, 5], 3]]\n\
             min_threads = \"min(workers, len(numbers))\"\nmax_threads = \"workers\"",
        );
        // Two threads with a number each, one with none: right.
        let ok = obs(
            "10",
            vec![seen(0, 0, 0), seen(1, 1, 5), seen(2, 1, 5), seen(3, 1, 0)],
            vec![],
        );
        assert_eq!(judge("t", 1, &r, &[ok]).status, super::super::Status::Pass);
        // One thread whose message the grader cannot read: given the benefit.
        let mut t = seen(1, 1, 0);
        t.unknown = true;
        let one = obs("10", vec![seen(0, 0, 0), t, seen(2, 1, 10)], vec![]);
        assert_eq!(judge("t", 1, &r, &[one]).status, super::super::Status::Pass);
        let few = judge(
            "t",
            1,
            &r,
            &[obs("10", vec![seen(0, 0, 0), seen(1, 1, 10)], vec![])],
        );
        assert!(
            few.message
                .contains("spawned 1 thread, where the exercise asks for 2 to 3 threads"),
            "{}",
            few.message
        );
    }

    #[test]
    fn too_many_threads_fail() {
        let o = judge("t", 1, &counter(), &[CallRun::TooManyThreads]);
        assert_eq!(o.category, Some(Category::NotConcurrent));
        assert!(o.message.contains("more than 4"), "{}", o.message);
    }
}
