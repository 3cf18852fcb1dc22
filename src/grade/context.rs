//! The runs of the student's program that the checks of one submission
//! share (the normal run, traced, and the perturbed runs beside it), and
//! each check judged on them.

use super::error::GradeError;
use crate::checks::observed::Observed;
use crate::checks::{self, CheckOutcome};
use crate::perturb::{self, Profile};
use crate::run;
use crate::spec::{CheckSpec, ExerciseSpec, Rule};
use crate::submission::Sources;
use crate::trace::Trace;
use std::path::{Path, PathBuf};

/// Everything the checks of one submission share.
pub struct Context<'a> {
    pub spec: &'a ExerciseSpec,
    pub sources: &'a Sources,
    pub exe: Option<&'a Path>,
    /// An empty folder the program runs in.
    pub workdir: &'a Path,
    pub cache: &'a Path,
    pub limits: run::Limits,
    /// The model checker's and functional tests' shared state (their
    /// harnesses are built once, whatever the number of rounds).
    pub model: &'a crate::model::ModelContext<'a>,
    pub(super) baseline: Option<Observed>,
    pub(super) perturbed: Option<Vec<Observed>>,
}

/// The timing shim, written to the cache once per process; `None` where the
/// platform has none (the checks that need it then say they were skipped).
fn shim(cache: &Path) -> Option<PathBuf> {
    static SHIM: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    SHIM.get_or_init(|| perturb::shim_path(cache).ok()).clone()
}

impl Context<'_> {
    /// One run of the program: normal (`profile` is `None`) or perturbed.
    /// Every run gets the same environment, argv and descriptors; only the
    /// shim's configuration, read and closed before `main`, differs.
    fn observe(&self, profile: Option<&Profile>) -> Result<Observed, GradeError> {
        let exe = self
            .exe
            .expect("checks that run the program have a program");
        let mut req = run::Request::new(exe, self.workdir, self.limits.clone())
            .env("HOME", self.workdir.as_os_str());
        #[cfg(target_os = "linux")]
        let channel = match shim(self.cache) {
            Some(shim) => {
                // Half the file-size limit: the trace is a file of the
                // program's, and must never be what stops it.
                let log_max = (self.limits.file_bytes / 2).clamp(64 << 10, 8 << 20);
                let channel = perturb::channel::Channel::new(&perturb::config(profile, log_max))
                    .map_err(|source| GradeError::Scratch {
                        path: PathBuf::from("(trace pipe)"),
                        source,
                    })?;
                req = req.env("LD_PRELOAD", shim.as_os_str());
                for (fd, at) in channel.fds() {
                    req = req.inherit(fd, at);
                }
                req = req.collect(channel.trace_socket());
                Some(channel)
            }
            None => None,
        };
        let outcome = run::run(&req)?;
        #[cfg(target_os = "linux")]
        let trace = channel
            .map(|_| Trace::parse(&outcome.collected))
            .filter(|t| t.loaded_into(exe));
        #[cfg(not(target_os = "linux"))]
        let trace = None;
        Ok(Observed {
            outcome,
            trace,
            profile: profile.cloned(),
        })
    }

    /// The program run once at normal timing (traced); shared by the checks
    /// that need it.
    pub fn baseline(&mut self) -> Result<&Observed, GradeError> {
        if self.baseline.is_none() {
            self.baseline = Some(self.observe(None)?);
        }
        Ok(self.baseline.as_ref().expect("set above"))
    }

    /// The program run under each profile, and the normal run if it has not
    /// run yet, all side by side: a correct program's perturbed run costs
    /// about what its normal run does (its sleeps are skipped, its threads
    /// wait only for each other), so together they cost little more than
    /// one on two cores. The normal run beside them is still at normal
    /// timing: CPU load alone never changed a verdict in the measurements
    /// (research/perturb.md, 2 CPU hogs).
    pub fn perturbed(&mut self, profiles: &[Profile]) -> Result<&[Observed], GradeError> {
        if self.perturbed.is_none() {
            let with_baseline = self.baseline.is_none();
            let this = &*self;
            let (baseline, runs) = std::thread::scope(|scope| {
                let handles: Vec<_> = profiles
                    .iter()
                    .map(|p| scope.spawn(move || this.observe(Some(p))))
                    .collect();
                let baseline = with_baseline.then(|| this.observe(None));
                let runs: Vec<Result<Observed, GradeError>> = handles
                    .into_iter()
                    .map(|h| h.join().expect("a run does not panic"))
                    .collect();
                (baseline, runs)
            });
            if let Some(b) = baseline {
                self.baseline = Some(b?);
            }
            self.perturbed = Some(runs.into_iter().collect::<Result<_, _>>()?);
        }
        Ok(self.perturbed.as_deref().expect("set above"))
    }

    /// Every output rule of the exercise that applies in perturbed runs.
    fn output_rules(&self) -> Vec<Rule> {
        self.spec
            .checks
            .iter()
            .filter_map(|c| match c {
                CheckSpec::Output { rules, .. } => {
                    Some(rules.iter().filter_map(Rule::for_perturbed))
                }
                _ => None,
            })
            .flatten()
            .collect()
    }
}

pub(super) fn run_check(ctx: &mut Context, check: &CheckSpec) -> Result<CheckOutcome, GradeError> {
    match check {
        CheckSpec::Model { .. } | CheckSpec::Unit { .. } => {
            Ok(checks::model::check(ctx.model, check)?)
        }
        CheckSpec::LibThreads { .. } => {
            let index = ctx
                .spec
                .checks
                .iter()
                .position(|c| c.name() == check.name())
                .unwrap_or(0);
            Ok(checks::lib_threads::check(ctx.model, index, check)?)
        }
        CheckSpec::Output {
            name,
            points,
            rules,
            ..
        } => {
            ctx.baseline()?;
            let perturbed_rules = ctx.output_rules();
            let runs = checks::timing::Runs {
                baseline: ctx.baseline.as_ref().expect("run above"),
                perturbed: ctx.perturbed.as_deref().unwrap_or_default(),
                rules: &perturbed_rules,
                sources: &ctx.sources.dir,
                wall_limit: ctx.limits.wall,
                bin: ctx.spec.kind == crate::spec::Kind::Bin,
            };
            Ok(checks::timing::judge_output(name, *points, rules, &runs))
        }
        CheckSpec::Timing {
            name,
            points,
            profiles,
        } => {
            let rules = ctx.output_rules();
            let profiles = profiles.clone().unwrap_or_else(perturb::default_profiles);
            if !perturb::SHIM_AVAILABLE {
                return Ok(CheckOutcome::skip(
                    name,
                    *points,
                    "skipped: timing perturbation needs LD_PRELOAD, which this platform lacks",
                ));
            }
            ctx.perturbed(&profiles)?;
            let runs = checks::timing::Runs {
                baseline: ctx.baseline.as_ref().expect("run with the perturbed runs"),
                perturbed: ctx.perturbed.as_deref().unwrap_or_default(),
                rules: &rules,
                sources: &ctx.sources.dir,
                wall_limit: ctx.limits.wall,
                bin: ctx.spec.kind == crate::spec::Kind::Bin,
            };
            Ok(checks::timing::judge(name, *points, &runs))
        }
        CheckSpec::Threads { name, points, .. } => {
            let rules = check.thread_rules().expect("a threads check");
            let run = ctx.baseline()?;
            Ok(checks::threads::judge(name, *points, &rules, run))
        }
    }
}
