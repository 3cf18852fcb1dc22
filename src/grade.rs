//! The pipeline for one submission: intake → scan → build → run → checks.
//!
//! This is where a student's failure becomes data ([`GradeResult`], each
//! check a [`CheckOutcome`]) and the grader's own faults become
//! [`GradeError`]. Nothing here prints; reporting is `report`'s job.

use crate::checks::observed::Observed;
use crate::checks::{self, Category, CheckOutcome, Status};
use crate::compile::{self, Build, Toolchain};
use crate::perturb::{self, Profile};
use crate::project::Project;
use crate::run;
use crate::scan;
use crate::spec::{CheckSpec, ExerciseSpec, Rule};
use crate::submission::{self, Sources};
use crate::trace::Trace;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod proof;

#[derive(Debug, thiserror::Error)]
pub enum GradeError {
    #[error(transparent)]
    Intake(#[from] submission::IntakeError),
    #[error(transparent)]
    Compile(#[from] compile::CompileError),
    #[error(transparent)]
    Run(#[from] run::RunError),
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    #[error("cannot start the thread that parses the submission: {0}")]
    Parse(#[source] std::io::Error),
    #[error("cannot prepare a scratch folder in {path}: {source}")]
    Scratch {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Whether a submission passed. `Error` is the grader's fault, not the
/// student's (used by batch, where one fault must not stop the class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultStatus {
    Pass,
    Fail,
    Error,
}

/// The result object of SPEC §6.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GradeResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<String>,
    pub exercise: String,
    pub status: ResultStatus,
    pub score: u32,
    pub max_score: u32,
    /// Categories of the failing checks, each once, in check order.
    pub categories: Vec<Category>,
    pub checks: Vec<CheckOutcome>,
    /// Wall time of the whole grading.
    pub duration_ms: u64,
    /// When the grading ended (UTC, RFC 3339 to the second). Kept with the
    /// result, so a report written again from stored results (a resumed
    /// batch, a merge) says the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graded_at: Option<String>,
    /// The student's lines under each failed check (by check name),
    /// underlined as the terminal shows them. Rendered by `batch` while the
    /// sources exist, so that feedback written again from results (a
    /// resumed batch, a merge) still shows them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub excerpts: std::collections::BTreeMap<String, String>,
}

impl GradeResult {
    pub fn from_checks(
        exercise: &str,
        checks: Vec<CheckOutcome>,
        duration: Duration,
    ) -> GradeResult {
        let score = checks.iter().map(|c| c.points).sum();
        let max_score = checks.iter().map(|c| c.max_points).sum();
        let mut categories = Vec::new();
        for c in &checks {
            if let Some(cat) = c.category
                && !categories.contains(&cat)
            {
                categories.push(cat);
            }
        }
        let status = if checks.iter().all(|c| c.status == Status::Pass) {
            ResultStatus::Pass
        } else {
            ResultStatus::Fail
        };
        GradeResult {
            student: None,
            exercise: exercise.to_string(),
            status,
            score,
            max_score,
            categories,
            checks,
            duration_ms: duration.as_millis() as u64,
            graded_at: Some(now_utc()),
            excerpts: Default::default(),
        }
    }

    /// Whether grading the same submission again must give this result:
    /// no check's verdict rests on a clock. A `timeout` may not recur on an
    /// idle machine (a model too large for its time under load, a program
    /// slowed by its neighbours), so it is never stored for reuse; every
    /// other verdict is decided the same way on every run.
    pub fn settled(&self) -> bool {
        self.status != ResultStatus::Error
            && !self
                .checks
                .iter()
                .any(|c| c.category == Some(Category::Timeout))
    }

    /// A result for a submission the grader could not grade.
    pub fn error(exercise: &str, message: String) -> GradeResult {
        GradeResult {
            student: None,
            exercise: exercise.to_string(),
            status: ResultStatus::Error,
            score: 0,
            max_score: 0,
            categories: Vec::new(),
            checks: vec![CheckOutcome {
                name: "grader".into(),
                status: Status::Skip,
                category: None,
                message,
                details: String::new(),
                points: 0,
                max_points: 0,
                locations: Vec::new(),
            }],
            duration_ms: 0,
            graded_at: Some(now_utc()),
            excerpts: Default::default(),
        }
    }
}

/// The current time, UTC, as `2024-05-01T09:30:00Z`.
pub fn now_utc() -> String {
    chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The name of the check that stands for the build.
pub const BUILD_CHECK: &str = "build";

/// Grades submissions of one course tree.
pub struct Grader {
    pub project: Project,
    pub toolchain: &'static Toolchain,
    pub cache: PathBuf,
}

/// What the build stage made of a submission.
pub enum BuildStage {
    Built {
        exe: Option<PathBuf>,
        lib: Option<PathBuf>,
        time: std::time::Duration,
    },
    /// The failing `build` check: missing parts, forbidden code, a compile
    /// error or a compile-time limit.
    Failed(CheckOutcome),
}

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
    baseline: Option<Observed>,
    perturbed: Option<Vec<Observed>>,
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

impl Grader {
    pub fn new(project: Project) -> Result<Grader, GradeError> {
        let toolchain = Toolchain::detect()?;
        let cache = project.cache_dir();
        Ok(Grader {
            project,
            toolchain,
            cache,
        })
    }

    /// Builds the model checker first, saying so, when one of `specs` needs
    /// it and it is not built yet: a build started inside a grading is
    /// silent.
    pub fn prebuild_model(&self, specs: &[ExerciseSpec]) -> Result<(), GradeError> {
        let needed = specs.iter().any(|s| {
            s.checks
                .iter()
                .any(|c| matches!(c, CheckSpec::Model { .. }))
        });
        if needed {
            crate::model::prepare_shown(&self.cache, self.toolchain)?;
        }
        Ok(())
    }

    /// Grades the submission in `submission` against `spec`.
    pub fn grade(&self, spec: &ExerciseSpec, submission: &Path) -> Result<GradeResult, GradeError> {
        let mut results = self.grade_times(spec, submission, 1)?;
        Ok(results.remove(0))
    }

    /// Grades the submission `times` times over (at least once): one
    /// build, then every check `times` times, each round with fresh runs
    /// of the program, the tests and the models (`verify --repeat`: one
    /// submission, one score). The build is shared because the compiler is
    /// deterministic; nothing a round runs is assumed to be.
    pub fn grade_times(
        &self,
        spec: &ExerciseSpec,
        submission: &Path,
        times: usize,
    ) -> Result<Vec<GradeResult>, GradeError> {
        let started = Instant::now();
        let scratch_root = self.cache.join("scratch");
        std::fs::create_dir_all(&scratch_root).map_err(|source| GradeError::Scratch {
            path: scratch_root.clone(),
            source,
        })?;
        // Searchable (not listable) by others: as root, each run of the
        // program gets a uid of its own, which must reach its folder.
        #[cfg(unix)]
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o711);
        let prefix = format!("{}-", spec.id);
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        #[cfg(unix)]
        builder.permissions(mode);
        let scratch = builder
            .tempdir_in(&scratch_root)
            .map_err(|source| GradeError::Scratch {
                path: scratch_root.clone(),
                source,
            })?;
        let sources = submission::intake(spec, submission, scratch.path())?;
        let mut last = started;
        let mut results = Vec::new();
        for checks in self.grade_sources(spec, &sources, times.max(1))? {
            // The first round's time includes the build.
            results.push(GradeResult::from_checks(&spec.id, checks, last.elapsed()));
            last = Instant::now();
        }
        Ok(results)
    }

    /// The build stage of one submission, without the harnesses: what
    /// `grader run` builds, so that it runs exactly what would be graded.
    pub fn build_stage(
        &self,
        spec: &ExerciseSpec,
        sources: &Sources,
    ) -> Result<BuildStage, GradeError> {
        if let Some(failed) = self.before_compile(spec, sources)? {
            return Ok(BuildStage::Failed(failed));
        }
        let opts = compile_options(spec);
        Ok(build_stage_of(self.compile(
            spec,
            sources,
            &opts.options(),
        )?))
    }

    /// The compile, or its files from the opt-in build cache
    /// ([`crate::build_cache`]: a reused build reports no compile time).
    fn compile(
        &self,
        spec: &ExerciseSpec,
        sources: &Sources,
        opts: &compile::Options,
    ) -> Result<Build, compile::CompileError> {
        let cached = crate::build_cache::entry(
            sources,
            &self.toolchain.rustc,
            &[&spec.id, opts.package_name, opts.crate_name],
        );
        if let Some((exe, lib)) = cached
            .as_ref()
            .and_then(|c| c.restore(&sources.dir.join("out")))
        {
            return Ok(Build::Built {
                exe,
                lib,
                time: Duration::ZERO,
            });
        }
        let build = compile::build(self.toolchain, sources, opts)?;
        if let (Some(c), Build::Built { exe, lib, time }) = (&cached, &build)
            && !time.is_zero()
        {
            c.store(&(exe.clone(), lib.clone()));
        }
        Ok(build)
    }

    /// What refuses a submission before the compiler sees it: a part the
    /// exercise needs is missing, a file is nested past the parser's bound,
    /// or the scan finds a forbidden construct. The failing `build` check.
    fn before_compile(
        &self,
        spec: &ExerciseSpec,
        sources: &Sources,
    ) -> Result<Option<CheckOutcome>, GradeError> {
        if let Some(missing) = sources.missing(spec.kind) {
            return Ok(Some(CheckOutcome::fail(
                BUILD_CHECK,
                0,
                Category::CompileError,
                format!("{missing} is missing: this exercise needs it"),
            )));
        }
        // Before any parse: a file nested or long past what the grader's
        // parser can take on its stack is refused (issue 10).
        if let Some(t) = crate::nesting::too_complex(&sources.dir, &sources.files) {
            return Ok(Some(
                CheckOutcome::fail(
                    BUILD_CHECK,
                    0,
                    Category::CompileError,
                    format!("cannot be graded: {t}"),
                )
                .at(&t.file, t.line, &t.what),
            ));
        }
        let findings = scan::scan(&sources.dir, &sources.files).map_err(GradeError::Parse)?;
        let Some(first) = findings.first() else {
            return Ok(None);
        };
        let details = findings
            .iter()
            .map(|f| format!("  {f}\n"))
            .collect::<String>();
        let mut outcome = CheckOutcome::fail(
            BUILD_CHECK,
            0,
            Category::Forbidden,
            format!(
                "{} is not allowed in this course ({}:{})",
                first.what, first.file, first.line
            ),
        )
        .with_details(details);
        for f in &findings {
            outcome = outcome.at(&f.file, f.line, &f.what);
        }
        Ok(Some(outcome))
    }

    /// The checks of each of `times` rounds.
    fn grade_sources(
        &self,
        spec: &ExerciseSpec,
        sources: &Sources,
        times: usize,
    ) -> Result<Vec<Vec<CheckOutcome>>, GradeError> {
        let not_built = |failed: CheckOutcome| {
            let mut checks = vec![failed];
            for c in &spec.checks {
                checks.push(CheckOutcome::skip(
                    c.name(),
                    c.points(),
                    "not run: the submission did not build",
                ));
            }
            vec![checks; times]
        };
        if let Some(failed) = self.before_compile(spec, sources)? {
            return Ok(not_built(failed));
        }
        let opts = compile_options(spec);
        let opts = opts.options();
        // The harnesses go beside the build, on the other core: the model
        // harness needs only the sources; the unit harness, built as soon
        // as the library is, needs the library.
        let wants = |unit: bool| {
            spec.checks.iter().any(|c| match c {
                CheckSpec::Unit { .. } => unit,
                CheckSpec::Model { .. } | CheckSpec::LibThreads { .. } => !unit,
                _ => false,
            })
        };
        let limits = run::Limits::from_spec(&spec.limits);
        fn with_lib<'a>(
            grader: &'a Grader,
            spec: &'a ExerciseSpec,
            sources: &'a Sources,
            lib: Option<&'a Path>,
            limits: &run::Limits,
        ) -> crate::model::ModelContext<'a> {
            crate::model::ModelContext::new(
                spec,
                &sources.dir,
                lib,
                &grader.cache,
                grader.toolchain,
                limits.clone(),
            )
        }
        let join = |h: std::thread::ScopedJoinHandle<'_, _>| {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        };
        let (built, model_harness, unit_harness) = std::thread::scope(|s| {
            let model = wants(false).then(|| {
                s.spawn(|| with_lib(self, spec, sources, None, &limits).build_model_harness())
            });
            let built = self.compile(spec, sources, &opts);
            let unit = match &built {
                Ok(Build::Built { lib: Some(lib), .. }) if wants(true) => {
                    Some(with_lib(self, spec, sources, Some(lib), &limits).build_unit_harness())
                }
                _ => None,
            };
            (built, model.map(join), unit)
        });
        let (exe, lib, build_time) = match build_stage_of(built?) {
            BuildStage::Built { exe, lib, time } => (exe, lib, time),
            BuildStage::Failed(failed) => return Ok(not_built(failed)),
        };
        let mut checks = Vec::new();
        checks.push(CheckOutcome::pass(
            BUILD_CHECK,
            0,
            if build_time.is_zero() {
                format!("built before: reused from {}", crate::build_cache::VAR)
            } else {
                format!("compiled in {:.2} s", build_time.as_secs_f64())
            },
        ));
        let model = crate::model::ModelContext::new(
            spec,
            &sources.dir,
            lib.as_deref(),
            &self.cache,
            self.toolchain,
            run::Limits::from_spec(&spec.limits),
        );
        model.adopt_harnesses(model_harness.transpose()?, unit_harness.transpose()?);
        let mut rounds = Vec::with_capacity(times);
        for round in 0..times {
            let mut checks = checks.clone();
            // Each round's program runs in a folder of its own, and its
            // traces start afresh.
            let workdir = match round {
                0 => sources.dir.join("run"),
                n => sources.dir.join(format!("run-{n}")),
            };
            let _ = std::fs::remove_dir_all(sources.dir.join("trace"));
            std::fs::create_dir_all(&workdir).map_err(|source| GradeError::Scratch {
                path: workdir.clone(),
                source,
            })?;
            let mut ctx = Context {
                spec,
                sources,
                exe: exe.as_deref(),
                workdir: &workdir,
                cache: &self.cache,
                limits: run::Limits::from_spec(&spec.limits),
                baseline: None,
                model: &model,
                perturbed: None,
            };
            // With a timing check, every run of the program goes at once.
            for check in &spec.checks {
                if let CheckSpec::Timing { profiles, .. } = check
                    && perturb::SHIM_AVAILABLE
                {
                    let profiles = profiles.clone().unwrap_or_else(perturb::default_profiles);
                    ctx.perturbed(&profiles)?;
                }
            }
            // The model checker's verdicts come first: when one proves that
            // the result depends on how the threads interleave, a run of the
            // same code on real threads is luck, and the checks that would
            // judge one say so instead of scoring it (one submission, one
            // score).
            let (mut outcomes, proof) = proof::model_checks(ctx.model, spec)?;
            for (i, check) in spec.checks.iter().enumerate() {
                let outcome = match outcomes[i].take() {
                    Some(done) => done,
                    None => match proof.as_ref().and_then(|p| p.voids(check)) {
                        Some(why) => CheckOutcome::skip(check.name(), check.points(), why),
                        None => run_check(&mut ctx, check)?,
                    },
                };
                checks.push(outcome);
            }
            rounds.push(checks);
        }
        Ok(rounds)
    }
}

/// The names and limits of a submission's compile.
struct CompileNames {
    package: String,
    crate_name: String,
    limits: crate::build_limits::BuildLimits,
}

fn compile_options(spec: &ExerciseSpec) -> CompileNames {
    CompileNames {
        package: spec.package_name(),
        crate_name: spec.crate_name(),
        limits: crate::build_limits::BuildLimits::from_spec(&spec.limits),
    }
}

impl CompileNames {
    fn options(&self) -> compile::Options<'_> {
        compile::Options {
            crate_name: &self.crate_name,
            package_name: &self.package,
            extra_args: Vec::new(),
            limits: self.limits,
        }
    }
}

/// What the compile made of a submission, as the build stage says it.
fn build_stage_of(build: Build) -> BuildStage {
    match build {
        Build::Built { exe, lib, time } => BuildStage::Built { exe, lib, time },
        Build::Failed {
            category,
            message,
            details,
            locations,
        } => {
            let mut outcome =
                CheckOutcome::fail(BUILD_CHECK, 0, category, message).with_details(details);
            outcome.locations = locations;
            BuildStage::Failed(outcome)
        }
    }
}

fn run_check(ctx: &mut Context, check: &CheckSpec) -> Result<CheckOutcome, GradeError> {
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
