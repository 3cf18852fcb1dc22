//! What the student has done: the last result of `grader check` (or of
//! `grader watch`) on each exercise of `exercises/`, with a hash of the
//! sources it graded, so `list` can tell "passed" from "changed since it
//! passed" and `watch` can start at the first exercise not done.
//!
//! The state lives in the grader's cache (`progress.json`), not in the
//! course tree: it is derived data (any `check` rebuilds an entry), and a
//! file in the tree would show in the student's `git status`. Losing it
//! costs a re-check, never work.

use crate::grade::{GradeResult, ResultStatus};
use crate::project::{Project, ProjectError};
use crate::spec::ExerciseSpec;
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
    /// [`sources_hash`]. Named for its hash: an entry an older grader
    /// wrote (FNV-1a, under `sources`) makes the file unreadable, which is
    /// "not checked", never a stale "done".
    #[serde(rename = "sources_sha256")]
    sources: u64,
}

/// An exercise's status as `list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExerciseStatus {
    /// `exercises/<id>` does not exist.
    Missing,
    NotChecked,
    /// The last check passed and the sources have not changed since.
    Passed,
    /// The last check failed with these categories.
    Failing(Vec<String>),
    /// The sources changed since the last check.
    Changed,
}

impl ExerciseStatus {
    pub fn is_done(&self) -> bool {
        *self == ExerciseStatus::Passed
    }

    pub fn label(&self) -> &'static str {
        match self {
            ExerciseStatus::Missing => "missing",
            ExerciseStatus::NotChecked => "not checked",
            ExerciseStatus::Passed => "done",
            ExerciseStatus::Failing(_) => "failing",
            ExerciseStatus::Changed => "edited",
        }
    }
}

/// One exercise of the course and where the student is with it.
#[derive(Debug, Clone)]
pub struct Row {
    pub spec: ExerciseSpec,
    pub status: ExerciseStatus,
    /// The category of the first failing check of the last grading, when
    /// it failed (also after an edit: it is what the student last saw).
    pub last_failure: Option<String>,
}

/// Every exercise of the course, in order, with its status.
pub fn overview(project: &Project) -> Result<Vec<Row>, ProjectError> {
    let progress = Progress::load(project);
    let mut rows = Vec::new();
    for id in project.exercise_ids()? {
        let spec = project.spec(&id)?;
        let status = progress.status(&id, &project.exercise_dir(&id));
        let last_failure = progress
            .exercises
            .get(&id)
            .filter(|e| e.status != ResultStatus::Pass)
            .and_then(|e| e.categories.first().cloned());
        rows.push(Row {
            spec,
            status,
            last_failure,
        });
    }
    Ok(rows)
}

