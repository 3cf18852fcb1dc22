//! The result of grading one submission (SPEC §6): data, as every reporter
//! and the result store read it. How it is worded is `report`'s job.

use crate::checks::{Category, CheckOutcome, Status};
use serde::{Deserialize, Serialize};
use std::time::Duration;

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
