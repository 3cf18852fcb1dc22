//! Whether the work ran on threads as asked (`not-concurrent`), judged from
//! the trace of the normal run: how many threads were spawned, whether they
//! could run at the same time (not joined one by one), which thread printed
//! each line, and how the CPU work was shared.

use super::observed::Observed;
use super::{Category, CheckOutcome};
use crate::spec::ThreadRules;
use crate::trace::Trace;
use regex::Regex;

pub fn judge(name: &str, points: u32, rules: &ThreadRules, run: &Observed) -> CheckOutcome {
    if super::output::judge_termination(name, points, &run.outcome).is_some() {
        return CheckOutcome::skip(
            name,
            points,
            "not judged: the program did not finish normally",
        );
    }
    let Some(trace) = &run.trace else {
        return CheckOutcome::skip(
            name,
            points,
            "not judged: the thread trace is not available on this platform",
        );
    };
    match broken(rules, trace, &run.outcome.stdout) {
        None => CheckOutcome::pass(name, points, summary(trace)),
        Some(message) => CheckOutcome::fail(name, points, Category::NotConcurrent, message)
            .with_details(super::timing::timeline(trace)),
    }
}

fn summary(trace: &Trace) -> String {
    let n = trace.spawned().len();
    format!(
        "{n} thread{} spawned, up to {} running at once",
        if n == 1 { "" } else { "s" },
        trace.max_concurrent()
    )
}

fn broken(rules: &ThreadRules, trace: &Trace, stdout: &[u8]) -> Option<String> {
    let spawned = trace.spawned().len();
    if let Some(min) = rules.min_spawned
        && spawned < min
    {
        return Some(format!(
            "the program spawned {spawned} thread{}; this exercise asks for {min}",
            if spawned == 1 { "" } else { "s" }
        ));
    }
    if let Some(min) = rules.spawned_before_join {
        let before = trace.spawned_before_first_join(0);
        if before < min {
            return Some(if trace.sequential_join_per_spawn() {
                format!(
                    "main joined each thread before spawning the next, so only one ran at a time; spawn all {min} first, then join them"
                )
            } else {
                format!(
                    "main spawned only {before} thread{} before its first join; spawn all {min} first so they run at the same time, then join them",
                    if before == 1 { "" } else { "s" }
                )
            });
        }
    }
    let lines = trace.line_writers(1, stdout);
    let matches = |patterns: &[String], text: &str| {
        patterns
            .iter()
            .filter_map(|p| Regex::new(p).ok())
            .any(|re| re.is_match(text))
    };
    let mut seen: Vec<(usize, String)> = Vec::new();
    for line in &lines {
        if matches(&rules.by_spawned, &line.text) {
            match line.writer() {
                Some(0) => {
                    return Some(format!(
                        "`{}` was printed by main, not by a spawned thread",
                        line.text
                    ));
                }
                Some(t) => {
                    if rules.distinct
                        && let Some((_, other)) = seen.iter().find(|(w, _)| *w == t)
                    {
                        return Some(format!(
                            "`{other}` and `{}` were printed by the same thread (thread {t}); each should come from its own thread",
                            line.text
                        ));
                    }
                    seen.push((t, line.text.clone()));
                }
                None => {}
            }
        }
        if matches(&rules.by_main, &line.text)
            && let Some(t) = line.writer().filter(|&t| t != 0)
        {
            return Some(format!(
                "`{}` was printed by thread {t}, not by main",
                line.text
            ));
        }
    }
    if let Some(min) = rules.min_cpu_share
        && let Some(message) = cpu_share(trace, min)
    {
        return Some(message);
    }
    None
}

/// Whether each spawned thread did a real share of the CPU work. A thread
/// may still be logging its end when `main` exits (a scoped thread signals
/// the scope before its body returns), so the threads' total comes from the
/// process's CPU time less `main`'s, and a thread without a logged time gets
/// an equal part of what the others leave.
fn cpu_share(trace: &Trace, min: f64) -> Option<String> {
    let exit = trace.exit?;
    let main_cpu = if exit.thread == Some(0) {
        exit.cpu_ns
    } else {
        0
    };
    let threads_cpu = exit.process_cpu_ns.saturating_sub(main_cpu);
    if exit.process_cpu_ns == 0 {
        return None;
    }
    if threads_cpu < main_cpu {
        return Some(format!(
            "main did {:.0}% of the CPU work and the spawned threads {:.0}%: split the work over the threads",
            100.0 * main_cpu as f64 / exit.process_cpu_ns as f64,
            100.0 * threads_cpu as f64 / exit.process_cpu_ns as f64,
        ));
    }
    let spawned = trace.spawned();
    let known: u64 = spawned.iter().filter_map(|t| t.cpu_ns).sum();
    let unknown = spawned.iter().filter(|t| t.cpu_ns.is_none()).count() as u64;
    let rest = threads_cpu
        .saturating_sub(known)
        .checked_div(unknown)
        .unwrap_or(0);
    let total = (known + rest * unknown).max(1);
    for t in spawned {
        let share = t.cpu_ns.unwrap_or(rest) as f64 / total as f64;
        if share < min {
            return Some(format!(
                "thread {} did only {:.0}% of the threads' CPU work; each thread should do a real share (at least {:.0}%)",
                t.index,
                100.0 * share,
                100.0 * min
            ));
        }
    }
    None
}
