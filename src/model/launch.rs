//! Runs a built harness: one scenario of the model harness or one
//! functional test of the unit harness, each in its own process under the
//! run stage's limits, and judges what it reported. A pass needs the
//! harness's sealed last step; a run cut short is never one.

use super::context::{Harness, ModelContext};
use super::error::ModelError;
use super::explain::{self, Report, Verdict};
use crate::run::{self, Termination};
use std::path::Path;
use std::time::Duration;

// The grader's half of the proof of a harness's last step: it draws the
// keys and checks the MACs. The other half runs in the harnesses, as the
// `grader_seal` crate built from the same file (`workspace.rs`).
#[path = "seal.rs"]
#[allow(dead_code)]
mod seal;

/// How long a model may run before it counts as too large (a 3-thread,
/// 2-step model explores in ~0.3 s with 3 preemptions, research/loom.md).
pub const DEFAULT_MODEL_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one functional test may run: they take milliseconds, and a
/// deadlocked one (a self-transfer that locks one mutex twice) waits all
/// of it.
pub const DEFAULT_UNIT_TIMEOUT: Duration = Duration::from_secs(3);

/// What one scenario or test run showed.
#[derive(Debug, Clone)]
pub enum RunResult {
    /// Explored completely (model: iterations; unit: 1).
    Passed {
        iterations: u64,
        wall: Duration,
    },
    Failed(Verdict),
    /// An interleaving broke the scenario (or deadlocked): the verdict, and
    /// where in the student's code.
    Broken(Verdict, explain::Evidence),
}

/// What one harness run showed: its report, the run, and the iterations
/// its own last step vouched for (`Some` only with a valid seal).
pub(crate) struct HarnessRun {
    pub(super) report: Report,
    pub(super) outcome: run::Outcome,
    pub(super) proven: Option<u64>,
}

/// Runs `exe name` with a fresh key on its stdin (model: with the
/// preemption bound in the environment) and reads its report. Only lines
/// tagged from the key count, and a `done` only with the key's MAC over
/// what it claims (`kind`, `name`, the iterations, the pass): whatever the
/// student's code printed or however it exited, nothing else proves a pass.
pub(super) fn run_harness(
    ctx: &ModelContext,
    kind: &str,
    exe: &Path,
    name: &str,
    env: &[(&str, String)],
    wall: Duration,
) -> Result<HarnessRun, ModelError> {
    // A folder per run: runs go side by side (the model-side checks, the
    // calls of a lib-threads check), and the sandbox gives a run's folder,
    // walking it, to that run's user.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let workdir = ctx.scratch.join("run").join(n.to_string());
    std::fs::create_dir_all(&workdir).map_err(|source| ModelError::Io {
        path: workdir.clone(),
        source,
    })?;
    let key = seal::new_key().map_err(|source| ModelError::Io {
        path: "/dev/urandom".into(),
        source,
    })?;
    let mut req = run::Request::new(exe, &workdir, ctx.limits_for(wall))
        .arg(name)
        .stdin(key.to_vec())
        .env("HOME", workdir.as_os_str());
    for (k, v) in env {
        req = req.env(*k, v.as_str());
    }
    let outcome = run::run(&req)?;
    let report = explain::parse(&outcome.stderr_text(), &seal::tag(&key));
    let proven = report.done.filter(|n| {
        outcome.termination == Termination::Exited(0)
            && report.failure.is_none()
            && seal::verify(&key, &[kind, name, &n.to_string(), "pass"], &report.seal)
    });
    Ok(HarnessRun {
        report,
        outcome,
        proven,
    })
}

/// Runs one scenario of the model harness.
pub fn run_scenario(
    ctx: &ModelContext,
    scenario: &str,
    max_preemptions: Option<usize>,
    wall: Duration,
) -> Result<RunResult, ModelError> {
    let exe = match ctx.model_harness()? {
        Harness::Ready { exe } => exe.clone(),
        Harness::Rejected(v) => return Ok(RunResult::Failed(v.clone())),
    };
    let mut env = vec![("LOOM_LOCATION", "1".to_string())];
    if let Some(p) = max_preemptions {
        env.push(("LOOM_MAX_PREEMPTIONS", p.to_string()));
    }
    let mut run = run_harness(ctx, "model", &exe, scenario, &env, wall)?;
    run.report.relocate(&ctx.sources.join("src"));
    let label = format!("scenario `{scenario}`");
    if let Some(v) = run.report.verdict(&label) {
        let evidence = run.report.evidence(v.category);
        return Ok(RunResult::Broken(v, evidence));
    }
    Ok(match run.proven {
        Some(n) => RunResult::Passed {
            iterations: n,
            wall: run.outcome.wall,
        },
        None => RunResult::Failed(unproven(&run, "the model check", wall)),
    })
}

