//! Exercise specs: `graders/<id>/spec.toml` → a typed [`ExerciseSpec`].
//!
//! The spec is the only place an exercise's rules live: its lesson part, its
//! hint, what kind of crate it is, its limits and its checks with their
//! points. Unknown fields are refused so that a typo in a spec is an error,
//! not a silently ignored rule.

use serde::Deserialize;
use std::path::{Path, PathBuf};

mod calls;
mod check;
mod rule;
pub use calls::{CallRules, MODEL_THREADS};
pub use check::{CheckSpec, ThreadRules};
use rule::one_line;
pub use rule::{Apply, LineMatch, Rule};

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
    /// A TOML or field error, rendered with its place and snippet.
    #[error("malformed spec {0}")]
    Located(String),
    #[error("spec {path} has format_version {found}, this grader reads version {FORMAT_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error("spec {path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// One exercise, as described by `graders/<id>/spec.toml`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "grader exercise spec (graders/<id>/spec.toml)")]
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
    /// What `grader verify` expects of the starter: it builds and fails
    /// grading (`fails`, the default), or it does not build (`compile-error`).
    #[serde(default)]
    pub starter: StarterExpect,
    /// Who sees this exercise's tests on Gradescope: `visible` (the
    /// default), `after_due_date`, `after_published` or `hidden`.
    #[serde(default)]
    pub visibility: Visibility,
    #[serde(default)]
    pub limits: Limits,
    /// The checks, in the order they are reported.
    #[serde(rename = "check")]
    pub checks: Vec<CheckSpec>,

    /// Filled in by [`ExerciseSpec::load`]: the exercise id (folder name).
    #[serde(skip)]
    #[schemars(skip)]
    pub id: String,
    /// Filled in by [`ExerciseSpec::load`]: `graders/<id>/`.
    #[serde(skip)]
    #[schemars(skip)]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
pub enum Kind {
    #[serde(rename = "bin")]
    Bin,
    #[serde(rename = "lib+bin")]
    LibBin,
}

/// Limits of one run of the student's program.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
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
    /// Wall-clock and CPU limit of each compile of the submission (the
    /// build, and the model and unit harnesses built from it).
    pub compile_ms: u64,
    /// Memory each compile of the submission may use.
    pub compile_memory_mb: u64,
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
            compile_ms: 60_000,
            compile_memory_mb: 2048,
        }
    }
}

/// What `verify` expects of the starter crate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum StarterExpect {
    /// The starter builds and fails grading (the default).
    #[default]
    Fails,
    /// The starter is meant not to build (a fill-in-the-blanks exercise).
    CompileError,
}

/// Gradescope's visibility of a test (its autograder specification).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Shown to the student at once (the default).
    #[default]
    Visible,
    /// Shown after the due date.
    AfterDueDate,
    /// Shown once the grades are published.
    AfterPublished,
    /// Never shown to the student.
    Hidden,
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
        let located = |e: toml::de::Error| {
            SpecError::Located(crate::spec_error::render(
                &path.display().to_string(),
                text,
                &e,
            ))
        };
        let version: VersionOnly = toml::from_str(text).map_err(located)?;
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
        let mut spec: ExerciseSpec = toml::from_str(text).map_err(located)?;
        spec.validate(path)?;
        for check in &mut spec.checks {
            if let CheckSpec::Output {
                rules, exact: true, ..
            } = check
            {
                let named = rules.clone();
                rules.push(Rule::Exact { rules: named });
            }
        }
        Ok(spec)
    }

    fn validate(&self, path: &Path) -> Result<(), SpecError> {
        let invalid = |message: String| SpecError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        if self.format_version != FORMAT_VERSION {
            return Err(SpecError::Version {
                path: path.to_path_buf(),
                found: self.format_version,
            });
        }
        if self.checks.is_empty() {
            return Err(invalid("no checks".into()));
        }
        let mut names = std::collections::HashSet::new();
        for check in &self.checks {
            if !names.insert(check.name()) {
                return Err(invalid(format!("two checks are named `{}`", check.name())));
            }
            let bad_regex = |name: &str, pattern: &str| {
                regex::Regex::new(pattern).map(|_| ()).map_err(|e| {
                    invalid(format!(
                        "check `{name}`: bad regex: {}",
                        one_line(&e.to_string())
                    ))
                })
            };
            match check {
                CheckSpec::Model {
                    scenario: file,
                    name,
                    ..
                }
                | CheckSpec::Unit {
                    test: file, name, ..
                } => {
                    let ident = file
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                        && file
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                    if !ident {
                        return Err(invalid(format!(
                            "check `{name}`: `{file}` must name a file of the grader folder, without `.rs` \
                             (lowercase letters, digits, `_`)"
                        )));
                    }
                    if self.kind != Kind::LibBin {
                        return Err(invalid(format!(
                            "check `{name}` tests a library, but this exercise is `bin`"
                        )));
                    }
                }
                CheckSpec::LibThreads { name, .. } => {
                    if let Some(Err(e)) = check.call_rules() {
                        return Err(invalid(format!("check `{name}`: {e}")));
                    }
                    if self.kind != Kind::LibBin {
                        return Err(invalid(format!(
                            "check `{name}` calls a library, but this exercise is `bin`"
                        )));
                    }
                }
                CheckSpec::Output { rules, name, .. } => {
                    if rules.is_empty() {
                        return Err(invalid(format!("check `{name}` has no rules")));
                    }
                    for (i, rule) in rules.iter().enumerate() {
                        rule.validate()
                            .map_err(|e| invalid(format!("check `{name}`, rule {}: {e}", i + 1)))?;
                    }
                }
                CheckSpec::Timing { name, profiles, .. } => {
                    if !self
                        .checks
                        .iter()
                        .any(|c| matches!(c, CheckSpec::Output { .. }))
                    {
                        return Err(invalid(format!(
                            "check `{name}` re-runs the output rules, but the spec has no `output` check"
                        )));
                    }
                    for p in profiles.iter().flatten() {
                        p.validate()
                            .map_err(|e| invalid(format!("check `{name}`: {e}")))?;
                    }
                }
                CheckSpec::Threads { name, .. } => {
                    let rules = check.thread_rules().expect("a threads check");
                    for pattern in rules.by_spawned.iter().chain(&rules.by_main) {
                        bad_regex(name, pattern)?;
                    }
                    if let Some(share) = rules.min_cpu_share
                        && !(0.0..=1.0).contains(&share)
                    {
                        return Err(invalid(format!(
                            "check `{name}`: min-cpu-share must be between 0 and 1"
                        )));
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
    fn model_and_unit_checks_are_read() {
        let text = r#"
format_version = 1
title = "t"
lesson = "l"
kind = "lib+bin"
hint = "h"
[[check]]
kind = "model"
name = "two-threads"
points = 4
scenario = "two_threads"
max_preemptions = 3
[[check]]
kind = "unit"
name = "edge-cases"
points = 3
test = "edge_cases"
"#;
        let spec = ExerciseSpec::parse(text, Path::new("s.toml")).unwrap();
        assert_eq!(spec.max_score(), 7);
        assert!(matches!(
            &spec.checks[0],
            CheckSpec::Model { scenario, max_preemptions: Some(3), .. } if scenario == "two_threads"
        ));
        assert_eq!(spec.checks[1].name(), "edge-cases");
        let bad = text.replace("scenario = \"two_threads\"", "scenario = \"../x\"");
        assert!(ExerciseSpec::parse(&bad, Path::new("s.toml")).is_err());
        let bin = text.replace("lib+bin", "bin");
        assert!(ExerciseSpec::parse(&bin, Path::new("s.toml")).is_err());
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
