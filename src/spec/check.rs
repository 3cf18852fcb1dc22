//! The checks a spec lists ([`CheckSpec`]): one table each, its `kind`
//! selecting the detector, its points, and the rules the detector reads
//! (a `threads` check's [`ThreadRules`], a `lib-threads` check's calls).

use super::calls::{self, CallRules};
use super::rule::{Rule, yes};
use serde::Deserialize;

/// One check and its points. `kind` selects the detector.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CheckSpec {
    /// Run the program once at normal timing and match its output.
    Output {
        name: String,
        points: u32,
        rules: Vec<Rule>,
        /// Whether every output line must be one the rules name (the
        /// default); `false` allows lines beyond the rules.
        #[serde(default = "yes")]
        exact: bool,
    },
    /// Run the program again with timing perturbed (sleeps and timeouts
    /// skipped, threads started late or first) and match the output of
    /// every `output` check again: right only at normal timing is
    /// `sleep-reliance` (or `early-exit` when `main` left threads behind).
    Timing {
        name: String,
        points: u32,
        /// The perturbed runs (default: [`crate::perturb::default_profiles`]).
        /// Each is a table such as `{ name = "late", start = "late" }`
        /// (`start`: `late`, `reverse`, `first` or `normal`); see the
        /// README's "Timing and threads".
        #[serde(default)]
        #[schemars(with = "Option<Vec<std::collections::BTreeMap<String, serde_json::Value>>>")]
        profiles: Option<Vec<crate::perturb::Profile>>,
    },
    /// What the thread trace of the normal run must show (`not-concurrent`
    /// when it does not).
    Threads {
        name: String,
        points: u32,
        /// At least this many threads spawned in all.
        #[serde(default)]
        min_spawned: Option<usize>,
        /// `main` spawns at least this many threads before it joins any.
        #[serde(default)]
        spawned_before_join: Option<usize>,
        /// Lines matching one of these are each written by a spawned thread.
        #[serde(default)]
        by_spawned: Vec<String>,
        /// Lines matched by `by_spawned` come each from a different thread.
        #[serde(default)]
        distinct: bool,
        /// Lines matching one of these are written by `main`.
        #[serde(default)]
        by_main: Vec<String>,
        /// Each spawned thread did at least this share of their CPU time.
        #[serde(default)]
        min_cpu_share: Option<f64>,
    },
    /// Explore every interleaving of a grader-owned scenario
    /// (`graders/<id>/model/<scenario>.rs`) under the model checker.
    Model {
        name: String,
        points: u32,
        /// The scenario's file name without `.rs`.
        scenario: String,
        /// Bound on preemptions per interleaving (`LOOM_MAX_PREEMPTIONS`);
        /// 2–3 keeps 3-thread models under a second and still finds the
        /// course's bugs (research/loom.md). Unbounded when absent.
        #[serde(default)]
        max_preemptions: Option<usize>,
        /// Wall time before the model counts as too large (never a pass).
        #[serde(default)]
        timeout_ms: Option<u64>,
    },
    /// How each call of a library function uses threads, observed through
    /// the model checker's facade: how many it spawns, what part of the
    /// result each produces, whether they can run at the same time
    /// (`not-concurrent` when a call breaks the rules).
    LibThreads {
        name: String,
        points: u32,
        /// The function and its parameters' names, as the rules use them:
        /// `"parallel_sum(numbers, workers)"`.
        call: String,
        /// The calls to observe, each the list of its arguments: integers,
        /// and lists of integers (passed as a `Vec`).
        args: Vec<Vec<crate::spec_expr::Arg>>,
        /// Exactly this many spawned threads: an expression over the
        /// parameters (`threads`, `min(workers, len(numbers))`).
        #[serde(default)]
        threads: Option<String>,
        /// At least this many (instead of `threads`).
        #[serde(default)]
        min_threads: Option<String>,
        /// At most this many (instead of `threads`).
        #[serde(default)]
        max_threads: Option<String>,
        /// A working thread's part of the result is at least this fraction
        /// of an equal part (default 0.5).
        #[serde(default)]
        min_share: Option<f64>,
        /// Wall time of one call's observation.
        #[serde(default)]
        timeout_ms: Option<u64>,
    },
    /// A functional test of the library's API, called on one thread
    /// (`graders/<id>/unit/<test>.rs`).
    Unit {
        name: String,
        points: u32,
        /// The test's file name without `.rs`.
        test: String,
        #[serde(default)]
        timeout_ms: Option<u64>,
    },
}

/// The threads a program must use, judged from the shim's trace.
#[derive(Debug, Clone, Default)]
pub struct ThreadRules {
    /// At least this many threads spawned in all.
    pub min_spawned: Option<usize>,
    /// `main` spawns at least this many threads before it joins any (so
    /// they can run at the same time; join-per-spawn fails this).
    pub spawned_before_join: Option<usize>,
    /// Output lines matching one of these patterns must each be written by
    /// a spawned thread, not by `main`.
    pub by_spawned: Vec<String>,
    /// Lines matched by `by_spawned` come each from a different thread.
    pub distinct: bool,
    /// Output lines matching one of these patterns must be written by `main`.
    pub by_main: Vec<String>,
    /// Each spawned thread did at least this share (0 to 1) of the CPU time
    /// of all spawned threads, and together they did the work.
    pub min_cpu_share: Option<f64>,
}

impl CheckSpec {
    pub fn name(&self) -> &str {
        match self {
            CheckSpec::Output { name, .. }
            | CheckSpec::Timing { name, .. }
            | CheckSpec::Threads { name, .. }
            | CheckSpec::Model { name, .. }
            | CheckSpec::LibThreads { name, .. }
            | CheckSpec::Unit { name, .. } => name,
        }
    }

    pub fn points(&self) -> u32 {
        match self {
            CheckSpec::Output { points, .. }
            | CheckSpec::Timing { points, .. }
            | CheckSpec::Threads { points, .. }
            | CheckSpec::Model { points, .. }
            | CheckSpec::LibThreads { points, .. }
            | CheckSpec::Unit { points, .. } => *points,
        }
    }

    /// The rules of a `lib-threads` check; `Err` says what is wrong with
    /// them (checked when the spec is loaded).
    pub fn call_rules(&self) -> Option<Result<CallRules, String>> {
        let CheckSpec::LibThreads {
            call,
            args,
            threads,
            min_threads,
            max_threads,
            min_share,
            ..
        } = self
        else {
            return None;
        };
        Some(calls::parse(
            call,
            args,
            threads.as_deref(),
            min_threads.as_deref(),
            max_threads.as_deref(),
            *min_share,
        ))
    }

    /// The rules of a `threads` check.
    pub fn thread_rules(&self) -> Option<ThreadRules> {
        match self {
            CheckSpec::Threads {
                min_spawned,
                spawned_before_join,
                by_spawned,
                distinct,
                by_main,
                min_cpu_share,
                ..
            } => Some(ThreadRules {
                min_spawned: *min_spawned,
                spawned_before_join: *spawned_before_join,
                by_spawned: by_spawned.clone(),
                distinct: *distinct,
                by_main: by_main.clone(),
                min_cpu_share: *min_cpu_share,
            }),
            _ => None,
        }
    }
}
