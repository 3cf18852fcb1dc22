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
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Spec(#[from] SpecError),
}

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

    pub fn exercise_dir(&self, id: &str) -> PathBuf {
        self.root.join("exercises").join(id)
    }

    pub fn solution_dir(&self, id: &str) -> PathBuf {
        self.root.join("solutions").join(id)
    }

    /// The grader's cache: `GRADER_CACHE_DIR`, or `target/grader` in the tree.
    pub fn cache_dir(&self) -> PathBuf {
        match std::env::var_os("GRADER_CACHE_DIR") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => self.root.join("target").join("grader"),
        }
    }
}
