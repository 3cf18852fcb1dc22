//! The build stage of one submission: what refuses it before the compiler
//! sees it (a missing part, nesting past the parser's bound, a forbidden
//! construct), the compile itself or its files from the build cache, and
//! what the build made of it ([`BuildStage`]).

use super::error::GradeError;
use crate::checks::{Category, CheckOutcome};
use crate::compile::{self, Build, Toolchain};
use crate::scan;
use crate::spec::ExerciseSpec;
use crate::submission::Sources;
use std::path::PathBuf;
use std::time::Duration;

/// The name of the check that stands for the build.
pub const BUILD_CHECK: &str = "build";

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

/// The compile, or its files from the opt-in build cache
/// ([`crate::build_cache`]: a reused build reports no compile time).
pub(super) fn compile(
    toolchain: &'static Toolchain,
    spec: &ExerciseSpec,
    sources: &Sources,
    opts: &compile::Options,
) -> Result<Build, compile::CompileError> {
    let cached = crate::build_cache::entry(
        sources,
        &toolchain.rustc,
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
    let build = compile::build(toolchain, sources, opts)?;
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
pub(super) fn before_compile(
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

/// The names and limits of a submission's compile.
pub(super) struct CompileNames {
    package: String,
    crate_name: String,
    limits: crate::build_limits::BuildLimits,
}

pub(super) fn compile_options(spec: &ExerciseSpec) -> CompileNames {
    CompileNames {
        package: spec.package_name(),
        crate_name: spec.crate_name(),
        limits: crate::build_limits::BuildLimits::from_spec(&spec.limits),
    }
}

impl CompileNames {
    pub(super) fn options(&self) -> compile::Options<'_> {
        compile::Options {
            crate_name: &self.crate_name,
            package_name: &self.package,
            extra_args: Vec::new(),
            limits: self.limits,
        }
    }
}

/// What the compile made of a submission, as the build stage says it.
pub(super) fn build_stage_of(build: Build) -> BuildStage {
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
