//! Gradescope's `results.json`, for `check --format gradescope` (one
//! exercise) and `handin --format gradescope` (a whole hand-in in one
//! call, what a `run_autograder` script wants).
//!
//! Fields as Gradescope's autograder specification gives them: a top-level
//! `score` (which overrides the sum of the tests), `execution_time`, an
//! `output` shown to the student, and one test a check with `name`,
//! `number`, `score`, `max_score`, `status` (`passed`/`failed`), `output`,
//! the failure category as a tag and the exercise's `visibility` from its
//! spec. A check that was not run is `failed` (Gradescope has no
//! "skipped", and a skip is never a pass) and its message says so once; an
//! exercise that was expected and not found is one failed test worth its
//! points; one the grader could not grade is one failed test saying why.
//! Texts are Markdown; anything from a submission is escaped or fenced
//! ([`markdown`](super::markdown)).

use super::{explain, markdown};
use crate::checks::Status;
use crate::grade::{GradeResult, ResultStatus};
use crate::spec::ExerciseSpec;
use serde_json::{Value, json};
use std::io::{self, Write};

/// One exercise of the document: its spec and, when it was handed in, its
/// result.
pub struct Entry<'a> {
    pub spec: &'a ExerciseSpec,
    pub result: Option<&'a GradeResult>,
}

pub fn write(out: &mut impl Write, entries: &[Entry], notes: &[String]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(entries, notes))?;
    writeln!(out)
}

/// The document; `notes` are lines for the top-level output (what was
/// skipped in the upload and why).
pub fn document(entries: &[Entry], notes: &[String]) -> Value {
    let mut tests = Vec::new();
    let mut lines = Vec::new();
    let (mut score, mut max, mut ms) = (0u32, 0u32, 0u64);
    let mut categories: Vec<&str> = Vec::new();
    for (n, e) in entries.iter().enumerate() {
        let id = &e.spec.id;
        let visibility = e.spec.visibility;
        let number = |i: usize| format!("{}.{}", n + 1, i + 1);
        max += e.spec.max_score();
        let Some(r) = e.result else {
            tests.push(json!({
                "name": format!("{id}: handed in"),
                "number": number(0),
                "score": 0,
                "max_score": e.spec.max_score(),
                "status": "failed",
                "output": format!("No submission of {id} was found in the upload."),
                "output_format": "md",
                "tags": ["not-handed-in"],
                "visibility": visibility,
            }));
            lines.push(format!(
                "- **{id}**: not handed in, 0/{}",
                e.spec.max_score()
            ));
            continue;
        };
        ms += r.duration_ms;
        if r.status == ResultStatus::Error {
            let why = r.checks.first().map(|c| c.message.as_str()).unwrap_or("");
            tests.push(json!({
                "name": format!("{id}: grading"),
                "number": number(0),
                "score": 0,
                "max_score": e.spec.max_score(),
                "status": "failed",
                "output": format!("The grader could not grade this exercise: {}", markdown::text(why)),
                "output_format": "md",
                "tags": ["grader-error"],
                "visibility": visibility,
            }));
            lines.push(format!(
                "- **{id}**: could not be graded, 0/{}",
                e.spec.max_score()
            ));
            continue;
        }
        score += r.score;
        for (i, c) in r.checks.iter().enumerate() {
            let mut output = markdown::text(&c.message);
            if c.status == Status::Fail && !c.details.trim().is_empty() {
                output.push_str("\n\n");
                output.push_str(&markdown::fenced(c.details.trim_end()));
            }
            let tags: Vec<&str> = match (c.status, c.category) {
                (_, Some(cat)) => vec![cat.as_str()],
                (Status::Skip, None) => vec!["not-run"],
                _ => Vec::new(),
            };
            tests.push(json!({
                "name": format!("{id}: {}", c.name),
                "number": number(i),
                "score": c.points,
                "max_score": c.max_points,
                "status": if c.status == Status::Pass { "passed" } else { "failed" },
                "output": output,
                "output_format": "md",
                "tags": tags,
                "visibility": visibility,
            }));
        }
        for c in &r.categories {
            if !categories.contains(&c.as_str()) {
                categories.push(c.as_str());
            }
        }
        let cats: Vec<&str> = r.categories.iter().map(|c| c.as_str()).collect();
        let mut line = match r.status {
            ResultStatus::Pass => format!("- **{id}**: passed, {}/{}", r.score, r.max_score),
            _ => format!(
                "- **{id}**: failed ({}), {}/{}",
                cats.join(", "),
                r.score,
                r.max_score
            ),
        };
        if r.status == ResultStatus::Fail
            && explain::hint_applies(&r.categories)
            && !e.spec.hint.trim().is_empty()
        {
            // The course's own Markdown, as written.
            line.push_str(&format!(
                "\n\n  **Hint.** {}",
                e.spec.hint.trim().replace('\n', "\n  ")
            ));
        }
        lines.push(line);
    }
    let mut output = format!("**Total: {score}/{max}**\n\n{}", lines.join("\n"));
    if !notes.is_empty() {
        output.push_str("\n\n**Not graded:**\n\n");
        for n in notes {
            output.push_str(&format!("- {}\n", markdown::text(n)));
        }
    }
    let statuses: Vec<&str> = entries
        .iter()
        .map(|e| match e.result.map(|r| r.status) {
            None => "missing",
            Some(ResultStatus::Pass) => "pass",
            Some(ResultStatus::Fail) => "fail",
            Some(ResultStatus::Error) => "error",
        })
        .collect();
    json!({
        "score": score,
        "execution_time": ms as f64 / 1000.0,
        "output": output,
        "output_format": "md",
        "test_output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "exercises": entries.iter().map(|e| e.spec.id.as_str()).collect::<Vec<_>>(),
            "statuses": statuses,
            "categories": categories,
            "grader": env!("CARGO_PKG_VERSION"),
        },
    })
}