/// The first exercise not done at or after `from`, wrapping around.
pub fn next_not_done(rows: &[Row], from: usize) -> Option<usize> {
    (0..rows.len())
        .map(|i| (from + i) % rows.len())
        .find(|&i| !rows[i].status.is_done())
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
        Progress::record_graded(project, result, sources_hash(dir));
    }

    /// Records a result of the sources whose hash was `sources` when the
    /// grading began (a save during a grading must not pass for graded).
    pub fn record_graded(project: &Project, result: &GradeResult, sources: u64) {
        let mut p = Progress::load(project);
        p.exercises.insert(
            result.exercise.clone(),
            Entry {
                status: result.status,
                categories: result.categories.iter().map(|c| c.to_string()).collect(),
                score: result.score,
                max_score: result.max_score,
                sources,
            },
        );
        p.save(project);
    }

    /// Forgets an exercise (after `reset`: its starter was never checked).
    pub fn forget(project: &Project, id: &str) {
        let mut p = Progress::load(project);
        if p.exercises.remove(id).is_some() {
            p.save(project);
        }
    }

    fn save(&self, project: &Project) {
        let file = path(project);
        if let Some(parent) = file.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        if let Ok(text) = serde_json::to_string_pretty(self) {
            // Written aside and renamed: a `check` and a `watch` writing at
            // once leave one whole file, never a torn one.
            let tmp = file.with_extension(format!("json.{}.tmp", std::process::id()));
            if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, &file).is_err() {
                let _ = std::fs::remove_file(&tmp);
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

/// A hash of the `.rs` files under `dir/src` (names relative to `dir`, and
/// contents); stable across runs, machines and Rust releases, and the same
/// wherever the folder lies, so `batch` can key stored results by it.
pub fn sources_hash(dir: &Path) -> u64 {
    let mut files = Vec::new();
    collect(&dir.join("src"), &mut files, 0);
    files.sort();
    let mut h = KeyHasher::new();
    for f in files {
        let rel = f.strip_prefix(dir).unwrap_or(&f);
        h.feed(rel.to_string_lossy().as_bytes());
        h.feed(&std::fs::read(&f).unwrap_or_default());
    }
    h.finish()
}

/// A key for content a student controls: SHA-256, so that no submission
/// can be made to share the key of another (FNV-1a, which this replaces,
/// can be steered to any value). Each piece fed is prefixed by its length,
/// so that pieces cannot run into each other; the key is the digest's
/// first 64 bits, which leaves finding a second submission with a given
/// key at 2^64 tries.
#[derive(Debug, Clone, Default)]
pub struct KeyHasher(sha2::Sha256);

impl KeyHasher {
    pub fn new() -> KeyHasher {
        KeyHasher::default()
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        use sha2::Digest;
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    pub fn finish(self) -> u64 {
        use sha2::Digest;
        let digest = self.0.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, status: ExerciseStatus) -> Row {
        let text = "format_version = 1\ntitle = \"t\"\nlesson = \"l\"\nkind = \"bin\"\nhint = \"h\"\n\
                    [[check]]\nkind = \"output\"\nname = \"output\"\npoints = 1\n\
                    rules = [{ rule = \"last\", line = \"x\" }]\n";
        let mut spec = ExerciseSpec::parse(text, Path::new("spec.toml")).unwrap();
        spec.id = id.into();
        Row {
            spec,
            status,
            last_failure: None,
        }
    }

    #[test]
    fn the_next_exercise_not_done_wraps_around() {
        let rows = vec![
            row("01", ExerciseStatus::Passed),
            row("02", ExerciseStatus::Changed),
            row("03", ExerciseStatus::Passed),
            row("04", ExerciseStatus::NotChecked),
        ];
        assert_eq!(next_not_done(&rows, 0), Some(1));
        assert_eq!(next_not_done(&rows, 2), Some(3));
        assert_eq!(next_not_done(&rows, 4), Some(1));
        let done = vec![row("01", ExerciseStatus::Passed)];
        assert_eq!(next_not_done(&done, 1), None);
        assert_eq!(next_not_done(&[], 0), None);
    }

    #[test]
    fn the_key_is_sha256_and_pieces_do_not_run_together() {
        // The first 64 bits of SHA-256 over (length, bytes) pieces.
        let mut h = KeyHasher::new();
        h.feed(b"abc");
        let mut bytes = 3u64.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"abc");
        use sha2::Digest;
        let digest = sha2::Sha256::digest(&bytes);
        assert_eq!(
            h.finish(),
            u64::from_be_bytes(digest[..8].try_into().unwrap())
        );
        let key = |pieces: &[&[u8]]| {
            let mut h = KeyHasher::new();
            pieces.iter().for_each(|p| h.feed(p));
            h.finish()
        };
        assert_ne!(key(&[b"ab", b"c"]), key(&[b"a", b"bc"]));
    }

    #[test]
    fn a_file_an_older_grader_wrote_is_not_checked_rather_than_done() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("graders")).unwrap();
        let dir = root.path().join("exercises/01/src");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.rs"), "fn main() {}").unwrap();
        let project = Project {
            root: root.path().to_path_buf(),
        };
        let old = serde_json::json!({"exercises": {"01": {
            "status": "pass", "categories": [], "score": 1, "max_score": 1,
            "sources": sources_hash(&project.exercise_dir("01")),
        }}});
        std::fs::create_dir_all(project.cache_dir()).unwrap();
        std::fs::write(path(&project), old.to_string()).unwrap();
        assert_eq!(
            Progress::load(&project).status("01", &project.exercise_dir("01")),
            ExerciseStatus::NotChecked
        );
    }

    #[test]
    fn a_result_is_remembered_until_its_sources_change() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("graders")).unwrap();
        let dir = root.path().join("exercises/01/src");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.rs"), "fn main() {}").unwrap();
        let project = Project {
            root: root.path().to_path_buf(),
        };
        let ex = project.exercise_dir("01");
        let p = Progress::load(&project);
        assert_eq!(p.status("01", &ex), ExerciseStatus::NotChecked);
        assert_eq!(
            p.status("02", &project.exercise_dir("02")),
            ExerciseStatus::Missing
        );
        let result = GradeResult::from_checks("01", Vec::new(), std::time::Duration::ZERO);
        Progress::record(&project, &result, &ex);
        assert_eq!(
            Progress::load(&project).status("01", &ex),
            ExerciseStatus::Passed
        );
        std::fs::write(dir.join("main.rs"), "fn main() { }").unwrap();
        assert_eq!(
            Progress::load(&project).status("01", &ex),
            ExerciseStatus::Changed
        );
        Progress::forget(&project, "01");
        assert_eq!(
            Progress::load(&project).status("01", &ex),
            ExerciseStatus::NotChecked
        );
    }
}
