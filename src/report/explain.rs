//! What to tell a student about a failed check, whatever the page: one
//! [`Explanation`] a failure, which every writer lays out its own way (the
//! terminal, [`human`](super::human); the feedback files,
//! [`feedback`](super::feedback); the class pages, GitHub annotations,
//! JUnit failures and Gradescope tests), so all of them say the same
//! things and none words a failure of its own.
//!
//! The words themselves are [`teach`](super::teach)'s; this module picks
//! which apply: the one-line readings of a compile error, the places of the
//! student's code worth underlining (those rustc's own report does not
//! already show), which part of the lesson to reread, and whether the
//! exercise's hint fits the failure at all.

use super::{safe, teach};
use crate::checks::{Category, CheckOutcome, SourceRef};
use std::fmt::Write as _;

/// What a failed check has to say: its verdict, the course's readings of
/// the errors behind it, what the detector saw and the student's lines to
/// show. Text is as the check gave it; each page quotes it its own way.
#[derive(Debug, Clone)]
pub struct Explanation<'a> {
    /// The check's one-line verdict.
    pub verdict: &'a str,
    /// The course's one-line readings of a failed build ([`lead_ins`]).
    pub leads: Vec<String>,
    /// What the detector saw (rustc's report, the output, the
    /// interleaving), trailing blanks trimmed; may be empty.
    pub details: &'a str,
    /// The places of the student's code worth showing ([`places`]).
    pub places: Vec<SourceRef>,
}

impl<'a> Explanation<'a> {
    pub fn of(c: &'a CheckOutcome) -> Explanation<'a> {
        Explanation {
            verdict: &c.message,
            leads: lead_ins(c),
            details: c.details.trim_end(),
            places: places(c),
        }
    }

    /// The explanation as plain text, for a page with one text field (a
    /// GitHub annotation, a JUnit failure): the verdict (unless the page
    /// shows it elsewhere), each reading after `→ `, at most `max_details`
    /// characters of what the detector saw, then where, one place a line.
    /// Not escaped: the page does that.
    pub fn plain(&self, with_verdict: bool, max_details: usize) -> String {
        let mut parts: Vec<String> = Vec::new();
        if with_verdict {
            parts.push(self.verdict.to_string());
        }
        if !self.leads.is_empty() {
            let leads: Vec<String> = self.leads.iter().map(|l| format!("→ {l}")).collect();
            parts.push(leads.join("\n"));
        }
        if !self.details.trim().is_empty() {
            parts.push(self.details.chars().take(max_details).collect());
        }
        if !self.places.is_empty() {
            let mut at = String::from("Where, in your code:");
            for p in &self.places {
                let _ = write!(at, "\n  {}:{}", p.file, p.line);
                if !p.label.trim().is_empty() {
                    let _ = write!(at, ": {}", p.label.trim());
                }
            }
            parts.push(at);
        }
        parts.join("\n\n")
    }
}

/// The course's one-line readings of the errors in a failed build. A
/// reading may quote a name from rustc's report, so control characters in
/// it are shown escaped ([`safe`]).
pub fn lead_ins(c: &CheckOutcome) -> Vec<String> {
    match c.category {
        Some(Category::CompileError) => teach::compile_lead_ins(&c.details)
            .into_iter()
            .map(|l| safe::one_line(&l).into_owned())
            .collect(),
        _ => Vec::new(),
    }
}

/// The places of `c` worth underlining: rustc's report already shows its
/// own lines, so those are left out.
pub fn places(c: &CheckOutcome) -> Vec<SourceRef> {
    c.locations
        .iter()
        .filter(|l| !c.details.contains(&format!("--> {}:{}:", l.file, l.line)))
        .cloned()
        .collect()
}

/// Whether the exercise's hint fits these failures. A hint is about the
/// exercise's concurrency (join the threads, lock the counter); a program
/// that did not build, or used what the course forbids, never got that
/// far, and the hint would send the student the wrong way.
pub fn hint_applies(categories: &[Category]) -> bool {
    categories
        .iter()
        .any(|c| !matches!(c, Category::CompileError | Category::Forbidden))
}

/// "Reread …": the lesson part that `category` is about and the README
/// that teaches it. `own` is the exercise (id, lesson part); `course`
/// every exercise of the course.
pub fn reread<'a>(
    own: (&str, &str),
    course: impl IntoIterator<Item = (&'a str, &'a str)>,
    category: Category,
) -> String {
    let (id, lesson) = own;
    let own_readme = || format!("Reread: the task, in exercises/{id}/README.md");
    let Some(part) = teach::lesson(category).part else {
        return own_readme();
    };
    let teaches = |lesson: &str| lesson.to_lowercase().contains(part);
    let named = capitalized(part);
    if teaches(lesson) {
        return format!("Reread: \"{named}\", in exercises/{id}/README.md");
    }
    match course.into_iter().find(|(_, l)| teaches(l)) {
        Some((other, _)) => format!("Reread: \"{named}\", in exercises/{other}/README.md"),
        None => format!("Reread the lesson part \"{named}\"."),
    }
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(f) => f.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_text_has_every_part_once() {
        let rustc = "error[E0373]: closure may outlive the current function, but it borrows \
                     `i`, which is owned by the current function\n --> src/main.rs:2:5\n";
        let c = CheckOutcome::fail("build", 0, Category::CompileError, "does not compile")
            .with_details(rustc)
            .at("src/main.rs", 2, "")
            .at("src/lib.rs", 4, "the lock is taken here");
        let e = Explanation::of(&c);
        // rustc's report shows src/main.rs:2 already.
        assert_eq!(e.places.len(), 1);
        let text = e.plain(true, 4000);
        assert!(text.starts_with("does not compile\n\n→ "), "{text}");
        assert!(text.contains("add `move`"), "{text}");
        assert!(text.contains(rustc.trim_end()), "{text}");
        assert!(
            text.ends_with("Where, in your code:\n  src/lib.rs:4: the lock is taken here"),
            "{text}"
        );
        assert!(!e.plain(false, 10).contains("does not compile"));
        assert!(!e.plain(false, 10).contains("--> src/main.rs"));
        let bare = CheckOutcome::fail("output", 5, Category::WrongAnswer, "wrong");
        assert_eq!(Explanation::of(&bare).plain(true, 10), "wrong");
    }

    #[test]
    fn a_build_failure_gets_no_exercise_hint() {
        assert!(!hint_applies(&[Category::CompileError]));
        assert!(!hint_applies(&[Category::Forbidden]));
        assert!(hint_applies(&[Category::EarlyExit]));
        assert!(hint_applies(&[
            Category::CompileError,
            Category::WrongAnswer
        ]));
    }
}
