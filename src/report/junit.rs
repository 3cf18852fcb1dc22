//! JUnit XML: what CI systems (GitLab, Jenkins, Azure, GitHub test-report
//! actions) show as a test report.
//!
//! `check --format junit` writes one suite for the exercise, `handin
//! --format junit` one for the student's hand-in, and `batch` writes
//! `junit.xml` with a suite a student. A check is a test case
//! (`classname` = exercise, `name` = check):
//!
//! - a failing check is a `<failure>` whose `type` is its category, its
//!   message the check's verdict and its text the rest of the check's
//!   explanation ([`explain`](super::explain), as every page words it);
//! - a check that was not run lost its points, so it is a `<failure>` of
//!   type `not-run` saying why (a `<skipped>` would show it neutral);
//! - an exercise of the batch the student did not hand in is a `<failure>`
//!   of type `not-handed-in`;
//! - a submission the grader could not grade, and a student with nothing
//!   gradable at all, is an `<error>`.
//!
//! The document is built with quick-junit (nextest's JUnit model and
//! serializer) and valid against both published schemas CI tools check
//! reports with, shipped in `tests/schemas/`: the Apache Ant JUnit XSD and
//! Jenkins' `junit-10.xsd` (tests/outputs.rs validates with `xmllint`). The
//! two agree on little: Ant allows no attribute on `<testsuites>` and wants
//! `id`, `package`, `hostname`, a zone-less `timestamp`, `<properties>`,
//! `<system-out>` and `<system-err>` on every suite and a `time` on every
//! case; Jenkins refuses `skipped` on `<testsuites>`. So every suite carries
//! all of Ant's, and the root's attributes (which quick-junit always
//! writes) are taken off after serializing.
//!
//! Text from a submission is shown with its control characters escaped
//! ([`safe`](super::safe)); what XML cannot hold never reaches the file.

use super::{explain, safe};
use crate::batch::{ClassResults, ExerciseInfo};
use crate::checks::{CheckOutcome, Status};
use crate::grade::{GradeResult, ResultStatus};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::io::{self, Write};
use std::time::Duration;

/// One graded submission as a JUnit document.
pub fn write_check(out: &mut impl Write, result: &GradeResult) -> io::Result<()> {
    let suite = Suite {
        name: &result.exercise,
        results: vec![result],
        missing: Vec::new(),
        ungradable: None,
    };
    write_report(
        out,
        vec![suite.build(0, &latest(std::slice::from_ref(result)))],
    )
}

/// One student's hand-in: every exercise of `exercises`, handed in or not.
pub fn write_handin(
    out: &mut impl Write,
    name: &str,
    exercises: &[ExerciseInfo],
    results: &[GradeResult],
    ungradable: Option<String>,
) -> io::Result<()> {
    let suite = Suite::of(name, exercises, results.iter().collect(), ungradable);
    write_report(out, vec![suite.build(0, &latest(results))])
}

/// A whole class: one suite a student, in name order.
pub fn write_class(out: &mut impl Write, class: &ClassResults) -> io::Result<()> {
    // A student with no result is stamped with the class's last grading,
    // so that reports written again from the same results are the same.
    let fallback = latest(&class.results);
    let suites = class
        .students
        .iter()
        .enumerate()
        .map(|(i, student)| {
            let results: Vec<&GradeResult> = class.of(student).collect();
            let ungradable = results.is_empty().then(|| {
                let why: Vec<String> = class
                    .skipped
                    .iter()
                    .filter(|s| s.student.as_deref() == Some(student))
                    .map(|s| format!("{}: {}", s.path, s.reason))
                    .collect();
                if why.is_empty() {
                    "nothing gradable was handed in".to_string()
                } else {
                    format!("nothing gradable was handed in ({})", why.join("; "))
                }
            });
            Suite::of(student, &class.exercises, results, ungradable).build(i, &fallback)
        })
        .collect();
    write_report(out, suites)
}

