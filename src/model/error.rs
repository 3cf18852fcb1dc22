//! The model-check stage's own faults, as opposed to its verdicts: loom and
//! the facade do not build, a grader's scenario file is missing or badly
//! named. Everything a submission causes is a verdict, never a
//! [`ModelError`].

use crate::run;
use std::path::{Path, PathBuf};

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

/// An I/O error at `path`, for `map_err`.
pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    }
}
