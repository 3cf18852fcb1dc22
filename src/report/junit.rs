//! JUnit XML: what CI systems (GitLab, Jenkins, Azure, GitHub test-report
//! actions) show as a test report.
//!
//! `check --format junit` writes one suite for the exercise; `batch` writes
//! `junit.xml` with a suite a student. Either way a check is a test case
//! (`classname` = exercise, `name` = check): a failing check is a
//! `<failure>` whose `type` is its category, a check that could not run is
//! `<skipped>`, and a submission the grader could not grade is an `<error>`.
//! Written by hand rather than with a library because the format is small;
//! every text is escaped, and characters XML 1.0 cannot hold at all (a
//! student's program may print any byte) become U+FFFD.

use crate::batch::ClassResults;
use crate::checks::Status;
use crate::grade::{GradeResult, ResultStatus};
use std::io::{self, Write};

/// One graded submission as a JUnit document.
pub fn write_check(out: &mut impl Write, result: &GradeResult) -> io::Result<()> {
    let c = Counts::of(std::slice::from_ref(result));
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="grader" tests="{}" failures="{}" errors="{}" skipped="{}" time="{}">"#,
        c.tests,
        c.failures,
        c.errors,
        c.skipped,
        secs(c.ms)
    )?;
    suite(out, &result.exercise, std::slice::from_ref(result))?;
    writeln!(out, "</testsuites>")
}

/// A whole class: one suite a student, in name order.
pub fn write_class(out: &mut impl Write, class: &ClassResults) -> io::Result<()> {
    let c = Counts::of(&class.results);
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="grader batch" tests="{}" failures="{}" errors="{}" skipped="{}" time="{}">"#,
        c.tests,
        c.failures,
        c.errors,
        c.skipped,
        secs(c.ms)
    )?;
    for student in &class.students {
        let results: Vec<GradeResult> = class.of(student).cloned().collect();
        suite(out, student, &results)?;
    }
    writeln!(out, "</testsuites>")
}

#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    ms: u64,
}

impl Counts {
    fn of(results: &[GradeResult]) -> Counts {
        let mut c = Counts::default();
        for r in results {
            c.ms += r.duration_ms;
            if r.status == ResultStatus::Error {
                c.tests += 1;
                c.errors += 1;
                continue;
            }
            for check in &r.checks {
                c.tests += 1;
                match check.status {
                    Status::Pass => {}
                    Status::Fail => c.failures += 1,
                    Status::Skip => c.skipped += 1,
                }
            }
        }
        c
    }
}

fn suite(out: &mut impl Write, name: &str, results: &[GradeResult]) -> io::Result<()> {
    let c = Counts::of(results);
    writeln!(
        out,
        r#"  <testsuite name="{}" tests="{}" failures="{}" errors="{}" skipped="{}" time="{}">"#,
        esc(name),
        c.tests,
        c.failures,
        c.errors,
        c.skipped,
        secs(c.ms)
    )?;
    for r in results {
        let class = esc(&r.exercise);
        if r.status == ResultStatus::Error {
            let why = r.checks.first().map(|c| c.message.as_str()).unwrap_or("");
            writeln!(out, r#"    <testcase classname="{class}" name="grader">"#)?;
            writeln!(out, r#"      <error message="{}"/>"#, esc(why))?;
            writeln!(out, "    </testcase>")?;
            continue;
        }
        for check in &r.checks {
            let head = format!(
                r#"    <testcase classname="{class}" name="{}""#,
                esc(&check.name)
            );
            match check.status {
                Status::Pass => writeln!(out, "{head}/>")?,
                Status::Skip => {
                    writeln!(out, "{head}>")?;
                    writeln!(out, r#"      <skipped message="{}"/>"#, esc(&check.message))?;
                    writeln!(out, "    </testcase>")?;
                }
                Status::Fail => {
                    let category = check.category.map(|c| c.as_str()).unwrap_or("fail");
                    writeln!(out, "{head}>")?;
                    write!(
                        out,
                        r#"      <failure message="{}" type="{category}">"#,
                        esc(&check.message)
                    )?;
                    write!(out, "{}", esc(&check.details))?;
                    writeln!(out, "</failure>")?;
                    writeln!(out, "    </testcase>")?;
                }
            }
        }
    }
    writeln!(out, "  </testsuite>")
}

fn secs(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// Escapes text for an attribute or element; drops what XML cannot hold.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup_and_control_bytes() {
        assert_eq!(esc("a<b & \"c\"\x1b"), "a&lt;b &amp; &quot;c&quot;\u{FFFD}");
    }
}