/// What one `<testsuite>` is made of.
struct Suite<'a> {
    name: &'a str,
    results: Vec<&'a GradeResult>,
    /// Exercises of the run with no submission.
    missing: Vec<&'a str>,
    /// Why nothing of this suite could be graded at all.
    ungradable: Option<String>,
}

impl<'a> Suite<'a> {
    fn of(
        name: &'a str,
        exercises: &'a [ExerciseInfo],
        results: Vec<&'a GradeResult>,
        ungradable: Option<String>,
    ) -> Suite<'a> {
        let missing = if ungradable.is_some() {
            Vec::new()
        } else {
            exercises
                .iter()
                .filter(|e| !results.iter().any(|r| r.exercise == e.id))
                .map(|e| e.id.as_str())
                .collect()
        };
        Suite {
            name,
            results,
            missing,
            ungradable,
        }
    }

    fn build(&self, id: usize, fallback: &str) -> TestSuite {
        let mut suite = TestSuite::new(self.name);
        let ms: u64 = self.results.iter().map(|r| r.duration_ms).sum();
        suite.set_time(Duration::from_millis(ms));
        // Ant's timestamp has no zone: it is UTC, as `graded_at` is.
        let own = latest_of(self.results.iter().copied());
        let stamp = own
            .as_deref()
            .unwrap_or(fallback)
            .trim_end_matches('Z')
            .to_string();
        suite.extra.insert("timestamp".into(), stamp.into());
        suite.extra.insert("hostname".into(), hostname().into());
        suite.extra.insert("id".into(), id.to_string().into());
        suite.extra.insert("package".into(), self.name.into());
        suite.add_property(Property::new("grader.version", env!("CARGO_PKG_VERSION")));
        let mut summary = String::new();
        if let Some(why) = &self.ungradable {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_type("ungradable")
                .set_message(safe::one_line(why));
            suite.add_test_case(case(self.name, "submission", status));
            summary.push_str(&format!("{}: {}\n", self.name, safe::one_line(why)));
        }
        for r in &self.results {
            if r.status == ResultStatus::Error {
                let why = r.checks.first().map(|c| c.message.as_str()).unwrap_or("");
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status
                    .set_type("grader-error")
                    .set_message(safe::one_line(why));
                suite.add_test_case(case(&r.exercise, "grading", status));
                summary.push_str(&format!(
                    "{}: could not be graded: {}\n",
                    r.exercise,
                    safe::one_line(why)
                ));
                continue;
            }
            for c in &r.checks {
                suite.add_test_case(case(&r.exercise, &c.name, check_status(c)));
            }
            let cats: Vec<&str> = r.categories.iter().map(|c| c.as_str()).collect();
            summary.push_str(&format!(
                "{}: {} {}/{}{}\n",
                r.exercise,
                if r.status == ResultStatus::Pass {
                    "passed"
                } else {
                    "failed"
                },
                r.score,
                r.max_score,
                if cats.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", cats.join(", "))
                }
            ));
        }
        for id in &self.missing {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_type("not-handed-in")
                .set_message(format!("no submission of {id} was found"));
            suite.add_test_case(case(id, "handed in", status));
            summary.push_str(&format!("{id}: not handed in\n"));
        }
        suite.set_system_out(summary);
        suite.set_system_err("");
        suite
    }
}

fn case(classname: &str, name: &str, status: TestCaseStatus) -> TestCase {
    let mut case = TestCase::new(name, status);
    case.set_classname(classname);
    // Checks are not timed one by one; the suite's time is the grading's.
    case.set_time(Duration::ZERO);
    case
}

fn check_status(c: &CheckOutcome) -> TestCaseStatus {
    match c.status {
        Status::Pass => TestCaseStatus::success(),
        Status::Skip => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_type("not-run")
                .set_message(safe::one_line(&c.message));
            s
        }
        Status::Fail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_type(c.category.map(|c| c.as_str()).unwrap_or("fail"))
                .set_message(safe::one_line(&c.message));
            // The explanation the other pages give, the verdict aside: the
            // message attribute holds it.
            let text = explain::Explanation::of(c).plain(false, usize::MAX);
            if !text.trim().is_empty() {
                s.set_description(safe::text(&text));
            }
            s
        }
    }
}

