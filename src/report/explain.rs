//! What to tell a student about a failed check, whatever the page: the
//! terminal ([`human`](super::human)) and the feedback files
//! ([`feedback`](super::feedback)) both take their explanation from here,
//! so the two say the same things.
//!
//! The words themselves are [`teach`](super::teach)'s; this module picks
//! which apply: the one-line readings of a compile error, the places of the
//! student's code worth underlining (those rustc's own report does not
//! already show), which part of the lesson to reread, and whether the
//! exercise's hint fits the failure at all.

use super::teach;
use crate::checks::{Category, CheckOutcome, SourceRef};

/// The course's one-line readings of the errors in a failed build.
pub fn lead_ins(c: &CheckOutcome) -> Vec<String> {
    match c.category {
        Some(Category::CompileError) => teach::compile_lead_ins(&c.details),
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
