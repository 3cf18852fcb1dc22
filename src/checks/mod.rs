//! Checks: each turns what the grader observed (a build, a run, a model
//! exploration) into a [`CheckOutcome`]. A student's failure is data here,
//! never an `Err`; `Err` is kept for the grader's own faults.

pub mod facts;
pub mod lib_threads;
pub mod model;
pub mod observed;
pub mod output;
pub mod rules;
pub mod threads;
pub mod timing;

use serde::{Deserialize, Serialize};
use std::fmt;

/// The verdict categories of SPEC §5. Every failing check carries exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    CompileError,
    Forbidden,
    WrongAnswer,
    SleepReliance,
    EarlyExit,
    NotConcurrent,
    DataRace,
    Deadlock,
    Timeout,
    Crash,
    ResourceLimit,
}

impl Category {
    pub const ALL: [Category; 11] = [
        Category::CompileError,
        Category::Forbidden,
        Category::WrongAnswer,
        Category::SleepReliance,
        Category::EarlyExit,
        Category::NotConcurrent,
        Category::DataRace,
        Category::Deadlock,
        Category::Timeout,
        Category::Crash,
        Category::ResourceLimit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::CompileError => "compile-error",
            Category::Forbidden => "forbidden",
            Category::WrongAnswer => "wrong-answer",
            Category::SleepReliance => "sleep-reliance",
            Category::EarlyExit => "early-exit",
            Category::NotConcurrent => "not-concurrent",
            Category::DataRace => "data-race",
            Category::Deadlock => "deadlock",
            Category::Timeout => "timeout",
            Category::Crash => "crash",
            Category::ResourceLimit => "resource-limit",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether one check passed. `Skip` is for a check that could not run (an
/// earlier stage failed, or the platform lacks the detector); it never counts
/// as a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

/// The result of one check of one submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    pub name: String,
    pub status: Status,
    /// Set exactly when `status` is `Fail`.
    pub category: Option<Category>,
    /// One line: what was checked and what went wrong.
    pub message: String,
    /// Longer explanation for a failure (diff, interleaving, compiler output).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub details: String,
    pub points: u32,
    pub max_points: u32,
    /// Places in the student's code the failure is about (the sleep that
    /// carried the program, the two reads of a lost update, a forbidden
    /// call), for snippets and editor annotations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<SourceRef>,
}

/// A line of the submission, relative to its root (`src/main.rs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    pub file: String,
    pub line: usize,
    /// What happens there, in a few words ("main sleeps here").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
}

impl CheckOutcome {
    pub fn pass(name: impl Into<String>, max_points: u32, message: impl Into<String>) -> Self {
        CheckOutcome {
            name: name.into(),
            status: Status::Pass,
            category: None,
            message: message.into(),
            details: String::new(),
            points: max_points,
            max_points,
            locations: Vec::new(),
        }
    }

    pub fn fail(
        name: impl Into<String>,
        max_points: u32,
        category: Category,
        message: impl Into<String>,
    ) -> Self {
        CheckOutcome {
            name: name.into(),
            status: Status::Fail,
            category: Some(category),
            message: message.into(),
            details: String::new(),
            points: 0,
            max_points,
            locations: Vec::new(),
        }
    }

    pub fn skip(name: impl Into<String>, max_points: u32, message: impl Into<String>) -> Self {
        CheckOutcome {
            name: name.into(),
            status: Status::Skip,
            category: None,
            message: message.into(),
            details: String::new(),
            points: 0,
            max_points,
            locations: Vec::new(),
        }
    }

    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.details = details.into();
        self
    }

    /// Adds a place in the student's code this outcome is about.
    pub fn at(mut self, file: impl Into<String>, line: usize, label: impl Into<String>) -> Self {
        self.locations.push(SourceRef {
            file: file.into(),
            line,
            label: label.into(),
        });
        self
    }
}
