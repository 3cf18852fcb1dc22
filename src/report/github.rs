//! GitHub Actions workflow commands for `check --format github`.
//!
//! Each failing check becomes an `::error` annotation; when it names a place
//! in the submission (its first `locations` entry, else a `file:line` in its
//! message or details, as rustc's `--> src/main.rs:3:5`), the annotation
//! carries `file=` and `line=` so GitHub draws it on that line of the pull
//! request. A check that
//! could not run is a `::warning` (never a pass), a passing exercise a
//! `::notice`. Everything is escaped as the runner expects (`%`, CR and LF
//! in messages; also `:` and `,` in properties), so no text a student's
//! program printed can start a workflow command of its own.

use crate::checks::Status;
use crate::grade::{GradeResult, ResultStatus};
use regex::Regex;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// How much of a failure's details goes into one annotation.
const MAX_DETAILS: usize = 4000;

pub fn write(out: &mut impl Write, result: &GradeResult, submission: &Path) -> io::Result<()> {
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
        return Ok(());
    }
    for c in &result.checks {
        match c.status {
            Status::Pass => {}
            Status::Skip => writeln!(
                out,
                "::warning title={}::{}",
                prop(&format!("{id}: {} not run", c.name)),
                data(&c.message)
            )?,
            Status::Fail => {
                let cat = c
                    .category
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "fail".into());
                let title = prop(&format!("{id}: {} [{cat}]", c.name));
                let mut text = c.message.clone();
                if !c.details.trim().is_empty() {
                    let details: String = c.details.trim_end().chars().take(MAX_DETAILS).collect();
                    text.push_str("\n\n");
                    text.push_str(&details);
                }
                // The check's own places first (a race's lines, a
                // deadlock's locks), then a `src/..:LINE` in its text.
                let place = c
                    .locations
                    .first()
                    .map(|l| (l.file.clone(), l.line as u32))
                    .or_else(|| location(&c.message))
                    .or_else(|| location(&c.details));
                match place {
                    Some((file, line)) => {
                        let file = shown_path(&submission.join(file));
                        writeln!(
                            out,
                            "::error file={},line={line},title={title}::{}",
                            prop(&file.to_string_lossy()),
                            data(&text)
                        )?
                    }
                    None => writeln!(out, "::error title={title}::{}", data(&text))?,
                }
            }
        }
    }
    let summary = format!(
        "{} {}/{}",
        match result.status {
            ResultStatus::Pass => "passed",
            _ => "failed",
        },
        result.score,
        result.max_score
    );
    if result.status == ResultStatus::Pass {
        writeln!(out, "::notice title={}::{}", prop(id), data(&summary))?;
    }
    writeln!(out, "{id}: {summary}")
}

/// The first `src/...rs:LINE` in a text.
fn location(text: &str) -> Option<(String, u32)> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?:^|[\s(`'])((?:\./)?src/[A-Za-z0-9_./-]+\.rs):(\d+)").expect("a valid regex")
    });
    let caps = re.captures(text)?;
    let file = caps[1].trim_start_matches("./").to_string();
    if file.split('/').any(|p| p == "..") {
        return None;
    }
    Some((file, caps[2].parse().ok()?))
}

/// A path as the workflow sees it: relative to the working folder (the
/// checkout) when it lies inside it.
fn shown_path(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match std::env::current_dir() {
        Ok(cwd) => abs.strip_prefix(&cwd).map(Path::to_path_buf).unwrap_or(abs),
        Err(_) => abs,
    }
}

/// A workflow command's message.
fn data(s: &str) -> String {
    s.replace('%', "%25")
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

    #[test]
    fn finds_locations() {
        assert_eq!(
            location("`unsafe` is not allowed (src/main.rs:3)"),
            Some(("src/main.rs".into(), 3))
        );
        assert_eq!(
            location("  --> src/lib.rs:12:5"),
            Some(("src/lib.rs".into(), 12))
        );
        assert_eq!(location("no place here"), None);
        assert_eq!(location("(src/../../etc/x.rs:1)"), None);
    }

    #[test]
    fn escapes_commands() {
        assert_eq!(data("50%\n::error::x"), "50%25%0A::error::x");
        assert_eq!(prop("a: b, c"), "a%3A b%2C c");
    }
}
