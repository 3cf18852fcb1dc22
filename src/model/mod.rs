//! The model-check stage (SPEC §1, §5, §7): a submission's library is run
//! under loom, every interleaving of a grader-owned scenario explored, and a
//! lost update, a broken invariant or a deadlock reported as the
//! interleaving that caused it. Also the functional tests of the library's
//! API on one thread.
//!
//! Students write plain `std::sync` / `std::thread` code. [`rewrite`] points
//! their library's paths at `grader_conc`, a facade over loom owned by the
//! grader ([`workspace`] builds it once per cache); [`harness`] compiles the
//! library and the scenarios with rustc directly; each scenario then runs in
//! its own process (a failure with live threads aborts the whole binary,
//! research/loom.md) under the run stage's limits, and [`explain`] turns
//! what it reported into words. A pass needs exit 0 *and* the harness's
//! "done, N iterations" line: a run cut short is never a pass (loom's own
//! time and permutation limits stop silently with success, so the harness
//! never sets them; a wall timeout is reported as `timeout`).
//!
//! Grader faults (loom does not build, a scenario file is missing) are
//! [`ModelError`]s; everything the submission causes is a verdict.

pub mod bypass;
pub mod explain;
pub mod harness;
mod registry;
pub mod rewrite;
// Half of it runs in the harnesses, as the `grader_seal` crate.
#[allow(dead_code)]
pub mod seal;
pub mod workspace;

pub use workspace::{prepare, prepare_shown};

use crate::compile::Toolchain;
use crate::run::{self, Termination};
use crate::spec::ExerciseSpec;
use explain::{Report, Verdict};
use harness::Harness;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot build the model checker (loom and its facade) in {dir}: {message}")]
    Build { dir: PathBuf, message: String },
    #[error("cannot ask the compiler for its version: {0}")]
    Toolchain(String),
    #[error("grader file {path}: {message}")]
    Scenario { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Run(#[from] run::RunError),
}

/// Everything the model and unit checks of one submission share. The
/// harnesses are built on first use and reused by every check.
pub struct ModelContext<'a> {
    pub spec: &'a ExerciseSpec,
    /// The scratch crate holding the submission's `src/`.
    pub sources: &'a Path,
    /// The library as the build stage compiled it, for the unit tests.
    pub std_rlib: Option<&'a Path>,
    /// A folder for this stage's files (inside the submission's scratch).
    pub scratch: PathBuf,
    /// The grader's cache (`<root>/target/grader/`).
    pub cache: &'a Path,
    pub toolchain: &'a Toolchain,
    /// Limits of one scenario or test process (its wall time is the
    /// check's own, see [`ModelContext::limits_for`]).
    pub limits: run::Limits,
    model: OnceLock<Harness>,
    unit: OnceLock<Harness>,
}

/// How long a model may run before it counts as too large (a 3-thread,
/// 2-step model explores in ~0.3 s with 3 preemptions, research/loom.md).
pub const DEFAULT_MODEL_TIMEOUT: Duration = Duration::from_secs(20);
/// How long one functional test may run: they take milliseconds, and a
/// deadlocked one (a self-transfer that locks one mutex twice) waits all
/// of it.
pub const DEFAULT_UNIT_TIMEOUT: Duration = Duration::from_secs(3);

impl<'a> ModelContext<'a> {
    pub fn new(
        spec: &'a ExerciseSpec,
        sources: &'a Path,
        std_rlib: Option<&'a Path>,
        cache: &'a Path,
        toolchain: &'a Toolchain,
        limits: run::Limits,
    ) -> ModelContext<'a> {
        ModelContext {
            spec,
            sources,
            std_rlib,
            scratch: sources.join("model-stage"),
            cache,
            toolchain,
            limits,
            model: OnceLock::new(),
            unit: OnceLock::new(),
        }
    }

    fn limits_for(&self, wall: Duration) -> run::Limits {
        let mut l = self.limits.clone();
        l.wall = wall;
        l.cpu = wall + Duration::from_secs(1);
        l
    }

    /// Builds whichever harnesses the spec's checks need, the two in
    /// parallel (two rustc calls on two cores).
    fn harnesses(&self, want_model: bool, want_unit: bool) -> Result<(), ModelError> {
        let need_model = want_model && self.model.get().is_none();
        let need_unit = want_unit && self.unit.get().is_none();
        let (m, u) = std::thread::scope(|s| {
            let unit = need_unit.then(|| s.spawn(|| self.build_unit()));
            let model = need_model.then(|| self.build_model());
            let unit = unit.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            (model, unit)
        });
        if let Some(m) = m {
            let _ = self.model.set(m?);
        }
        if let Some(u) = u {
            let _ = self.unit.set(u?);
        }
        Ok(())
    }

    fn build_model(&self) -> Result<Harness, ModelError> {
        let pre = prepare(self.cache, self.toolchain)?;
        harness::build_model(self, &pre)
    }

    fn build_unit(&self) -> Result<Harness, ModelError> {
        match self.std_rlib {
            Some(rlib) => {
                let pre = prepare(self.cache, self.toolchain)?;
                harness::build_unit(self, rlib, &pre)
            }
            None => Ok(Harness::Rejected(Verdict {
                category: crate::checks::Category::CompileError,
                message: "the library was not built, so its functions cannot be tested".into(),
                details: String::new(),
            })),
        }
    }

    fn wants(&self) -> (bool, bool) {
        use crate::spec::CheckSpec;
        let model = self
            .spec
            .checks
            .iter()
            .any(|c| matches!(c, CheckSpec::Model { .. }));
        let unit = self
            .spec
            .checks
            .iter()
            .any(|c| matches!(c, CheckSpec::Unit { .. }));
        (model, unit)
    }

    pub(crate) fn model_harness(&self) -> Result<&Harness, ModelError> {
        if self.model.get().is_none() {
            let (_, unit) = self.wants();
            self.harnesses(true, unit)?;
        }
        Ok(self.model.get().expect("built above"))
    }

    pub(crate) fn unit_harness(&self) -> Result<&Harness, ModelError> {
        if self.unit.get().is_none() {
            let (model, _) = self.wants();
            self.harnesses(model, true)?;
        }
        Ok(self.unit.get().expect("built above"))
    }
}

/// What one scenario or test run showed.
#[derive(Debug, Clone)]
pub enum RunResult {
    /// Explored completely (model: iterations; unit: 1).
    Passed {
        iterations: u64,
        wall: Duration,
    },
    Failed(Verdict),
}

/// What one harness run showed: its report, the run, and the iterations
/// its own last step vouched for (`Some` only with a valid seal).
struct HarnessRun {
    report: Report,
    outcome: run::Outcome,
    proven: Option<u64>,
}

/// Runs `exe name` with a fresh key on its stdin (model: with the
/// preemption bound in the environment) and reads its report. Only lines
/// tagged from the key count, and a `done` only with the key's MAC over
/// what it claims (`kind`, `name`, the iterations, the pass): whatever the
/// student's code printed or however it exited, nothing else proves a pass.
fn run_harness(
    ctx: &ModelContext,
    kind: &str,
    exe: &Path,
    name: &str,
    env: &[(&str, String)],
    wall: Duration,
) -> Result<HarnessRun, ModelError> {
    let workdir = ctx.scratch.join("run");
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
    let run = run_harness(ctx, "model", &exe, scenario, &env, wall)?;
    let label = format!("scenario `{scenario}`");
    if let Some(v) = run.report.verdict(&label) {
        return Ok(RunResult::Failed(v));
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
fn abnormal(t: Termination, outcome: &run::Outcome, what: &str, wall: Duration) -> Verdict {
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
