//! Gradescope's `results.json` for `check --format gradescope`.
//!
//! Fields as Gradescope's autograder specification gives them (see the
//! course's research notes): a top-level `score` (which overrides the sum of
//! the tests), `execution_time`, an `output` shown to the student, and one
//! test a check with `score`, `max_score`, `status` (`passed`/`failed`),
//! `output` and the failure category as a tag. A check that could not run is
//! `failed` (Gradescope has no "skipped", and a skip is never a pass); a
//! submission the grader could not grade scores 0 with the reason as output.
//! Texts are Markdown; student output is fenced.

use crate::checks::Status;
use crate::grade::{GradeResult, ResultStatus};
use crate::spec::ExerciseSpec;
use serde_json::{Value, json};
use std::io::{self, Write};

pub fn write(out: &mut impl Write, spec: &ExerciseSpec, result: &GradeResult) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(spec, result))?;
    writeln!(out)
}

pub fn document(spec: &ExerciseSpec, result: &GradeResult) -> Value {
    let categories: Vec<&str> = result.categories.iter().map(|c| c.as_str()).collect();
    let extra = json!({
        "exercise": result.exercise,
        "status": result.status,
        "categories": categories,
        "grader": env!("CARGO_PKG_VERSION"),
    });
    let time = result.duration_ms as f64 / 1000.0;
    if result.status == ResultStatus::Error {
        let why = result
            .checks
            .first()
            .map(|c| c.message.as_str())
            .unwrap_or("");
        return json!({
            "score": 0,
            "execution_time": time,
            "output": format!("The grader could not grade this submission: {why}"),
            "output_format": "md",
            "visibility": "visible",
            "stdout_visibility": "hidden",
            "tests": [],
            "extra_data": extra,
        });
    }
    let tests: Vec<Value> = result
        .checks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut output = c.message.clone();
            if c.status == Status::Skip {
                output = format!("not run: {output}");
            }
            if c.status == Status::Fail && !c.details.trim().is_empty() {
                output.push_str("\n\n");
                output.push_str(&fence(c.details.trim_end()));
            }
            let tags: Vec<&str> = c.category.iter().map(|c| c.as_str()).collect();
            json!({
                "name": format!("{}: {}", result.exercise, c.name),
                "number": format!("{}", i + 1),
                "score": c.points,
                "max_score": c.max_points,
                "status": if c.status == Status::Pass { "passed" } else { "failed" },
                "output": output,
                "output_format": "md",
                "tags": tags,
                "visibility": "visible",
            })
        })
        .collect();
    let mut output = match result.status {
        ResultStatus::Pass => format!(
            "**{}** passed: {}/{}.",
            result.exercise, result.score, result.max_score
        ),
        _ => format!(
            "**{}** failed ({}): {}/{}.",
            result.exercise,
            categories.join(", "),
            result.score,
            result.max_score
        ),
    };
    if result.status == ResultStatus::Fail && !spec.hint.trim().is_empty() {
        output.push_str("\n\n**Hint.** ");
        output.push_str(spec.hint.trim());
    }
    json!({
        "score": result.score,
        "execution_time": time,
        "output": output,
        "output_format": "md",
        "test_output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": extra,
    })
}

fn fence(body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let f = "`".repeat(longest.max(2) + 1);
    format!("{f}text\n{body}\n{f}")
}
