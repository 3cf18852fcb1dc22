//! GitHub Actions workflow commands, for `check --format github` and
//! `handin --format github`.
//!
//! Each failing check becomes an `::error` annotation: its title names the
//! check and category, its text is the check's explanation
//! ([`explain`](super::explain), as the terminal and the feedback files
//! word it: verdict, readings of rustc's errors, what the detector saw,
//! where). Its place is the
//! first of the check's `locations` (the line rustc, the scanner, the trace
//! or the model checker named), never a place parsed back out of a message;
//! the path is relative to the repository root (the git top level of the
//! submission, else the course root), which is what GitHub resolves
//! `file=` against. A check that was not run lost its points: an `::error`
//! that says why. After the annotations come the two notices GitHub
//! Classroom's reporter writes and reads, `Points X/Y` and its JSON twin.
//!
//! Workflow commands are one line each: `%`, CR and LF in a message are
//! percent-encoded (also `:` and `,` in properties), so text a student's
//! program printed, `::` and all, can never start a command of its own;
//! control characters are first shown escaped ([`safe`](super::safe)), so
//! it cannot colour or rewrite the log either.

use super::{explain, safe};
use crate::checks::{CheckOutcome, SourceRef, Status};
use crate::grade::{GradeResult, ResultStatus};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// How much of a failure's details goes into one annotation.
const MAX_DETAILS: usize = 4000;

/// The root that `file=` paths are relative to: the git top level holding
/// `submission`, else `course_root`.
pub fn repo_root(submission: &Path, course_root: &Path) -> PathBuf {
    let top = std::process::Command::new("git")
        .arg("-C")
        .arg(submission)
        .args(["rev-parse", "--show-toplevel"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim_end_matches('\n')))
        .filter(|p| p.is_dir());
    top.unwrap_or_else(|| course_root.to_path_buf())
}

/// The annotations of one graded submission, then a one-line summary.
pub fn annotate(
    out: &mut impl Write,
    result: &GradeResult,
    submission: &Path,
    root: &Path,
) -> io::Result<()> {
    let id = &result.exercise;
    if result.status == ResultStatus::Error {
        let why = result
            .checks
            .first()
            .map(|c| c.message.as_str())
            .unwrap_or("");
        writeln!(
            out,
            "::error title={}::{}",
            prop(&format!("{id}: could not grade")),
            data(why)
        )?;
        return writeln!(out, "{id}: could not be graded");
    }
    for c in &result.checks {
        match c.status {
            Status::Pass => {}
            Status::Skip => writeln!(
                out,
                "::error title={}::{}",
                prop(&format!("{id}: {} not run", c.name)),
                data(&c.message)
            )?,
            Status::Fail => {
                let cat = c
                    .category
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "fail".into());
                let title = prop(&format!("{id}: {} [{cat}]", c.name));
                let text = body(c);
                match place(c, submission, root) {
                    Some((file, line)) => writeln!(
                        out,
                        "::error file={},line={line},title={title}::{}",
                        prop(&file),
                        data(&text)
                    )?,
                    None => writeln!(out, "::error title={title}::{}", data(&text))?,
                }
            }
        }
    }
    let verdict = match result.status {
        ResultStatus::Pass => "passed",
        _ => "failed",
    };
    writeln!(out, "{id}: {verdict} {}/{}", result.score, result.max_score)
}

/// The notices GitHub Classroom's reporter writes, from which the
/// classroom takes the points.
pub fn points(out: &mut impl Write, score: u32, max: u32) -> io::Result<()> {
    writeln!(
        out,
        "::notice title=Autograding complete::Points {score}/{max}"
    )?;
    writeln!(
        out,
        "::notice title=Autograding report::{}",
        data(&serde_json::json!({"totalPoints": score, "maxPoints": max}).to_string())
    )
}

/// A `::warning` with this title and text.
pub fn warning(out: &mut impl Write, title: &str, text: &str) -> io::Result<()> {
    writeln!(out, "::warning title={}::{}", prop(title), data(text))
}

/// An annotation's text: the check's [`Explanation`](explain::Explanation)
/// as plain text, its verdict first.
fn body(c: &CheckOutcome) -> String {
    explain::Explanation::of(c).plain(true, MAX_DETAILS)
}

/// The first location of `c` that names a file of the submission, as a
/// path from `root` and a line.
fn place(c: &CheckOutcome, submission: &Path, root: &Path) -> Option<(String, usize)> {
    let root = root.canonicalize().ok()?;
    c.locations.iter().find_map(|loc: &SourceRef| {
        if loc.line == 0 {
            return None;
        }
        // A detector may name a file by its name under `src/` alone.
        let file = [PathBuf::from(&loc.file), Path::new("src").join(&loc.file)]
            .into_iter()
            .filter(|rel| rel.is_relative())
            .map(|rel| submission.join(rel))
            .find(|p| p.is_file())?
            .canonicalize()
            .ok()?;
        let rel = file.strip_prefix(&root).ok()?;
        let rel: Vec<String> = rel
            .components()
            .map(|p| p.as_os_str().to_string_lossy().into_owned())
            .collect();
        Some((rel.join("/"), loc.line))
    })
}

/// A workflow command's message.
fn data(s: &str) -> String {
    safe::text(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value.
fn prop(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Category;

    #[test]
    fn escapes_commands() {
        assert_eq!(data("50%\n::error::x"), "50%25%0A::error::x");
        assert_eq!(data("a\x1b[31mb\r"), "a\\x1b[31mb\\r");
        assert_eq!(prop("a: b, c"), "a%3A b%2C c");
    }

    #[test]
    fn an_annotation_says_what_the_terminal_says_on_one_line() {
        let rustc = "error[E0373]: closure may outlive the current function, but it borrows \
                     `i`, which is owned by the current function\n --> src/main.rs:6:36\n";
        let c = CheckOutcome::fail("build", 0, Category::CompileError, "does not compile")
            .with_details(rustc)
            .at("src/lib.rs", 3, "the thread\x1b[2J starts here");
        let lead = &crate::report::explain::lead_ins(&c)[0];
        let result = GradeResult::from_checks("01-x", vec![c], std::time::Duration::ZERO);
        let mut out = Vec::new();
        let dir = tempfile::tempdir().unwrap();
        annotate(&mut out, &result, dir.path(), dir.path()).unwrap();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        let message = lines[0].split_once("]::").unwrap().1;
        assert!(message.starts_with("does not compile%0A%0A→ "), "{out}");
        assert!(message.contains(&data(lead)), "{out}");
        assert!(message.contains("error[E0373]"), "{out}");
        assert!(
            message.ends_with("src/lib.rs:3: the thread\\x1b[2J starts here"),
            "{out}"
        );
    }

    #[test]
    fn the_place_is_the_first_location_from_the_root() {
        let root = tempfile::tempdir().unwrap();
        let sub = root.path().join("exercises/05-x");
        std::fs::create_dir_all(sub.join("src")).unwrap();
        std::fs::write(sub.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
        let c = CheckOutcome::fail("model", 5, Category::DataRace, "lost (src/main.rs:9)")
            .at("gone.rs", 3, "")
            .at("lib.rs", 1, "thread 1 reads here");
        assert_eq!(
            place(&c, &sub, root.path()),
            Some(("exercises/05-x/src/lib.rs".to_string(), 1))
        );
        // Nothing is parsed out of the message.
        let bare = CheckOutcome::fail("model", 5, Category::DataRace, "at src/lib.rs:1");
        assert_eq!(place(&bare, &sub, root.path()), None);
    }
}
