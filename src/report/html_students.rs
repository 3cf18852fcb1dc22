//! The per-student parts of `report.html`: who needs help, and each
//! student's feedback as a section of the page that their row links to
//! (`#student-N`), so the page stays one self-contained file.
//!
//! A section says what the student's feedback file says of each exercise:
//! the checks, the one-line reading of a compile error, what the detector
//! saw and the underlined lines ([`explain`](super::explain)). Text from a
//! submission is HTML-escaped and its control characters shown escaped.

use super::{explain, safe};
use crate::batch::ClassResults;
use crate::checks::Status;
use crate::grade::ResultStatus;
use std::io::{self, Write};

/// How many students each "needs help" list names at most.
const NEEDS_HELP: usize = 5;

/// The anchor of the `i`-th student's section.
pub fn anchor(i: usize) -> String {
    format!("student-{i}")
}

/// Whether the student handed in anything that was graded or tried.
pub fn handed_in(class: &ClassResults, student: &str) -> bool {
    class.of(student).next().is_some()
}

fn link(class: &ClassResults, student: &str) -> String {
    let i = class
        .students
        .iter()
        .position(|s| s == student)
        .unwrap_or(0);
    format!(r##"<a href="#{}">{}</a>"##, anchor(i), esc(student))
}

fn failed_checks(class: &ClassResults, student: &str) -> usize {
    class
        .of(student)
        .flat_map(|r| &r.checks)
        .filter(|c| c.status != Status::Pass)
        .count()
}

/// "Needs help": the lowest totals and the most failed checks among those
/// who handed in something, and everyone who handed in nothing.
pub fn needs_help(out: &mut impl Write, class: &ClassResults) -> io::Result<()> {
    let active: Vec<&String> = class
        .students
        .iter()
        .filter(|s| handed_in(class, s))
        .collect();
    let nothing: Vec<&String> = class
        .students
        .iter()
        .filter(|s| !handed_in(class, s))
        .collect();
    let max = class.max_total();
    writeln!(out, r#"<h2 id="needs-help">Needs help</h2>"#)?;
    writeln!(out, r#"<div class="cards help">"#)?;

    let mut lowest = active.clone();
    lowest.sort_by_key(|s| {
        (
            class.total(s),
            std::cmp::Reverse(failed_checks(class, s)),
            s.as_str(),
        )
    });
    let lowest: Vec<_> = lowest
        .into_iter()
        .filter(|s| class.total(s) < max)
        .take(NEEDS_HELP)
        .collect();
    writeln!(
        out,
        r#"<div class="card" id="lowest-totals"><strong>Lowest totals</strong> <span class="muted">({} of the {} students who handed in something)</span><ol>"#,
        lowest.len(),
        active.len()
    )?;
    for s in &lowest {
        writeln!(
            out,
            "<li>{} — {} / {max}</li>",
            link(class, s),
            class.total(s)
        )?;
    }
    writeln!(out, "</ol></div>")?;

    let mut most: Vec<(&String, usize)> = active
        .iter()
        .map(|s| (*s, failed_checks(class, s)))
        .filter(|(_, n)| *n > 0)
        .collect();
    most.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    most.truncate(NEEDS_HELP);
    writeln!(
        out,
        r#"<div class="card" id="most-failed"><strong>Most failed checks</strong> <span class="muted">({} of the {} students who handed in something)</span><ol>"#,
        most.len(),
        active.len()
    )?;
    for (s, n) in &most {
        writeln!(
            out,
            "<li>{} — {n} check{} failed or not run</li>",
            link(class, s),
            if *n == 1 { "" } else { "s" }
        )?;
    }
    writeln!(out, "</ol></div>")?;

    writeln!(
        out,
        r#"<div class="card" id="nothing-handed-in"><strong>Handed in nothing</strong> <span class="muted">({} of {} students)</span><ul>"#,
        nothing.len(),
        class.students.len()
    )?;
    for s in &nothing {
        writeln!(out, "<li>{}</li>", link(class, s))?;
    }
    writeln!(out, "</ul></div></div>")
}

/// Every student's section.
pub fn sections(out: &mut impl Write, class: &ClassResults) -> io::Result<()> {
    writeln!(out, r#"<h2 id="feedback">Feedback by student</h2>"#)?;
    for (i, student) in class.students.iter().enumerate() {
        writeln!(
            out,
            r#"<section class="student" id="{}" data-student="{}">"#,
            anchor(i),
            esc(student)
        )?;
        writeln!(
            out,
            r##"<h3>{} <span class="muted">— total {} / {} · <a href="feedback/{}.md">feedback file</a> · <a href="#students-table">back to the table</a></span></h3>"##,
            esc(student),
            class.total(student),
            class.max_total(),
            esc(&percent_encoded(student))
        )?;
        if !handed_in(class, student) {
            writeln!(
                out,
                r#"<p class="none">Handed in nothing that could be graded.</p>"#
            )?;
        }
        for e in &class.exercises {
            let Some(r) = class.get(student, &e.id) else {
                if handed_in(class, student) {
                    writeln!(
                        out,
                        r#"<h4>{} <span class="none">not handed in, 0 / {}</span></h4>"#,
                        esc(&e.id),
                        e.max_score
                    )?;
                }
                continue;
            };
            let (cls, verdict) = match r.status {
                ResultStatus::Pass => ("pass", "passed".to_string()),
                ResultStatus::Error => ("error", "not graded (grader error)".to_string()),
                ResultStatus::Fail => {
                    let cats: Vec<&str> = r.categories.iter().map(|c| c.as_str()).collect();
                    ("fail", format!("failed: {}", cats.join(", ")))
                }
            };
            writeln!(
                out,
                r#"<h4 data-exercise="{id}">{id} <span class="{cls}">{verdict}, {} / {}</span></h4>"#,
                r.score,
                r.max_score,
                id = esc(&e.id)
            )?;
            writeln!(out, r#"<ul class="checks">"#)?;
            for c in &r.checks {
                let (cls, mark) = match c.status {
                    Status::Pass => ("pass", "✓"),
                    Status::Fail => ("fail", "✗"),
                    Status::Skip => ("none", "–"),
                };
                let cat = c
                    .category
                    .map(|c| format!(" <strong>[{c}]</strong>"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    r#"<li class="{cls}" data-check="{}" data-status="{}">{mark} <code>{}</code>{cat}: {}</li>"#,
                    esc(&c.name),
                    match c.status {
                        Status::Pass => "pass",
                        Status::Fail => "fail",
                        Status::Skip => "skip",
                    },
                    esc(&c.name),
                    esc(&safe::one_line(&c.message))
                )?;
            }
            writeln!(out, "</ul>")?;
            for c in r.checks.iter().filter(|c| c.status == Status::Fail) {
                let explanation = explain::Explanation::of(c);
                for lead in &explanation.leads {
                    writeln!(out, "<p>→ <strong>{}</strong></p>", esc(lead))?;
                }
                if !explanation.details.trim().is_empty() {
                    writeln!(out, "<pre>{}</pre>", esc(&safe::text(explanation.details)))?;
                }
                if let Some(x) = r.excerpts.get(&c.name) {
                    writeln!(out, "<pre>{}</pre>", esc(&safe::text(x.trim_end())))?;
                }
            }
        }
        writeln!(out, "</section>")?;
    }
    Ok(())
}

/// A file name as a relative URL path segment.
fn percent_encoded(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
