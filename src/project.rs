//! The course tree: where `graders/`, `exercises/` and `solutions/` are, and
//! where the grader keeps its cache.

use crate::spec::{ExerciseSpec, SpecError};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error(
        "no course tree found: no folder holding `graders/` in {0} or above it (use --root DIR)"
    )]
    NotFound(PathBuf),
    #[error("{0} holds no `graders/` folder")]
    NoGraders(PathBuf),
    #[error("unknown exercise `{id}`; the exercises are: {known}")]
    UnknownExercise { id: String, known: String },
    #[error("`{given}` could be any of {matches}: give more of the name, or its number")]
    Ambiguous { given: String, matches: String },
    #[error(
        "which exercise? name one (`grader {verb} 02`: its number or any part of its name), or run \
         `grader {verb}` inside its folder, exercises/<id>/"
    )]
    NoExercise { verb: &'static str },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Spec(#[from] SpecError),
}

/// The file that marks a student edition, relative to the course's root.
pub const EDITION_MARKER: &str = "graders/edition.toml";

/// A course tree.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
}

impl Project {
    /// `--root DIR`, or the nearest folder holding `graders/` from the
    /// current directory upwards.
    pub fn locate(root: Option<&Path>) -> Result<Project, ProjectError> {
        if let Some(root) = root {
            let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
            if !root.join("graders").is_dir() {
                return Err(ProjectError::NoGraders(root));
            }
            return Ok(Project { root });
        }
        let cwd = std::env::current_dir().map_err(|source| ProjectError::Io {
            path: PathBuf::from("."),
            source,
        })?;
        let mut dir = cwd.as_path();
        loop {
            if dir.join("graders").is_dir() {
                return Ok(Project {
                    root: dir.to_path_buf(),
                });
            }
            match dir.parent() {
                Some(p) => dir = p,
                None => return Err(ProjectError::NotFound(cwd)),
            }
        }
    }

    pub fn graders_dir(&self) -> PathBuf {
        self.root.join("graders")
    }

    /// The ids of every exercise (folders of `graders/` holding a spec), sorted.
    pub fn exercise_ids(&self) -> Result<Vec<String>, ProjectError> {
        let dir = self.graders_dir();
        let entries = std::fs::read_dir(&dir).map_err(|source| ProjectError::Io {
            path: dir.clone(),
            source,
        })?;
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join("spec.toml").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        ids.sort();
        Ok(ids)
    }

    pub fn spec(&self, id: &str) -> Result<ExerciseSpec, ProjectError> {
        let dir = self.graders_dir().join(id);
        let valid_name = !id.is_empty()
            && !id.starts_with('.')
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid_name || !dir.join("spec.toml").is_file() {
            return Err(ProjectError::UnknownExercise {
                id: id.to_string(),
                known: self.exercise_ids()?.join(", "),
            });
        }
        Ok(ExerciseSpec::load(&dir)?)
    }

    /// The exercise a student means: `given` as its id, its number (`2`,
    /// `02`) or any part of its name unique to it (`hello`); without one,
    /// the exercise whose folder (`exercises/<id>/`, or anything below it)
    /// is the current directory. `verb` names the command in the message
    /// that asks for one.
    pub fn resolve(&self, given: Option<&str>, verb: &'static str) -> Result<String, ProjectError> {
        let ids = self.exercise_ids()?;
        let Some(given) = given else {
            return self
                .current_exercise(&ids)
                .ok_or(ProjectError::NoExercise { verb });
        };
        // A folder named as the shell completes it: `exercises/02-x/`.
        let name = Path::new(given)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| given.contains('/') && !n.is_empty())
            .unwrap_or_else(|| given.to_string());
        let matches = match_ids(&ids, &name);
        match matches.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(ProjectError::UnknownExercise {
                id: given.to_string(),
                known: ids.join(", "),
            }),
            many => Err(ProjectError::Ambiguous {
                given: given.to_string(),
                matches: many.join(", "),
            }),
        }
    }

    /// The exercise whose folder holds the current directory.
    fn current_exercise(&self, ids: &[String]) -> Option<String> {
        let cwd = std::env::current_dir().ok()?.canonicalize().ok()?;
        let exercises = self.root.join("exercises").canonicalize().ok()?;
        let first = cwd.strip_prefix(&exercises).ok()?.components().next()?;
        let id = first.as_os_str().to_string_lossy().into_owned();
        ids.contains(&id).then_some(id)
    }

    pub fn exercise_dir(&self, id: &str) -> PathBuf {
        self.root.join("exercises").join(id)
    }

    pub fn solution_dir(&self, id: &str) -> PathBuf {
        self.root.join("solutions").join(id)
    }

    /// Whether this is a student edition (written by `grader publish`).
    pub fn is_edition(&self) -> bool {
        self.root.join(EDITION_MARKER).is_file()
    }

    /// The grader's cache: `GRADER_CACHE_DIR`, or `target/grader` in the tree.
    pub fn cache_dir(&self) -> PathBuf {
        match std::env::var_os("GRADER_CACHE_DIR") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => self.root.join("target").join("grader"),
        }
    }
}

/// The ids `given` names: itself exactly; else those with its number; else
/// those whose id holds it (ignoring case).
fn match_ids(ids: &[String], given: &str) -> Vec<String> {
    if ids.iter().any(|id| id == given) {
        return vec![given.to_string()];
    }
    if !given.is_empty() && given.chars().all(|c| c.is_ascii_digit()) {
        let n: Option<u64> = given.parse().ok();
        return ids
            .iter()
            .filter(|id| {
                let number = id.split('-').next().and_then(|d| d.parse::<u64>().ok());
                n.is_some() && number == n
            })
            .cloned()
            .collect();
    }
    let lower = given.to_lowercase();
    if lower.is_empty() {
        return Vec::new();
    }
    ids.iter()
        .filter(|id| id.to_lowercase().contains(&lower))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        [
            "01-sequential",
            "02-hello-thread",
            "03-many-threads",
            "10-thread-pool",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn an_exercise_is_named_by_id_number_or_part_of_its_name() {
        let ids = ids();
        assert_eq!(match_ids(&ids, "02-hello-thread"), ["02-hello-thread"]);
        assert_eq!(match_ids(&ids, "02"), ["02-hello-thread"]);
        assert_eq!(match_ids(&ids, "2"), ["02-hello-thread"]);
        assert_eq!(match_ids(&ids, "10"), ["10-thread-pool"]);
        assert_eq!(match_ids(&ids, "sequential"), ["01-sequential"]);
        assert_eq!(match_ids(&ids, "Hello"), ["02-hello-thread"]);
        assert_eq!(match_ids(&ids, "many-thr"), ["03-many-threads"]);
    }

    #[test]
    fn an_ambiguous_or_unknown_name_matches_no_single_exercise() {
        let ids = ids();
        assert_eq!(
            match_ids(&ids, "thread"),
            ["02-hello-thread", "03-many-threads", "10-thread-pool"]
        );
        assert!(match_ids(&ids, "4").is_empty());
        assert!(match_ids(&ids, "mutex").is_empty());
        assert!(match_ids(&ids, "").is_empty());
    }

    #[test]
    fn a_digit_is_a_number_not_a_part_of_a_name() {
        // `1` is exercise 1, not every id holding the digit 1.
        assert_eq!(match_ids(&ids(), "1"), ["01-sequential"]);
    }
}
