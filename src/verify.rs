//! `grader verify`: the course's claims about itself, checked.
//!
//! Every reference solution passes with full points; every starter builds
//! and fails (or, where its spec says `starter = "compile-error"`, does not
//! build);
//! every known-wrong fixture under `graders/<id>/wrong/<name>/` fails with
//! the category its `expect.toml` names; every correct variant under
//! `graders/<id>/variants/<name>/` passes. A regression in any detector
//! breaks one of these claims. With `--repeat N`, every target is graded N
//! times and must get one score and one list of categories: a detector
//! that depends on luck breaks its claim too.

use crate::checks::Category;
use crate::grade::{GradeResult, Grader, ResultStatus};
use crate::report::Style;
use crate::spec::{ExerciseSpec, StarterExpect};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What stops `verify` itself (a spec that does not load, a target folder
/// that cannot be read): one line, exit status 2. A claim that does not
/// hold is a result, not an error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Project(#[from] crate::project::ProjectError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Whether it is only the reader of the output gone away.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// What a target must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Pass with full points.
    Pass,
    /// Build, and fail grading (a starter: something to edit, not to fix
    /// before it compiles).
    BuildAndFail,
    /// Fail, with this category among the failing checks'.
    FailWith(Category),
}

#[derive(Debug, Clone)]
pub struct Target {
    /// `solution`, `starter`, `wrong/<name>` or `variant/<name>`.
    pub label: String,
    pub dir: PathBuf,
    pub claim: Claim,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    category: String,
    #[allow(dead_code)]
    why: String,
}

/// Lists the targets of one exercise.
pub fn targets(grader: &Grader, spec: &ExerciseSpec) -> Result<Vec<Target>, String> {
    let id = &spec.id;
    let mut out = vec![
        Target {
            label: "solution".into(),
            dir: grader.project.solution_dir(id),
            claim: Claim::Pass,
        },
        Target {
            label: "starter".into(),
            dir: grader.project.exercise_dir(id),
            claim: match spec.starter {
                StarterExpect::Fails => Claim::BuildAndFail,
                StarterExpect::CompileError => Claim::FailWith(Category::CompileError),
            },
        },
    ];
    for (name, dir) in subdirs(&spec.dir.join("wrong"))? {
        let expect_path = dir.join("expect.toml");
        let text = std::fs::read_to_string(&expect_path)
            .map_err(|e| format!("{}: {e}", expect_path.display()))?;
        let expect: Expect = toml::from_str(&text)
            .map_err(|e| format!("{}: {}", expect_path.display(), e.message()))?;
        let category = Category::parse(&expect.category).ok_or_else(|| {
            format!(
                "{}: unknown category `{}`",
                expect_path.display(),
                expect.category
            )
        })?;
        out.push(Target {
            label: format!("wrong/{name}"),
            dir,
            claim: Claim::FailWith(category),
        });
    }
    for (name, dir) in subdirs(&spec.dir.join("variants"))? {
        out.push(Target {
            label: format!("variant/{name}"),
            dir,
            claim: Claim::Pass,
        });
    }
    Ok(out)
}

fn subdirs(dir: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    out.sort();
    Ok(out)
}

/// Whether a result keeps the claim; if not, why.
pub fn judge(claim: &Claim, result: &GradeResult) -> Result<(), String> {
    match claim {
        Claim::Pass if result.status == ResultStatus::Pass && result.score == result.max_score => {
            Ok(())
        }
        Claim::Pass => Err(format!(
            "should pass with full points, got {}/{} ({})",
            result.score,
            result.max_score,
            cats(result)
        )),
        Claim::BuildAndFail if result.categories.contains(&Category::CompileError) => {
            let why = result
                .checks
                .iter()
                .find(|c| c.category == Some(Category::CompileError))
                .map(|c| c.message.clone())
                .unwrap_or_default();
            Err(format!(
                "starter does not compile: {why} (a starter must build and fail grading; \
                 `starter = \"compile-error\"` in the spec says it is meant not to build)"
            ))
        }
        Claim::BuildAndFail if result.status == ResultStatus::Fail => Ok(()),
        Claim::BuildAndFail => Err("should fail, but passed".into()),
        Claim::FailWith(c)
            if result.status == ResultStatus::Fail && result.categories.contains(c) =>
        {
            Ok(())
        }
        Claim::FailWith(c) if result.status == ResultStatus::Fail => Err(format!(
            "should fail with {c}, failed with {}",
            cats(result)
        )),
        Claim::FailWith(c) => Err(format!("should fail with {c}, but passed")),
    }
}

