//! What the student has done: the last result of `grader check` on each
//! exercise of `exercises/`, with a hash of the sources it graded, so `list`
//! can tell "passed" from "changed since it passed".

use crate::grade::{GradeResult, ResultStatus};
use crate::project::Project;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Progress {
    exercises: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    status: ResultStatus,
    categories: Vec<String>,
    score: u32,
    max_score: u32,
    sources: u64,
}

/// An exercise's status as `list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExerciseStatus {
    Missing,
    NotChecked,
    Passed,
    Failing(Vec<String>),
    Changed,
}

impl ExerciseStatus {
    pub fn is_done(&self) -> bool {
        *self == ExerciseStatus::Passed
    }

    pub fn label(&self) -> String {
        match self {
            ExerciseStatus::Missing => "missing".into(),
            ExerciseStatus::NotChecked => "not checked".into(),
            ExerciseStatus::Passed => "done".into(),
            ExerciseStatus::Failing(c) if c.is_empty() => "failing".into(),
            ExerciseStatus::Failing(c) => format!("failing: {}", c[0]),
            ExerciseStatus::Changed => "edited".into(),
        }
    }
}

fn path(project: &Project) -> PathBuf {
    project.cache_dir().join("progress.json")
}

impl Progress {
    pub fn load(project: &Project) -> Progress {
        std::fs::read_to_string(path(project))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default()
    }

    /// Records a result; losing it is not worth failing the check for.
    pub fn record(project: &Project, result: &GradeResult, dir: &Path) {
        let mut p = Progress::load(project);
        p.exercises.insert(
            result.exercise.clone(),
            Entry {
                status: result.status,
                categories: result.categories.iter().map(|c| c.to_string()).collect(),
                score: result.score,
                max_score: result.max_score,
                sources: sources_hash(dir),
            },
        );
        let file = path(project);
        if let Some(parent) = file.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if let Ok(text) = serde_json::to_string_pretty(&p) {
            let tmp = file.with_extension("json.tmp");
            if std::fs::write(&tmp, text).is_ok() {
                let _ = std::fs::rename(&tmp, &file);
            }
        }
    }

    pub fn status(&self, id: &str, dir: &Path) -> ExerciseStatus {
        if !dir.is_dir() {
            return ExerciseStatus::Missing;
        }
        let Some(e) = self.exercises.get(id) else {
            return ExerciseStatus::NotChecked;
        };
        if e.sources != sources_hash(dir) {
            return ExerciseStatus::Changed;
        }
        match e.status {
            ResultStatus::Pass => ExerciseStatus::Passed,
            _ => ExerciseStatus::Failing(e.categories.clone()),
        }
    }
}

/// A hash of the `.rs` files under `dir/src` (names and contents); stable
/// across runs (FNV-1a, not the randomly seeded std hasher).
pub fn sources_hash(dir: &Path) -> u64 {
    let mut files = Vec::new();
    collect(&dir.join("src"), &mut files, 0);
    files.sort();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for f in files {
        feed(f.to_string_lossy().as_bytes());
        feed(&[0]);
        feed(&std::fs::read(&f).unwrap_or_default());
        feed(&[0]);
    }
    h
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 8 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => collect(&p, out, depth + 1),
            Ok(t) if t.is_file() && p.extension().is_some_and(|x| x == "rs") => out.push(p),
            _ => {}
        }
    }
}
