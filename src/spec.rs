//! Exercise specs: `graders/<id>/spec.toml` → a typed [`ExerciseSpec`].
//!
//! The spec is the only place an exercise's rules live: its lesson part, its
//! hint, what kind of crate it is, its limits and its checks with their
//! points. Unknown fields are refused so that a typo in a spec is an error,
//! not a silently ignored rule.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The spec format this grader reads. Bump on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("malformed spec {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("spec {path} has format_version {found}, this grader reads version {FORMAT_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error("spec {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// One exercise, as described by `graders/<id>/spec.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExerciseSpec {
    /// Must equal [`FORMAT_VERSION`].
    pub format_version: u32,
    /// A short human title.
    pub title: String,
    /// The part of the lesson "Introduction to Concurrency" it teaches.
    pub lesson: String,
    /// `bin` or `lib+bin`.
    pub kind: Kind,
    /// Shown by `grader hint <id>`.
    pub hint: String,
    #[serde(default)]
    pub limits: Limits,
    /// The checks, in the order they are reported.
    #[serde(rename = "check")]
    pub checks: Vec<CheckSpec>,

    /// Filled in by [`ExerciseSpec::load`]: the exercise id (folder name).
    #[serde(skip)]
    pub id: String,
    /// Filled in by [`ExerciseSpec::load`]: `graders/<id>/`.
    #[serde(skip)]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Kind {
    #[serde(rename = "bin")]
    Bin,
    #[serde(rename = "lib+bin")]
    LibBin,
}

/// Limits of one run of the student's program.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Wall-clock limit of one run.
    pub wall_ms: u64,
    /// CPU-time limit of one run (all threads).
    pub cpu_ms: u64,
    /// Bytes of stdout + stderr kept before the run is stopped.
    pub output_bytes: usize,
    /// Largest file the program may write.
    pub file_bytes: u64,
    /// Memory the program may use (where the machine can enforce it).
    pub memory_mb: u64,
    /// Threads and processes the program may have at once.
    pub tasks: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            wall_ms: 10_000,
            cpu_ms: 10_000,
            output_bytes: 1 << 20,
            file_bytes: 16 << 20,
            memory_mb: 1024,
            tasks: 1100,
        }
    }
}

impl Limits {
    pub fn wall(&self) -> Duration {
        Duration::from_millis(self.wall_ms)
    }
}

/// One check and its points. `kind` selects the detector.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CheckSpec {
    /// Run the program once at normal timing and match its output.
    Output {
        name: String,
        points: u32,
        rules: Vec<Rule>,
    },
}

impl CheckSpec {
    pub fn name(&self) -> &str {
        match self {
            CheckSpec::Output { name, .. } => name,
        }
    }

    pub fn points(&self) -> u32 {
        match self {
            CheckSpec::Output { points, .. } => *points,
        }
    }
}

/// An output rule, made for concurrent programs: most rules say nothing of
/// the order of lines that threads print at the same time.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Rule {
    /// The output is exactly these lines, in this order.
    Lines { lines: Vec<String> },
    /// The output is exactly these lines, in any order (no line missing,
    /// none extra, each as often as listed).
    Unordered { lines: Vec<String> },
    /// This line appears exactly once.
    Once { line: String },
    /// This line is the last line.
    Last { line: String },
    /// This line is the first line.
    First { line: String },
    /// Every occurrence of `first` comes before every occurrence of `then`
    /// (both must appear).
    Before { first: String, then: String },
    /// Exactly `count` lines (default: at least one) match the pattern.
    Regex {
        pattern: String,
        #[serde(default)]
        count: Option<usize>,
    },
}

impl ExerciseSpec {
    /// Reads and validates `dir/spec.toml`; the id is the folder name.
    pub fn load(dir: &Path) -> Result<ExerciseSpec, SpecError> {
        let path = dir.join("spec.toml");
        let text = std::fs::read_to_string(&path).map_err(|source| SpecError::Read {
            path: path.clone(),
            source,
        })?;
        let mut spec = Self::parse(&text, &path)?;
        spec.id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        spec.dir = dir.to_path_buf();
        Ok(spec)
    }

    pub fn parse(text: &str, path: &Path) -> Result<ExerciseSpec, SpecError> {
        // Read the version first so an old or new spec gets a version error
        // rather than a confusing field error.
        #[derive(Deserialize)]
        struct VersionOnly {
            format_version: Option<u32>,
        }
        let version: VersionOnly = toml::from_str(text).map_err(|e| SpecError::Parse {
            path: path.to_path_buf(),
            message: one_line(&e.to_string()),
        })?;
        match version.format_version {
            Some(FORMAT_VERSION) => {}
            Some(found) => {
                return Err(SpecError::Version {
                    path: path.to_path_buf(),
                    found,
                });
            }
            None => {
                return Err(SpecError::Parse {
                    path: path.to_path_buf(),
                    message: "missing field `format_version`".into(),
                });
            }
        }
        let spec: ExerciseSpec = toml::from_str(text).map_err(|e| SpecError::Parse {
            path: path.to_path_buf(),
            message: one_line(&e.to_string()),
        })?;
        spec.validate(path)?;
        Ok(spec)
    }

    fn validate(&self, path: &Path) -> Result<(), SpecError> {
        let invalid = |message: String| SpecError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        if self.checks.is_empty() {
            return Err(invalid("no checks".into()));
        }
        let mut names = std::collections::HashSet::new();
        for check in &self.checks {
            if !names.insert(check.name()) {
                return Err(invalid(format!("two checks are named `{}`", check.name())));
            }
            #[allow(irrefutable_let_patterns)]
            if let CheckSpec::Output { rules, name, .. } = check {
                if rules.is_empty() {
                    return Err(invalid(format!("check `{name}` has no rules")));
                }
                for rule in rules {
                    if let Rule::Regex { pattern, .. } = rule {
                        regex::Regex::new(pattern).map_err(|e| {
                            invalid(format!("check `{name}`: bad regex: {}", one_line(&e.to_string())))
                        })?;
                    }
                }
            }
        }
        Ok(())
    }

    pub fn max_score(&self) -> u32 {
        self.checks.iter().map(CheckSpec::points).sum()
    }

    /// The Cargo package name: the id without its number
    /// (`05-shared-counter` → `shared-counter`).
    pub fn package_name(&self) -> String {
        package_name(&self.id)
    }

    /// The library crate name (`shared_counter`).
    pub fn crate_name(&self) -> String {
        self.package_name().replace('-', "_")
    }
}

pub fn package_name(id: &str) -> String {
    match id.split_once('-') {
        Some((num, rest)) if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => {
            rest.to_string()
        }
        _ => id.to_string(),
    }
}

/// toml errors span several lines with a source excerpt; keep one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_drop_the_number() {
        assert_eq!(package_name("05-shared-counter"), "shared-counter");
        assert_eq!(package_name("01-sequential"), "sequential");
        assert_eq!(package_name("plain"), "plain");
    }

    #[test]
    fn a_wrong_version_is_named() {
        let err = ExerciseSpec::parse("format_version = 9", Path::new("s.toml")).unwrap_err();
        assert!(err.to_string().contains("format_version 9"), "{err}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let text = r#"
format_version = 1
title = "t"
lesson = "l"
kind = "bin"
hint = "h"
colour = "blue"
[[check]]
kind = "output"
name = "output"
points = 1
rules = [{ rule = "last", line = "x" }]
"#;
        let err = ExerciseSpec::parse(text, Path::new("s.toml")).unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }
}
