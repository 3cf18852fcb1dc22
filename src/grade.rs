//! The pipeline for one submission: intake → scan → build → run → checks.
//!
//! This is where a student's failure becomes data ([`GradeResult`], each
//! check a [`CheckOutcome`]) and the grader's own faults become
//! [`GradeError`]. Nothing here prints; reporting is `report`'s job.

use crate::checks::{self, Category, CheckOutcome, Status};
use crate::compile::{self, Build, Toolchain};
use crate::project::Project;
use crate::run::{self, Outcome};
use crate::scan;
use crate::spec::{CheckSpec, ExerciseSpec};
use crate::submission::{self, Sources};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum GradeError {
    #[error(transparent)]
    Intake(#[from] submission::IntakeError),
    #[error(transparent)]
    Compile(#[from] compile::CompileError),
    #[error(transparent)]
    Run(#[from] run::RunError),
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
}

impl GradeResult {
    pub fn from_checks(exercise: &str, checks: Vec<CheckOutcome>, duration: Duration) -> GradeResult {
        let score = checks.iter().map(|c| c.points).sum();
        let max_score = checks.iter().map(|c| c.max_points).sum();
        let mut categories = Vec::new();
        for c in &checks {
            if let Some(cat) = c.category {
                if !categories.contains(&cat) {
                    categories.push(cat);
                }
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
        }
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
            }],
            duration_ms: 0,
        }
    }
}

/// The name of the check that stands for the build.
pub const BUILD_CHECK: &str = "build";

/// Grades submissions of one course tree.
pub struct Grader {
    pub project: Project,
    pub toolchain: &'static Toolchain,
    pub cache: PathBuf,
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
    baseline: Option<Outcome>,
}

impl Context<'_> {
    /// The program run once at normal timing; shared by the checks that
    /// need it.
    pub fn baseline(&mut self) -> Result<&Outcome, GradeError> {
        if self.baseline.is_none() {
            let exe = self.exe.expect("checks that run the program have a program");
            let req = run::Request::new(exe, self.workdir, self.limits.clone())
                .env("HOME", self.workdir.as_os_str());
            self.baseline = Some(run::run(&req)?);
        }
        Ok(self.baseline.as_ref().expect("set above"))
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

    /// Grades the submission in `submission` against `spec`.
    pub fn grade(&self, spec: &ExerciseSpec, submission: &Path) -> Result<GradeResult, GradeError> {
        let started = Instant::now();
        let scratch_root = self.cache.join("scratch");
        std::fs::create_dir_all(&scratch_root).map_err(|source| GradeError::Scratch {
            path: scratch_root.clone(),
            source,
        })?;
        let scratch = tempfile::Builder::new()
            .prefix(&format!("{}-", spec.id))
            .tempdir_in(&scratch_root)
            .map_err(|source| GradeError::Scratch {
                path: scratch_root.clone(),
                source,
            })?;
        let sources = submission::intake(spec, submission, scratch.path())?;
        let checks = self.grade_sources(spec, &sources)?;
        Ok(GradeResult::from_checks(&spec.id, checks, started.elapsed()))
    }

    fn grade_sources(&self, spec: &ExerciseSpec, sources: &Sources) -> Result<Vec<CheckOutcome>, GradeError> {
        let not_built = |checks: &mut Vec<CheckOutcome>| {
            for c in &spec.checks {
                checks.push(CheckOutcome::skip(
                    c.name(),
                    c.points(),
                    "not run: the submission did not build",
                ));
            }
        };
        let mut checks = Vec::new();
        if let Some(missing) = sources.missing(spec.kind) {
            checks.push(CheckOutcome::fail(
                BUILD_CHECK,
                0,
                Category::CompileError,
                format!("{missing} is missing: this exercise needs it"),
            ));
            not_built(&mut checks);
            return Ok(checks);
        }
        let findings = scan::scan(&sources.dir, &sources.files);
        if let Some(first) = findings.first() {
            let details = findings
                .iter()
                .map(|f| format!("  {f}\n"))
                .collect::<String>();
            checks.push(
                CheckOutcome::fail(
                    BUILD_CHECK,
                    0,
                    Category::Forbidden,
                    format!("{} is not allowed in this course ({}:{})", first.what, first.file, first.line),
                )
                .with_details(details),
            );
            not_built(&mut checks);
            return Ok(checks);
        }
        let package = spec.package_name();
        let crate_name = spec.crate_name();
        let opts = compile::Options {
            crate_name: &crate_name,
            package_name: &package,
            extra_args: Vec::new(),
        };
        let (exe, build_time) = match compile::build(self.toolchain, sources, &opts)? {
            Build::Built { exe, time, .. } => (exe, time),
            Build::Failed {
                category,
                message,
                details,
            } => {
                checks.push(CheckOutcome::fail(BUILD_CHECK, 0, category, message).with_details(details));
                not_built(&mut checks);
                return Ok(checks);
            }
        };
        checks.push(CheckOutcome::pass(
            BUILD_CHECK,
            0,
            format!("compiled in {:.2} s", build_time.as_secs_f64()),
        ));
        let workdir = sources.dir.join("run");
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
        };
        for check in &spec.checks {
            checks.push(run_check(&mut ctx, check)?);
        }
        Ok(checks)
    }
}

fn run_check(ctx: &mut Context, check: &CheckSpec) -> Result<CheckOutcome, GradeError> {
    match check {
        CheckSpec::Output {
            name,
            points,
            rules,
        } => {
            let run = ctx.baseline()?;
            Ok(checks::output::judge_run(name, *points, rules, run))
        }
    }
}
