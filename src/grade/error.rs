//! The grader's own faults while grading one submission: a part of the
//! pipeline it could not carry out (intake, compile, run, model checker,
//! scratch folders). Never the student's: their failures are results.

use crate::{compile, run, submission};
use std::path::PathBuf;

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
