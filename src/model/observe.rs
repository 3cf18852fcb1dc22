//! The calls of a `lib-threads` check, run through the model harness and
//! watched by the facade (`facade/observe.rs`): how many threads each call
//! spawned, what part of the result each made, which of them could run at
//! the same time.
//!
//! Each call is a generated scenario of the model harness
//! (`call:<check>:<call>`) that the harness runs for one interleaving and
//! reports as an `obs ...` block beside its usual report; [`parse`] reads
//! that block (and nothing the student's code printed: the lines carry the
//! harness's tag). The observation is deterministic: loom's first
//! interleaving, with the facade making the threads take turns.

pub mod scenarios;

pub use scenarios::scenario_name;

use super::context::{Harness, ModelContext};
use super::error::ModelError;
use super::explain::Verdict;
use super::launch::{HarnessRun, abnormal, run_harness};
use crate::spec::CallRules;
use std::time::Duration;

/// How long one observed call may run (it is one interleaving).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// One thread as the facade saw it during the call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// 0 is the calling thread; spawned threads are numbered from 1 in the
    /// order they were spawned.
    pub number: usize,
    pub parent: usize,
    /// `lib.rs:12`.
    pub spawned_at: String,
    /// Writes to shared values, messages sent, values returned.
    pub ops: u32,
    /// Its part of the result (see the facade's `observe.rs`).
    pub part: i128,
    /// Some of its work had values the facade could not read.
    pub unknown: bool,
    pub finished: bool,
    /// Where another thread first waited for it (a join, a receive).
    pub waited_at: String,
}

/// What one call did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// The call's result as the facade showed it (`40`), when it could.
    pub result: String,
    /// The calling thread first, then every spawned thread.
    pub threads: Vec<Seen>,
    /// `(a, b)`: thread `a` had done all its work before `b` was spawned.
    pub before: Vec<(usize, usize)>,
    /// The block was closed (`obs end`).
    pub complete: bool,
}

impl Observation {
    pub fn caller(&self) -> Option<&Seen> {
        self.threads.iter().find(|t| t.number == 0)
    }

    pub fn spawned(&self) -> Vec<&Seen> {
        self.threads.iter().filter(|t| t.number != 0).collect()
    }

    /// The result as an integer (a number, or the sum of a list).
    pub fn result_value(&self) -> Option<i128> {
        let text = self.result.trim();
        match text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            Some(inner) => inner
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<i128>().ok())
                .sum(),
            None => text.parse().ok(),
        }
    }
}

/// Reads the `obs` lines of a report (fields after `obs`, unescaped).
pub fn parse(lines: &[Vec<String>]) -> Observation {
    let mut o = Observation::default();
    for f in lines {
        let get = |i: usize| f.get(i).cloned().unwrap_or_default();
        let num = |i: usize| get(i).parse::<u64>().unwrap_or(0);
        match get(0).as_str() {
            "result" => o.result = get(1),
            "thread" => o.threads.push(Seen {
                number: num(1) as usize,
                parent: num(2) as usize,
                spawned_at: get(3),
                ops: num(4) as u32,
                part: get(5).parse().unwrap_or(0),
                unknown: get(6) == "1",
                finished: get(7) == "1",
                waited_at: get(8),
            }),
            "before" => o.before.push((num(1) as usize, num(2) as usize)),
            "end" => o.complete = true,
            _ => {}
        }
    }
    o
}

/// What observing one call gave.
#[derive(Debug, Clone)]
pub enum CallRun {
    Observed(Observation),
    /// The call spawned more threads than the model follows.
    TooManyThreads,
    /// The call did not complete (a panic, a deadlock).
    Failed(Verdict),
    /// The library cannot be model-checked (or does not build with the
    /// calls).
    Rejected(Verdict),
}

/// Observes call `call` of the `lib-threads` check at index `check`.
pub fn run_call(
    ctx: &ModelContext,
    check: usize,
    call: usize,
    label: &str,
    wall: Duration,
) -> Result<CallRun, ModelError> {
    let exe = match ctx.model_harness()? {
        Harness::Ready { exe } => exe.clone(),
        Harness::Rejected(v) => return Ok(CallRun::Rejected(v.clone())),
    };
    let name = scenario_name(check, call);
    let mut run = run_harness(ctx, "model", &exe, &name, &[], wall)?;
    run.report.relocate(&ctx.sources.join("src"));
    Ok(judge_run(&run, label, wall))
}

/// A call's run: observed only when the harness's own sealed last step
/// vouches for it, whatever the library printed or however it exited.
fn judge_run(run: &HarnessRun, label: &str, wall: Duration) -> CallRun {
    let (report, outcome) = (&run.report, &run.outcome);
    if report.failure.as_ref().is_some_and(|f| f.kind == "threads") {
        return CallRun::TooManyThreads;
    }
    if let Some(v) = report.verdict(&format!("`{label}`")) {
        return CallRun::Failed(v);
    }
    let observed = parse(&report.observed);
    match (run.proven, observed.complete) {
        (Some(_), true) => CallRun::Observed(observed),
        _ => CallRun::Failed(abnormal(
            outcome.termination,
            outcome,
            &format!("`{label}`"),
            wall,
        )),
    }
}

/// Observes every call of `rules`, two at a time (one a core).
pub fn run_calls(
    ctx: &ModelContext,
    check: usize,
    rules: &CallRules,
    wall: Duration,
) -> Result<Vec<CallRun>, ModelError> {
    // Build the harness once, before the calls race for it.
    ctx.model_harness()?;
    let n = rules.calls.len();
    let mut out: Vec<Option<Result<CallRun, ModelError>>> = (0..n).map(|_| None).collect();
    for pair in (0..n).collect::<Vec<_>>().chunks(2) {
        let results = std::thread::scope(|s| {
            let handles: Vec<_> = pair
                .iter()
                .map(|&k| {
                    let label = rules.label(k);
                    s.spawn(move || run_call(ctx, check, k, &label, wall))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect::<Vec<_>>()
        });
        for (&k, r) in pair.iter().zip(results) {
            out[k] = Some(r);
        }
    }
    out.into_iter()
        .map(|r| r.expect("every call ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        text.lines()
            .map(|l| l.split('|').map(|f| f.trim().to_string()).collect())
            .collect()
    }

    #[test]
    fn an_observation_is_read_back() {
        let o = parse(&fields(
            "result | 40
             thread | 0 | 0 |  | 0 | 0 | 0 | 1 |
             thread | 1 | 0 | lib.rs:9 | 10 | 10 | 0 | 1 | lib.rs:14
             thread | 2 | 0 | lib.rs:9 | 10 | 10 | 1 | 1 |
             before | 1 | 2
             end",
        ));
        assert!(o.complete);
        assert_eq!(o.result_value(), Some(40));
        assert_eq!(o.spawned().len(), 2);
        assert_eq!(o.caller().unwrap().ops, 0);
        assert_eq!(o.threads[1].waited_at, "lib.rs:14");
        assert!(o.threads[2].unknown);
        assert_eq!(o.before, vec![(1, 2)]);
        let cut = parse(&fields("result | 40"));
        assert!(!cut.complete);
    }

    #[test]
    fn a_list_result_counts_by_its_sum() {
        let o = Observation {
            result: "[1, 2, 3]".into(),
            ..Observation::default()
        };
        assert_eq!(o.result_value(), Some(6));
    }
}
