//! `feedback/<student>.md`: what one student reads after a batch.
//!
//! A table of every exercise of the batch (passed, failed and why, not
//! handed in), then for each submission its checks, the details of what
//! failed and, when it failed, the exercise's hint; last, anything of the
//! student's that was skipped and why (a misnamed folder costs points the
//! student should hear about). Text that came from a submission is escaped
//! or fenced so it cannot turn into markup.

use crate::batch::ClassResults;
use crate::checks::Status;
use crate::grade::ResultStatus;
use std::collections::BTreeMap;
use std::io::{self, Write};

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
        for c in r
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail && !c.details.trim().is_empty())
        {
            writeln!(out, "\nWhat {} saw:\n", code(&c.name))?;
            fenced(out, c.details.trim_end())?;
        }
        if r.status == ResultStatus::Fail {
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

fn verdict(r: &crate::grade::GradeResult) -> String {
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

/// Inline text: one line, markdown and HTML characters escaped.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\n' | '\r' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(ch);
            }
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A code span: shown literally, whatever it holds (a message may quote
/// the student's output), on one line.
fn code(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let tick = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{tick}{pad}{s}{pad}{tick}")
}

/// A fenced block longer than any run of backticks inside it.
fn fenced(out: &mut impl Write, body: &str) -> io::Result<()> {
    let mut longest = 0;
    let mut run = 0;
    for ch in body.chars() {
        run = if ch == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest.max(2) + 1);
    let body: String = body
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    writeln!(out, "{fence}text\n{body}\n{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(text("a|b <i>*x*</i>"), "a\\|b &lt;i&gt;\\*x\\*&lt;/i&gt;");
    }

    #[test]
    fn code_spans_hold_anything() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("was `done`"), "`` was `done` ``");
        assert_eq!(code("x\ny"), "`x y`");
    }

    #[test]
    fn fences_outgrow_backticks() {
        let mut v = Vec::new();
        fenced(&mut v, "a ```` b").unwrap();
        assert!(String::from_utf8(v).unwrap().starts_with("`````text\n"));
    }
}
