//! `feedback/<student>.md`: what one student reads after a batch.
//!
//! A table of every exercise of the batch (passed, failed and why, not
//! handed in), then for each submission its checks and, for what failed,
//! what the terminal would have shown: the one-line reading of a compile
//! error, what the detector saw, the student's own lines underlined, and
//! once a category what happened, what to do and what to reread. The
//! explanation is [`explain`](super::explain)'s and
//! [`teach`](super::teach)'s, as in `grader check`. The exercise's hint
//! comes last, when it fits the failure. Anything of the student's that
//! was skipped, and why, closes the file (a misnamed folder costs points
//! the student should hear about).
//!
//! Text that came from a submission is escaped or fenced
//! ([`markdown`](super::markdown)), so it cannot turn into markup or act
//! on a terminal that shows the file.

use super::markdown::{code, fenced, text};
use super::{explain, teach};
use crate::batch::ClassResults;
use crate::checks::{Category, CheckOutcome, Status};
use crate::grade::{GradeResult, ResultStatus};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

pub fn write(
    out: &mut impl Write,
    class: &ClassResults,
    student: &str,
    hints: &BTreeMap<String, String>,
) -> io::Result<()> {
    writeln!(out, "# Feedback for {}\n", text(student))?;
    writeln!(
        out,
        "Total: **{} / {}**\n",
        class.total(student),
        class.max_total()
    )?;
    writeln!(out, "| exercise | result | score |")?;
    writeln!(out, "|---|---|---|")?;
    for e in &class.exercises {
        let (verdict, score) = match class.get(student, &e.id) {
            None => ("not handed in".to_string(), format!("0/{}", e.max_score)),
            Some(r) => (verdict(r), format!("{}/{}", r.score, r.max_score)),
        };
        writeln!(out, "| {} | {verdict} | {score} |", e.id)?;
    }
    let course: Vec<(&str, &str)> = class
        .exercises
        .iter()
        .map(|e| (e.id.as_str(), e.lesson.as_str()))
        .collect();
    for e in &class.exercises {
        let Some(r) = class.get(student, &e.id) else {
            continue;
        };
        writeln!(out)?;
        let title = if e.title.is_empty() {
            String::new()
        } else {
            format!(" — {}", text(&e.title))
        };
        writeln!(out, "## {}{title}\n", e.id)?;
        writeln!(out, "{}, {}/{}\n", verdict(r), r.score, r.max_score)?;
        for c in &r.checks {
            let mark = match c.status {
                Status::Pass => "✓",
                Status::Fail => "✗",
                Status::Skip => "–",
            };
            let cat = c
                .category
                .map(|c| format!(" **[{c}]**"))
                .unwrap_or_default();
            let pts = if c.max_points > 0 {
                format!(" ({}/{})", c.points, c.max_points)
            } else {
                String::new()
            };
            writeln!(
                out,
                "- {mark} {}{pts}{cat}: {}",
                code(&c.name),
                code(&c.message)
            )?;
        }
        for c in r.checks.iter().filter(|c| c.status == Status::Fail) {
            failure(out, r, c)?;
        }
        for category in &r.categories {
            lesson(out, (&e.id, &e.lesson), &course, *category)?;
        }
        if r.status == ResultStatus::Fail && explain::hint_applies(&r.categories) {
            // Hints are the course's own Markdown, shown as written.
            if let Some(hint) = hints.get(&e.id) {
                writeln!(out, "\n**Hint.** {hint}")?;
            }
        }
    }
    let skipped: Vec<_> = class
        .skipped
        .iter()
        .filter(|s| s.student.as_deref() == Some(student))
        .collect();
    if !skipped.is_empty() {
        writeln!(out, "\n## Not graded\n")?;
        for s in skipped {
            writeln!(out, "- {}: {}", code(&s.path), text(&s.reason))?;
        }
    }
    Ok(())
}

/// One failed check's [`Explanation`](explain::Explanation): the compile
/// error's reading, what the detector saw, the student's lines.
fn failure(out: &mut impl Write, r: &GradeResult, c: &CheckOutcome) -> io::Result<()> {
    let explanation = explain::Explanation::of(c);
    let details = explanation.details;
    // The places, underlined when the batch read them.
    let excerpt = r.excerpts.get(&c.name).map(|s| s.trim_end());
    if explanation.leads.is_empty()
        && details.trim().is_empty()
        && excerpt.is_none_or(str::is_empty)
    {
        return Ok(());
    }
    let cat = c.category.map(|c| format!(" ({c})")).unwrap_or_default();
    writeln!(out, "\n### ✗ {}{cat}\n", text(&c.name))?;
    for lead in &explanation.leads {
        // The course's own words about rustc's error.
        writeln!(out, "→ **{lead}**\n")?;
    }
    if !details.trim().is_empty() {
        writeln!(out, "{}", fenced(details))?;
    }
    if let Some(excerpt) = excerpt.filter(|s| !s.is_empty()) {
        writeln!(out, "\nWhere, in your code:\n\n{}", fenced(excerpt))?;
    }
    Ok(())
}

/// What a category means, what to do instead, what to reread.
fn lesson(
    out: &mut impl Write,
    own: (&str, &str),
    course: &[(&str, &str)],
    category: Category,
) -> io::Result<()> {
    let l = teach::lesson(category);
    writeln!(out, "\n### [{category}]\n")?;
    writeln!(out, "**What happened:** {}\n", l.means)?;
    writeln!(out, "**What to do:** {}\n", l.instead)?;
    writeln!(
        out,
        "{}",
        explain::reread(own, course.iter().copied(), category)
    )
}

/// The underlined lines of every failed check of `result`, read from
/// `submission` (by check name), for [`GradeResult::excerpts`].
pub fn excerpts(result: &GradeResult, submission: &Path) -> BTreeMap<String, String> {
    result
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .filter_map(|c| {
            let shown = super::snippet::render(submission, &explain::places(c), false);
            (!shown.is_empty()).then(|| (c.name.clone(), shown))
        })
        .collect()
}

fn verdict(r: &GradeResult) -> String {
    match r.status {
        ResultStatus::Pass => "passed".into(),
        ResultStatus::Error => "not graded (grader error)".into(),
        ResultStatus::Fail if r.categories.is_empty() => "failed".into(),
        ResultStatus::Fail => {
            let cats: Vec<String> = r.categories.iter().map(|c| c.to_string()).collect();
            format!("failed: {}", cats.join(", "))
        }
    }
}
