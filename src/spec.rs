//! Exercise specs: `graders/<id>/spec.toml` → a typed [`ExerciseSpec`].
//!
//! The spec is the only place an exercise's rules live: its lesson part, its
//! hint, what kind of crate it is, its limits and its checks with their
//! points. Unknown fields are refused so that a typo in a spec is an error,
//! not a silently ignored rule.

use serde::Deserialize;
use std::path::{Path, PathBuf};

mod calls;
pub use calls::{CallRules, MODEL_THREADS};

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

/// One check and its points. `kind` selects the detector.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CheckSpec {
    /// Run the program once at normal timing and match its output.
    Output {
        name: String,
        points: u32,
        rules: Vec<Rule>,
        /// Whether every output line must be one the rules name (the
        /// default); `false` allows lines beyond the rules.
        #[serde(default = "yes")]
        exact: bool,
    },
    /// Run the program again with timing perturbed (sleeps and timeouts
    /// skipped, threads started late or first) and match the output of
    /// every `output` check again: right only at normal timing is
    /// `sleep-reliance` (or `early-exit` when `main` left threads behind).
    Timing {
        name: String,
        points: u32,
        /// The perturbed runs (default: [`crate::perturb::default_profiles`]).
        /// Each is a table such as `{ name = "late", start = "late" }`
        /// (`start`: `late`, `reverse`, `first` or `normal`); see the
        /// README's "Timing and threads".
        #[serde(default)]
        #[schemars(with = "Option<Vec<std::collections::BTreeMap<String, serde_json::Value>>>")]
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
    /// How each call of a library function uses threads, observed through
    /// the model checker's facade: how many it spawns, what part of the
    /// result each produces, whether they can run at the same time
    /// (`not-concurrent` when a call breaks the rules).
    LibThreads {
        name: String,
        points: u32,
        /// The function and its parameters' names, as the rules use them:
        /// `"parallel_sum(numbers, workers)"`.
        call: String,
        /// The calls to observe, each the list of its arguments: integers,
        /// and lists of integers (passed as a `Vec`).
        args: Vec<Vec<crate::spec_expr::Arg>>,
        /// Exactly this many spawned threads: an expression over the
        /// parameters (`threads`, `min(workers, len(numbers))`).
        #[serde(default)]
        threads: Option<String>,
        /// At least this many (instead of `threads`).
        #[serde(default)]
        min_threads: Option<String>,
        /// At most this many (instead of `threads`).
        #[serde(default)]
        max_threads: Option<String>,
        /// A working thread's part of the result is at least this fraction
        /// of an equal part (default 0.5).
        #[serde(default)]
        min_share: Option<f64>,
        /// Wall time of one call's observation.
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
            | CheckSpec::LibThreads { name, .. }
            | CheckSpec::Unit { name, .. } => name,
        }
    }

    pub fn points(&self) -> u32 {
        match self {
            CheckSpec::Output { points, .. }
            | CheckSpec::Timing { points, .. }
            | CheckSpec::Threads { points, .. }
            | CheckSpec::Model { points, .. }
            | CheckSpec::LibThreads { points, .. }
            | CheckSpec::Unit { points, .. } => *points,
        }
    }

    /// The rules of a `lib-threads` check; `Err` says what is wrong with
    /// them (checked when the spec is loaded).
    pub fn call_rules(&self) -> Option<Result<CallRules, String>> {
        let CheckSpec::LibThreads {
            call,
            args,
            threads,
            min_threads,
            max_threads,
            min_share,
            ..
        } = self
        else {
            return None;
        };
        Some(calls::parse(
            call,
            args,
            threads.as_deref(),
            min_threads.as_deref(),
            max_threads.as_deref(),
            *min_share,
        ))
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
///
/// A rule that names one line takes it either exactly (`line`) or as a
/// regular expression (`pattern`); exactly one of the two is given.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Rule {
    /// The output is exactly these lines, in this order.
    Lines { lines: Vec<String> },
    /// The output is exactly these lines, in any order (no line missing,
    /// none extra, each as often as listed).
    Unordered { lines: Vec<String> },
    /// This line appears exactly once.
    Once {
        #[serde(default)]
        line: Option<String>,
        #[serde(default)]
        pattern: Option<String>,
    },
    /// This line is the last line.
    Last {
        #[serde(default)]
        line: Option<String>,
        #[serde(default)]
        pattern: Option<String>,
    },
    /// This line is the first line.
    First {
        #[serde(default)]
        line: Option<String>,
        #[serde(default)]
        pattern: Option<String>,
    },
    /// Every occurrence of `first` comes before every occurrence of `then`
    /// (both must appear). Either side may be a pattern instead
    /// (`first_pattern`, `then_pattern`).
    Before {
        #[serde(default)]
        first: Option<String>,
        #[serde(default)]
        first_pattern: Option<String>,
        #[serde(default)]
        then: Option<String>,
        #[serde(default)]
        then_pattern: Option<String>,
    },
    /// Exactly `count` lines (default: at least one) match the pattern.
    /// With `min`, `max` or `equals`, the pattern's first capture group (or
    /// the group named `value`) is read as a number and compared, on every
    /// matching line or only on the last (`apply = "last"`).
    Regex {
        pattern: String,
        #[serde(default)]
        count: Option<usize>,
        #[serde(default)]
        min: Option<f64>,
        #[serde(default)]
        max: Option<f64>,
        #[serde(default)]
        equals: Option<f64>,
        #[serde(default)]
        apply: Apply,
        /// `false` keeps this rule out of the perturbed runs of a `timing`
        /// check (for values that depend on timing itself).
        #[serde(default = "yes")]
        perturbed: bool,
    },
    /// At least one of these lists of rules holds (say, two wordings of the
    /// same line).
    AnyOf { of: Vec<Vec<Rule>> },
    /// Every line of the output is one that `rules` name. Added by the spec
    /// loader for an `output` check with `exact = true`; not written in specs.
    #[serde(skip)]
    Exact { rules: Vec<Rule> },
}

