//! What the model and unit checks of one submission share: the
//! [`ModelContext`] (the spec, the sources, the limits) and the
//! [`Harness`]es it holds once they are built (`harness.rs` builds them on
//! first use).

use super::explain::Verdict;
use crate::compile::Toolchain;
use crate::run;
use crate::spec::ExerciseSpec;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// A harness ready to run, or why the submission cannot get one.
#[derive(Debug, Clone)]
pub enum Harness {
    Ready { exe: PathBuf },
    Rejected(Verdict),
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
    pub(super) model: OnceLock<Harness>,
    pub(super) unit: OnceLock<Harness>,
}

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

    pub(super) fn limits_for(&self, wall: Duration) -> run::Limits {
        let mut l = self.limits.clone();
        l.wall = wall;
        l.cpu = wall + Duration::from_secs(1);
        l
    }
}
