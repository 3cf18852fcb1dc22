//! The conductor: a [`Grader`] takes one submission through intake, the
//! build stage, the model checker's proof and every check of its spec,
//! round after round, and hands back the results.

use super::build::{self, BUILD_CHECK, BuildStage};
use super::context::{self, Context};
use super::error::GradeError;
use super::proof;
use super::result::GradeResult;
use crate::checks::CheckOutcome;
use crate::compile::{Build, Toolchain};
use crate::perturb;
use crate::project::Project;
use crate::run;
use crate::spec::{CheckSpec, ExerciseSpec};
use crate::submission::{self, Sources};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Grades submissions of one course tree.
pub struct Grader {
    pub project: Project,
    pub toolchain: &'static Toolchain,
    pub cache: PathBuf,
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
        if let Some(failed) = build::before_compile(spec, sources)? {
            return Ok(BuildStage::Failed(failed));
        }
        let opts = build::compile_options(spec);
        Ok(build::build_stage_of(build::compile(
            self.toolchain,
            spec,
            sources,
            &opts.options(),
        )?))
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
        if let Some(failed) = build::before_compile(spec, sources)? {
            return Ok(not_built(failed));
        }
        let opts = build::compile_options(spec);
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
            let built = build::compile(self.toolchain, spec, sources, &opts);
            let unit = match &built {
                Ok(Build::Built { lib: Some(lib), .. }) if wants(true) => {
                    Some(with_lib(self, spec, sources, Some(lib), &limits).build_unit_harness())
                }
                _ => None,
            };
            (built, model.map(join), unit)
        });
        let (exe, lib, build_time) = match build::build_stage_of(built?) {
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
                        None => context::run_check(&mut ctx, check)?,
                    },
                };
                checks.push(outcome);
            }
            rounds.push(checks);
        }
        Ok(rounds)
    }
}
