//! Exercise specs: `graders/<id>/spec.toml` → a typed [`ExerciseSpec`].
//!
//! The spec is the only place an exercise's rules live: its lesson part, its
//! hint, what kind of crate it is, its limits and its checks with their
//! points. Unknown fields are refused so that a typo in a spec is an error,
//! not a silently ignored rule.

use serde::Deserialize;
use std::path::{Path, PathBuf};

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
    /// Run the program again with timing perturbed (sleeps shortened or
    /// inverted, thread starts delayed) and match the output of every
    /// `output` check again: right only at normal timing is
    /// `sleep-reliance` (or `early-exit` when `main` left threads behind).
    Timing {
        name: String,
        points: u32,
        /// The perturbed runs (default: [`crate::perturb::default_profiles`]).
        #[serde(default)]
        profiles: Option<Vec<crate::perturb::Profile>>,
    },
    /// What the thread trace of the normal run must show (`not-concurrent`
    /// when it does not).
    Threads {
        name: String,
        points: u32,
        /// At least this many threads spawned in all.
        #[serde(default)]
        min_spawned: Option<usize>,
        /// `main` spawns at least this many threads before it joins any.
        #[serde(default)]
        spawned_before_join: Option<usize>,
        /// Lines matching one of these are each written by a spawned thread.
        #[serde(default)]
        by_spawned: Vec<String>,
        /// Lines matched by `by_spawned` come each from a different thread.
        #[serde(default)]
        distinct: bool,
        /// Lines matching one of these are written by `main`.
        #[serde(default)]
        by_main: Vec<String>,
        /// Each spawned thread did at least this share of their CPU time.
        #[serde(default)]
        min_cpu_share: Option<f64>,
    },
    /// Explore every interleaving of a grader-owned scenario
    /// (`graders/<id>/model/<scenario>.rs`) under the model checker.
    Model {
        name: String,
        points: u32,
        /// The scenario's file name without `.rs`.
        scenario: String,
        /// Bound on preemptions per interleaving (`LOOM_MAX_PREEMPTIONS`);
        /// 2–3 keeps 3-thread models under a second and still finds the
        /// course's bugs (research/loom.md). Unbounded when absent.
        #[serde(default)]
        max_preemptions: Option<usize>,
        /// Wall time before the model counts as too large (never a pass).
        #[serde(default)]
        timeout_ms: Option<u64>,
    },
    /// A functional test of the library's API, called on one thread
    /// (`graders/<id>/unit/<test>.rs`).
    Unit {
        name: String,
        points: u32,
        /// The test's file name without `.rs`.
        test: String,
        #[serde(default)]
        timeout_ms: Option<u64>,
    },
}

/// The threads a program must use, judged from the shim's trace.
#[derive(Debug, Clone, Default)]
pub struct ThreadRules {
    /// At least this many threads spawned in all.
    pub min_spawned: Option<usize>,
    /// `main` spawns at least this many threads before it joins any (so
    /// they can run at the same time; join-per-spawn fails this).
    pub spawned_before_join: Option<usize>,
    /// Output lines matching one of these patterns must each be written by
    /// a spawned thread, not by `main`.
    pub by_spawned: Vec<String>,
    /// Lines matched by `by_spawned` come each from a different thread.
    pub distinct: bool,
    /// Output lines matching one of these patterns must be written by `main`.
    pub by_main: Vec<String>,
    /// Each spawned thread did at least this share (0 to 1) of the CPU time
    /// of all spawned threads, and together they did the work.
    pub min_cpu_share: Option<f64>,
}

impl CheckSpec {
    pub fn name(&self) -> &str {
        match self {
            CheckSpec::Output { name, .. }
            | CheckSpec::Timing { name, .. }
            | CheckSpec::Threads { name, .. }
            | CheckSpec::Model { name, .. }
            | CheckSpec::Unit { name, .. } => name,
        }
    }

    pub fn points(&self) -> u32 {
        match self {
            CheckSpec::Output { points, .. }
            | CheckSpec::Timing { points, .. }
            | CheckSpec::Threads { points, .. }
            | CheckSpec::Model { points, .. }
            | CheckSpec::Unit { points, .. } => *points,
        }
    }

    /// The rules of a `threads` check.
    pub fn thread_rules(&self) -> Option<ThreadRules> {
        match self {
            CheckSpec::Threads {
                min_spawned,
                spawned_before_join,
                by_spawned,
                distinct,
                by_main,
                min_cpu_share,
                ..
            } => Some(ThreadRules {
                min_spawned: *min_spawned,
                spawned_before_join: *spawned_before_join,
                by_spawned: by_spawned.clone(),
                distinct: *distinct,
                by_main: by_main.clone(),
                min_cpu_share: *min_cpu_share,
            }),
            _ => None,
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
                CheckSpec::Output { rules, name, .. } => {
                    if rules.is_empty() {
                        return Err(invalid(format!("check `{name}` has no rules")));
                    }
                    for rule in rules {
                        if let Rule::Regex { pattern, .. } = rule {
                            bad_regex(name, pattern)?;
                        }
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
