//! Human output for one graded submission.

use super::Style;
use crate::checks::Status;
use crate::grade::{GradeResult, ResultStatus};
use crate::spec::ExerciseSpec;
use std::io::{self, Write};

pub fn write(out: &mut impl Write, spec: &ExerciseSpec, result: &GradeResult, style: Style) -> io::Result<()> {
    writeln!(
        out,
        "{} {}",
        style.bold(&result.exercise),
        style.dim(&format!("— {}", spec.lesson))
    )?;
    let width = result.checks.iter().map(|c| c.name.chars().count()).max().unwrap_or(0);
    for c in &result.checks {
        let mark = match c.status {
            Status::Pass => style.green("✓"),
            Status::Fail => style.red("✗"),
            Status::Skip => style.yellow("-"),
        };
        let points = if c.max_points > 0 {
            format!("{:>2}/{:<2}", c.points, c.max_points)
        } else {
            "     ".to_string()
        };
        let category = match c.category {
            Some(cat) => format!("{} ", style.red(&format!("[{cat}]"))),
            None => String::new(),
        };
        writeln!(
            out,
            "  {mark} {:<width$}  {points}  {category}{}",
            c.name, c.message
        )?;
    }
    let failures: Vec<_> = result
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail && !c.details.is_empty())
        .collect();
    for c in failures {
        writeln!(out)?;
        let cat = c.category.map(|c| c.to_string()).unwrap_or_default();
        writeln!(out, "{} {}", style.red(&format!("✗ {}", c.name)), style.dim(&format!("({cat})")))?;
        for line in c.details.trim_end().lines() {
            writeln!(out, "  {line}")?;
        }
    }
    writeln!(out)?;
    let verdict = match result.status {
        ResultStatus::Pass => style.green("PASS"),
        ResultStatus::Fail => style.red("FAIL"),
        ResultStatus::Error => style.yellow("ERROR"),
    };
    write!(out, "{verdict}  score {}/{}", result.score, result.max_score)?;
    if !result.categories.is_empty() {
        let cats: Vec<String> = result.categories.iter().map(|c| c.to_string()).collect();
        write!(out, "  ({})", cats.join(", "))?;
    }
    writeln!(out)?;
    if result.status == ResultStatus::Fail {
        writeln!(
            out,
            "{}",
            style.dim(&format!("stuck? `grader hint {}` gives a hint", result.exercise))
        )?;
    }
    Ok(())
}