fn cats(r: &GradeResult) -> String {
    if r.categories.is_empty() {
        "no failing check".into()
    } else {
        r.categories
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether `results` (one target graded several times) agree on the score
/// and the categories; if not, what they were.
pub fn agree(results: &[GradeResult]) -> Result<(), String> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for r in results {
        let key = format!("{}/{} ({})", r.score, r.max_score, cats(r));
        match seen.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => seen.push((key, 1)),
        }
    }
    if seen.len() <= 1 {
        return Ok(());
    }
    let parts: Vec<String> = seen
        .iter()
        .map(|(k, n)| format!("{k} {n} time{}", if *n == 1 { "" } else { "s" }))
        .collect();
    Err(format!(
        "graded {} times, it got {} different results: {}",
        results.len(),
        seen.len(),
        parts.join(", ")
    ))
}

/// Runs every claim (each target graded `repeat` times); prints a table;
/// true when all hold.
pub fn run(
    grader: &Grader,
    only: &[String],
    jobs: Option<usize>,
    repeat: usize,
    out: &mut impl Write,
    style: Style,
) -> Result<bool, Error> {
    // `--exercise` takes what `check` takes: an id, a number, a name part.
    let ids = if only.is_empty() {
        grader.project.exercise_ids()?
    } else {
        only.iter()
            .map(|given| grader.project.resolve(Some(given), "verify"))
            .collect::<Result<Vec<_>, _>>()?
    };
    let mut all = Vec::new();
    for id in &ids {
        let spec = grader.project.spec(id)?;
        let t = targets(grader, &spec).map_err(Error::Other)?;
        all.push((spec, t));
    }
    let work: Vec<(&ExerciseSpec, &Target)> = all
        .iter()
        .flat_map(|(s, ts)| ts.iter().map(move |t| (s, t)))
        .collect();
    let jobs = jobs.unwrap_or_else(crate::pool::default_jobs).max(1);
    let width = work.iter().map(|(_, t)| t.label.len()).max().unwrap_or(0);
    let id_width = ids.iter().map(|i| i.len()).max().unwrap_or(0);
    let mut broken = 0usize;
    let total = work.len();
    let grade = |(spec, target): &(&ExerciseSpec, &Target)| match grader.grade_times(
        spec,
        &target.dir,
        repeat.max(1),
    ) {
        Ok(results) => {
            agree(&results)?;
            let result = &results[0];
            judge(&target.claim, result).map_err(|why| {
                let first = result
                    .checks
                    .iter()
                    .find(|c| c.status == crate::checks::Status::Fail)
                    .map(|c| format!(" — {}: {}", c.name, c.message))
                    .unwrap_or_default();
                format!("{why}{first}")
            })
        }
        Err(e) => Err(format!("could not grade: {e}")),
    };
    // Print finished rows in order, as soon as each is known.
    let print = |i: usize, v: Result<(), String>| -> io::Result<()> {
        let (spec, target) = work[i];
        let claim = match &target.claim {
            Claim::Pass => "passes".to_string(),
            Claim::BuildAndFail => "builds, fails".to_string(),
            Claim::FailWith(c) => format!("fails: {c}"),
        };
        match &v {
            Ok(()) => writeln!(
                out,
                "{} {:<id_width$}  {:<width$}  {}",
                style.green("ok  "),
                spec.id,
                target.label,
                claim
            ),
            Err(why) => {
                broken += 1;
                writeln!(
                    out,
                    "{} {:<id_width$}  {:<width$}  {}",
                    style.red("FAIL"),
                    spec.id,
                    target.label,
                    why
                )
            }
        }
    };
    crate::pool::run(&work, jobs, grade, crate::pool::in_order(print))?;
    writeln!(out)?;
    if broken == 0 {
        writeln!(
            out,
            "{}",
            style.green(&format!("verify: all {total} claims hold"))
        )?;
    } else {
        writeln!(
            out,
            "{}",
            style.red(&format!("verify: {broken} of {total} claims broken"))
        )?;
    }
    Ok(broken == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckOutcome;
    use std::time::Duration;

    fn graded(category: Option<Category>) -> GradeResult {
        let check = match category {
            Some(c) => CheckOutcome::fail("output", 3, c, "no"),
            None => CheckOutcome::pass("output", 3, "yes"),
        };
        GradeResult::from_checks("05-shared-counter", vec![check], Duration::ZERO)
    }

    #[test]
    fn rounds_that_disagree_break_the_claim() {
        let same = vec![graded(Some(Category::DataRace)); 3];
        assert_eq!(agree(&same), Ok(()));
        let lucky = vec![
            graded(Some(Category::DataRace)),
            graded(None),
            graded(Some(Category::DataRace)),
        ];
        assert_eq!(
            agree(&lucky),
            Err(
                "graded 3 times, it got 2 different results: 0/3 (data-race) 2 times, \
                 3/3 (no failing check) 1 time"
                    .into()
            )
        );
    }
}