/// Runs one functional test of the unit harness.
pub fn run_unit(ctx: &ModelContext, test: &str, wall: Duration) -> Result<RunResult, ModelError> {
    let exe = match ctx.unit_harness()? {
        Harness::Ready { exe } => exe.clone(),
        Harness::Rejected(v) => return Ok(RunResult::Failed(v.clone())),
    };
    let run = run_harness(ctx, "unit", &exe, test, &[], wall)?;
    if let Some(f) = &run.report.failure {
        let at = if f.loc.is_empty() {
            String::new()
        } else {
            format!(" (at {})", f.loc)
        };
        let (category, message) = match f.kind.as_str() {
            "wrong" => (crate::checks::Category::WrongAnswer, f.message.clone()),
            _ => (
                crate::checks::Category::Crash,
                format!("panicked{at}: {}", f.message),
            ),
        };
        return Ok(RunResult::Failed(Verdict {
            category,
            message,
            details: String::new(),
        }));
    }
    Ok(match run.proven {
        Some(n) => RunResult::Passed {
            iterations: n,
            wall: run.outcome.wall,
        },
        None => RunResult::Failed(unproven(&run, "the test", wall)),
    })
}

/// A run whose harness did not vouch for a pass with its last step.
fn unproven(run: &HarnessRun, what: &str, wall: Duration) -> Verdict {
    match run.outcome.termination {
        // Exit 0 with no sealed report: the process ended before the
        // harness's last step (the library exited, or printed a report of
        // its own).
        Termination::Exited(0) => Verdict {
            category: crate::checks::Category::Crash,
            message: format!(
                "{what} ended the process (exit status 0) before the harness finished, so it is \
                 not a pass: the library must return to its caller, not exit"
            ),
            details: abnormal(Termination::Exited(0), &run.outcome, what, wall).details,
        },
        t => abnormal(t, &run.outcome, what, wall),
    }
}

/// A run that ended without a report of its own.
pub(super) fn abnormal(
    t: Termination,
    outcome: &run::Outcome,
    what: &str,
    wall: Duration,
) -> Verdict {
    use crate::checks::Category;
    let secs = wall.as_secs_f64();
    let (category, message) = match t {
        Termination::WallTimeout { blocked: true } => (
            Category::Deadlock,
            format!(
                "{what} never finished: after {secs:.0} s every thread was waiting for another (a deadlock)"
            ),
        ),
        Termination::WallTimeout { blocked: false } if what == "the model check" => (
            Category::Timeout,
            format!(
                "{what} did not finish within {secs:.0} s: the model is too large to explore \
                 (too many steps between threads), or a thread never ends; this is not a pass"
            ),
        ),
        Termination::WallTimeout { blocked: false } => (
            Category::Timeout,
            format!("{what} did not finish within {secs:.0} s"),
        ),
        Termination::Signaled(libc::SIGXCPU) | Termination::Signaled(libc::SIGKILL) => {
            (Category::Timeout, format!("{what} used up its CPU time"))
        }
        Termination::Signaled(sig) => (
            Category::Crash,
            format!("{what} was killed by signal {sig}"),
        ),
        Termination::OutputLimit => (
            Category::ResourceLimit,
            format!("{what} printed more than the output limit"),
        ),
        Termination::MemoryLimit => (Category::ResourceLimit, format!("{what} ran out of memory")),
        Termination::TaskLimit => (
            Category::ResourceLimit,
            format!("{what} started too many threads or processes"),
        ),
        Termination::Exited(code) => (
            Category::Crash,
            format!(
                "{what} ended the process early (exit status {code}) before it was complete, so it is not a pass"
            ),
        ),
    };
    let tail: Vec<&str> = {
        let text = std::str::from_utf8(&outcome.stderr).unwrap_or("");
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with("@@")).collect();
        lines[lines.len().saturating_sub(10)..].to_vec()
    };
    Verdict {
        category,
        message,
        details: tail.join("\n"),
    }
}
