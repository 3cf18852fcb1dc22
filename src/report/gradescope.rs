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
//! A failed check's output is its explanation ([`explain`](super::explain),
//! as the feedback files word it). Texts are Markdown; anything from a
//! submission is escaped or fenced ([`markdown`](super::markdown)).

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

/// A failed check's explanation after its verdict, as the feedback files
/// lay it out: the readings of rustc's errors (the course's Markdown), what
/// the detector saw, the student's lines (underlined when the batch read
/// them, else named).
fn explained(output: &mut String, e: &explain::Explanation, excerpt: Option<&String>) {
    for lead in &e.leads {
        output.push_str(&format!("\n\n→ **{lead}**"));
    }
    if !e.details.trim().is_empty() {
        output.push_str("\n\n");
        output.push_str(&markdown::fenced(e.details));
    }
    match excerpt.map(|x| x.trim_end()).filter(|x| !x.is_empty()) {
        Some(x) => {
            output.push_str("\n\nWhere, in your code:\n\n");
            output.push_str(&markdown::fenced(x));
        }
        None if !e.places.is_empty() => {
            output.push_str("\n\nWhere, in your code:\n");
            for p in &e.places {
                let at = markdown::code(&format!("{}:{}", p.file, p.line));
                output.push_str(&format!("\n- {at}"));
                if !p.label.trim().is_empty() {
                    output.push_str(&format!(": {}", markdown::text(p.label.trim())));
                }
            }
        }
        None => {}
    }
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
            if c.status == Status::Fail {
                explained(
                    &mut output,
                    &explain::Explanation::of(c),
                    r.excerpts.get(&c.name),
                );
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