/// The last `graded_at` of `results`, or now when none has one.
fn latest(results: &[GradeResult]) -> String {
    latest_of(results.iter()).unwrap_or_else(crate::grade::now_utc)
}

fn latest_of<'a>(results: impl Iterator<Item = &'a GradeResult>) -> Option<String> {
    results
        .filter_map(|r| r.graded_at.as_deref())
        .filter(|s| valid_stamp(s))
        .max()
        .map(str::to_string)
}

/// `2024-05-01T09:30:00Z`, as [`crate::grade::now_utc`] writes it.
fn valid_stamp(s: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ").is_ok()
}

/// This machine's name, as Ant's schema asks (`localhost` when unknown).
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at
    // most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    match std::str::from_utf8(&buf[..end]) {
        Ok(name) if rc == 0 && !name.trim().is_empty() => name.trim().to_string(),
        _ => "localhost".to_string(),
    }
}

fn write_report(out: &mut impl Write, suites: Vec<TestSuite>) -> io::Result<()> {
    let mut report = Report::unnamed();
    report.add_test_suites(suites);
    let mut bytes = Vec::new();
    report.serialize(&mut bytes).map_err(io::Error::other)?;
    out.write_all(&bare_root(&bytes)?)
}

/// The serialized report with no attribute on `<testsuites>` (Ant's schema
/// allows none; Jenkins' refuses `skipped`, which quick-junit always
/// writes). Every other event is copied as it was written.
fn bare_root(xml: &[u8]) -> io::Result<Vec<u8>> {
    use quick_xml::events::{BytesStart, Event};
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut writer = quick_xml::Writer::new(Vec::with_capacity(xml.len()));
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(io::Error::other)?;
        match event {
            Event::Eof => break,
            Event::Start(e) if e.name().as_ref() == b"testsuites" => {
                writer.write_event(Event::Start(BytesStart::new("testsuites")))?
            }
            Event::Empty(e) if e.name().as_ref() == b"testsuites" => {
                writer.write_event(Event::Empty(BytesStart::new("testsuites")))?
            }
            e => writer.write_event(e)?,
        }
        buf.clear();
    }
    let mut out = writer.into_inner();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Category;

    fn render(result: &GradeResult) -> String {
        let mut out = Vec::new();
        write_check(&mut out, result).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_root_has_no_attributes_and_text_survives_the_round_trip() {
        let result = GradeResult::from_checks(
            "01-x",
            vec![
                CheckOutcome::fail("output", 10, Category::WrongAnswer, "got `a<b & \"c\"`")
                    .with_details("line 1: \x1b[2Jboom\r\n&amp; <tag>"),
                CheckOutcome::skip("timing", 5, "not run: the submission did not build"),
            ],
            Duration::from_millis(1500),
        );
        let xml = render(&result);
        assert!(xml.contains("<testsuites>"), "{xml}");
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let failure = doc
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert_eq!(failure.attribute("message"), Some("got `a<b & \"c\"`"));
        assert_eq!(failure.attribute("type"), Some("wrong-answer"));
        assert_eq!(failure.text(), Some("line 1: \\x1b[2Jboom\\r\n&amp; <tag>"));
        let not_run = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .nth(1)
            .unwrap();
        assert_eq!(not_run.attribute("type"), Some("not-run"));
        assert_eq!(
            not_run.attribute("message"),
            Some("not run: the submission did not build")
        );
        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(suite.attribute("failures"), Some("2"));
        assert_eq!(suite.attribute("time"), Some("1.500"));
        assert!(
            valid_stamp(&format!("{}Z", suite.attribute("timestamp").unwrap())),
            "{xml}"
        );
    }

    #[test]
    fn an_ungradable_submission_is_an_error() {
        let xml = render(&GradeResult::error("01-x", "holds no src/".into()));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let error = doc.descendants().find(|n| n.has_tag_name("error")).unwrap();
        assert_eq!(error.attribute("type"), Some("grader-error"));
        assert_eq!(error.attribute("message"), Some("holds no src/"));
    }
}