/// Which matching lines a numeric bound applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Apply {
    /// Every matching line.
    #[default]
    Every,
    /// The last matching line only.
    Last,
}

fn yes() -> bool {
    true
}

/// One line a rule names: exactly, or by a pattern.
#[derive(Debug, Clone)]
pub enum LineMatch {
    Exact(String),
    Pattern(regex::Regex),
}

impl LineMatch {
    fn new(line: &Option<String>, pattern: &Option<String>) -> Result<LineMatch, String> {
        match (line, pattern) {
            (Some(l), None) => Ok(LineMatch::Exact(l.clone())),
            (None, Some(p)) => regex::Regex::new(p)
                .map(LineMatch::Pattern)
                .map_err(|e| format!("bad regex: {}", one_line(&e.to_string()))),
            (Some(_), Some(_)) => Err("give either a line or a pattern, not both".into()),
            (None, None) => Err("needs a line or a pattern".into()),
        }
    }

    pub fn matches(&self, text: &str) -> bool {
        match self {
            LineMatch::Exact(l) => l == text,
            LineMatch::Pattern(re) => re.is_match(text),
        }
    }
}

impl std::fmt::Display for LineMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineMatch::Exact(l) => write!(f, "`{l}`"),
            LineMatch::Pattern(re) => write!(f, "a line matching /{}/", re.as_str()),
        }
    }
}

impl Rule {
    /// The one line of `once`, `first` and `last` (validated at load time).
    pub fn line_match(&self) -> Option<Result<LineMatch, String>> {
        match self {
            Rule::Once { line, pattern }
            | Rule::Last { line, pattern }
            | Rule::First { line, pattern } => Some(LineMatch::new(line, pattern)),
            _ => None,
        }
    }

    /// The two sides of `before`.
    pub fn before_sides(&self) -> Option<Result<(LineMatch, LineMatch), String>> {
        match self {
            Rule::Before {
                first,
                first_pattern,
                then,
                then_pattern,
            } => Some(
                LineMatch::new(first, first_pattern)
                    .map_err(|e| format!("`first`: {e}"))
                    .and_then(|a| {
                        LineMatch::new(then, then_pattern)
                            .map(|b| (a, b))
                            .map_err(|e| format!("`then`: {e}"))
                    }),
            ),
            _ => None,
        }
    }

    /// This rule as it applies in a perturbed run: rules marked
    /// `perturbed = false` drop out (inside `any-of` too).
    pub fn for_perturbed(&self) -> Option<Rule> {
        match self {
            Rule::Regex {
                perturbed: false, ..
            } => None,
            Rule::AnyOf { of } => {
                let of: Vec<Vec<Rule>> = of
                    .iter()
                    .map(|alt| alt.iter().filter_map(Rule::for_perturbed).collect())
                    .collect();
                // An alternative emptied by the filter holds trivially.
                if of.iter().any(Vec::is_empty) {
                    None
                } else {
                    Some(Rule::AnyOf { of })
                }
            }
            other => Some(other.clone()),
        }
    }

    fn validate(&self) -> Result<(), String> {
        let regex = |p: &str| {
            regex::Regex::new(p).map_err(|e| format!("bad regex: {}", one_line(&e.to_string())))
        };
        match self {
            Rule::Lines { lines } | Rule::Unordered { lines } if lines.is_empty() => {
                Err("lists no lines".into())
            }
            Rule::Lines { .. } | Rule::Unordered { .. } => Ok(()),
            Rule::Once { .. } | Rule::Last { .. } | Rule::First { .. } => {
                self.line_match().expect("a one-line rule").map(|_| ())
            }
            Rule::Before { .. } => self.before_sides().expect("a before rule").map(|_| ()),
            Rule::Regex {
                pattern,
                min,
                max,
                equals,
                ..
            } => {
                let re = regex(pattern)?;
                let bounded = min.is_some() || max.is_some() || equals.is_some();
                if bounded && re.captures_len() < 2 {
                    return Err(format!(
                        "`min`, `max` and `equals` compare a number the pattern captures, \
                         but /{pattern}/ has no capture group: write it as `(\\d+)`"
                    ));
                }
                if let (Some(lo), Some(hi)) = (min, max)
                    && lo > hi
                {
                    return Err(format!("`min` ({lo}) is above `max` ({hi})"));
                }
                Ok(())
            }
            Rule::AnyOf { of } => {
                if of.len() < 2 {
                    return Err("`any-of` needs at least two lists of rules in `of`".into());
                }
                for (i, alt) in of.iter().enumerate() {
                    if alt.is_empty() {
                        return Err(format!("`any-of`: alternative {} has no rules", i + 1));
                    }
                    for r in alt {
                        r.validate()
                            .map_err(|e| format!("`any-of`, alternative {}: {e}", i + 1))?;
                    }
                }
                Ok(())
            }
            Rule::Exact { .. } => Ok(()),
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
