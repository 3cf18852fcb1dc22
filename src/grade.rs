//! The pipeline for one submission: intake → scan → build → run → checks.
//!
//! This is where a student's failure becomes data ([`GradeResult`], each
//! check a [`CheckOutcome`]) and the grader's own faults become
//! [`GradeError`]. Nothing here prints; reporting is `report`'s job.
//!
//! [`grader`] conducts; [`build`] is the build stage, [`context`] the runs
//! the checks share, [`proof`] what a model checker's proof decides;
//! [`result`] and [`error`] are what comes out.

mod build;
mod context;
mod error;
mod grader;
mod proof;
mod result;

pub use build::BuildStage;
pub use error::GradeError;
pub use grader::Grader;
pub use result::{GradeResult, ResultStatus, now_utc};
