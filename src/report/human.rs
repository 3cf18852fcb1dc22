//! Human output for one graded submission: one line a check; then, for each
//! failure, what the detector saw (its details) and where in the student's
//! own code (their lines, underlined); then, once for each category that
//! failed, what it means, what to do instead, and which part of the lesson
//! to reread.
//!
//! The words come from [`teach`](super::teach), the underlined lines from
//! [`snippet`](super::snippet); this module only lays them out, wrapped by
//! textwrap to the terminal's width (80 columns on a pipe or in a file, so
//! those get the same bytes everywhere). It reads the submission's files
//! for the snippets and nothing else.

use super::{Style, explain, safe, snippet, teach};
use crate::checks::{Category, CheckOutcome, Status};
use crate::grade::{GradeResult, ResultStatus};
use crate::spec::ExerciseSpec;
use std::io::{self, Write};
use std::path::Path;

/// Text width of the explanations (their indent included) when stdout is
/// not a terminal.
const WIDTH: usize = 80;

/// The width to wrap at: the terminal's when stdout is one, else [`WIDTH`].
fn width() -> usize {
    console::Term::stdout()
        .size_checked()
        .map_or(WIDTH, |(_, columns)| usize::from(columns))
}

/// What the report is about, besides the result.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    pub spec: &'a ExerciseSpec,
    /// The graded folder: the snippets are read from its files.
    pub submission: &'a Path,
    /// Every exercise of the course (may be empty), to point at the README
    /// that teaches a lesson part.
    pub course: &'a [ExerciseSpec],
}

pub fn write(
    out: &mut impl Write,
    page: &Page,
    result: &GradeResult,
    style: Style,
) -> io::Result<()> {
    write_at(out, page, result, style, width())
}

/// [`write`], with explanations wrapped at `width` columns.
fn write_at(
    out: &mut impl Write,
    page: &Page,
    result: &GradeResult,
    style: Style,
    width: usize,
) -> io::Result<()> {
    writeln!(
        out,
        "{} {}",
        style.bold(&result.exercise),
        style.dim(&format!("— {}", page.spec.lesson))
    )?;
    let name_width = result
        .checks
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    for c in &result.checks {
        let mark = match c.status {
            Status::Pass => style.green("✓"),
            Status::Fail => style.red("✗"),
            Status::Skip => style.yellow("-"),
        };
        let points = if c.max_points > 0 {
            format!("{:>2}/{:<2}", c.points, c.max_points)
        } else {
            "     ".to_string()
        };
        let category = match c.category {
            Some(cat) => format!("{} ", style.red(&format!("[{cat}]"))),
            None => String::new(),
        };
        writeln!(
            out,
            "  {mark} {:<name_width$}  {points}  {category}{}",
            c.name,
            safe::one_line(&c.message)
        )?;
    }
    let failed: Vec<&CheckOutcome> = result
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .collect();
    for c in &failed {
        failure(out, page, c, style, width)?;
    }
    // The lessons last, once a category, after everything they explain.
    let mut explained: Vec<Category> = Vec::new();
    for category in failed.iter().filter_map(|c| c.category) {
        if !explained.contains(&category) {
            explained.push(category);
            writeln!(out)?;
            lesson(out, page, category, style, width)?;
        }
    }
    writeln!(out)?;
    let verdict = match result.status {
        ResultStatus::Pass => style.green("PASS"),
        ResultStatus::Fail => style.red("FAIL"),
        ResultStatus::Error => style.yellow("ERROR"),
    };
    write!(
        out,
        "{verdict}  score {}/{}",
        result.score, result.max_score
    )?;
    if !result.categories.is_empty() {
        let cats: Vec<String> = result.categories.iter().map(|c| c.to_string()).collect();
        write!(out, "  ({})", cats.join(", "))?;
    }
    writeln!(out)?;
    if result.status == ResultStatus::Fail && explain::hint_applies(&result.categories) {
        writeln!(
            out,
            "{}",
            style.dim(&format!(
                "stuck? `grader hint {}` gives a hint",
                result.exercise
            ))
        )?;
    }
    Ok(())
}

/// One failed check's [`Explanation`](explain::Explanation): lead-ins,
/// details, the student's lines; nothing at all when there is nothing to
/// add to its line above.
fn failure(
    out: &mut impl Write,
    page: &Page,
    c: &CheckOutcome,
    style: Style,
    width: usize,
) -> io::Result<()> {
    let explanation = explain::Explanation::of(c);
    let snippet = snippet::render(page.submission, &explanation.places, style.color);
    let details = safe::text(explanation.details);
    if explanation.leads.is_empty() && details.trim().is_empty() && snippet.is_empty() {
        return Ok(());
    }
    let cat = c.category.map(|c| c.to_string()).unwrap_or_default();
    writeln!(out)?;
    writeln!(
        out,
        "{} {}",
        style.red(&format!("✗ {}", c.name)),
        style.dim(&format!("({cat})"))
    )?;
    for lead in &explanation.leads {
        for line in wrap(lead, "  → ", "    ", width) {
            writeln!(out, "{}", style.bold(&line))?;
        }
    }
    for line in details.lines() {
        writeln!(out, "  {line}")?;
    }
    if !snippet.is_empty() {
        if !details.trim().is_empty() {
            writeln!(out)?;
        }
        for line in snippet.lines() {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

/// What a category means, what to do instead, what to reread.
fn lesson(
    out: &mut impl Write,
    page: &Page,
    category: Category,
    style: Style,
    width: usize,
) -> io::Result<()> {
    let lesson = teach::lesson(category);
    writeln!(out, "{}", style.red(&format!("[{category}]")))?;
    for (head, text) in [
        ("What happened: ", lesson.means),
        ("What to do: ", lesson.instead),
    ] {
        let first = format!("  {}", style.bold(head));
        let rest = wrap(text, &format!("  {head}"), "  ", width);
        for (i, line) in rest.iter().enumerate() {
            if i == 0 {
                // Bold only the heading: re-split the line after it.
                writeln!(out, "{first}{}", &line[2 + head.len()..])?;
            } else {
                writeln!(out, "{line}")?;
            }
        }
    }
    let reread = explain::reread(
        (&page.spec.id, &page.spec.lesson),
        page.course
            .iter()
            .map(|s| (s.id.as_str(), s.lesson.as_str())),
        category,
    );
    writeln!(out, "  {}", style.dim(&reread))
}

/// Word-wraps `text` to `width` columns: the first line starts with
/// `first`, the others with `rest`. Words stay whole (a longer one gets a
/// line of its own) and are placed greedily, runs of blanks count as one.
fn wrap(text: &str, first: &str, rest: &str, width: usize) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let options = textwrap::Options::new(width)
        .initial_indent(first)
        .subsequent_indent(rest)
        .break_words(false)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit);
    textwrap::wrap(&words.join(" "), options)
        .into_iter()
        .map(|line| line.into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckOutcome;
    use std::time::Duration;

    fn spec(id: &str, lesson: &str) -> ExerciseSpec {
        let text = format!(
            "format_version = 1\ntitle = \"t\"\nlesson = \"{lesson}\"\nkind = \"bin\"\nhint = \"h\"\n\
             [[check]]\nkind = \"output\"\nname = \"output\"\npoints = 10\n\
             rules = [{{ rule = \"last\", line = \"x\" }}]\n"
        );
        let mut s = ExerciseSpec::parse(&text, Path::new("spec.toml")).unwrap();
        s.id = id.into();
        s
    }

    fn course() -> Vec<ExerciseSpec> {
        vec![
            spec(
                "02-hello-thread",
                "Creating a goroutine; why sleep is not a good solution",
            ),
            spec(
                "04-early-exit",
                "Mistake: the program exits before its goroutines complete",
            ),
            spec(
                "05-shared-counter",
                "Mistake: accessing shared data without synchronization",
            ),
            spec(
                "07-bank-transfer",
                "Best practice: synchronization primitives when required",
            ),
        ]
    }

    /// A submission with these files.
    fn submission(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = d.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        d
    }

    fn render(id: &str, sub: &Path, checks: Vec<CheckOutcome>) -> String {
        let course = course();
        let spec = course.iter().find(|s| s.id == id).unwrap();
        let result = GradeResult::from_checks(id, checks, Duration::from_millis(5));
        let page = Page {
            spec,
            submission: sub,
            course: &course,
        };
        let mut out = Vec::new();
        write_at(&mut out, &page, &result, Style { color: false }, WIDTH).unwrap();
        String::from_utf8(out).unwrap()
    }

    const SLEEPY: &str = "use std::thread;\nuse std::time::Duration;\n\nfn main() {\n    \
                          thread::spawn(|| println!(\"Hello from thread\"));\n    \
                          println!(\"Hello from main\");\n    \
                          thread::sleep(Duration::from_millis(100));\n    \
                          println!(\"Main function finished\");\n}\n";

    #[test]
    fn a_sleep_reliance_points_at_the_sleep_and_at_the_lesson() {
        let sub = submission(&[("src/main.rs", SLEEPY)]);
        let out = render(
            "02-hello-thread",
            sub.path(),
            vec![
                CheckOutcome::pass("build", 0, "compiled"),
                CheckOutcome::fail(
                    "timing",
                    5,
                    Category::SleepReliance,
                    "right at normal timing, wrong when the thread started 200 ms late",
                )
                .with_details("with the thread delayed, the program printed:\n  Hello from main\n  Main function finished")
                .at("src/main.rs", 7, "main sleeps here instead of joining the thread"),
            ],
        );
        insta::assert_snapshot!(out);
    }

    #[test]
    fn a_lost_update_underlines_both_reads() {
        let lib = "use std::sync::Arc;\nuse std::sync::atomic::{AtomicUsize, Ordering};\n\n\
                   pub fn bump(n: &Arc<AtomicUsize>) {\n    let v = n.load(Ordering::SeqCst);\n    \
                   n.store(v + 1, Ordering::SeqCst);\n}\n";
        let sub = submission(&[("src/lib.rs", lib)]);
        let out = render(
            "05-shared-counter",
            sub.path(),
            vec![
                CheckOutcome::fail("model", 10, Category::DataRace, "an update can be lost")
                    .with_details(
                        "thread 1 reads 0\nthread 2 reads 0\nthread 1 writes 1\nthread 2 writes 1",
                    )
                    .at("src/lib.rs", 5, "thread 1 reads 0 here")
                    .at(
                        "src/lib.rs",
                        5,
                        "thread 2 reads 0 here, before thread 1 writes",
                    ),
            ],
        );
        insta::assert_snapshot!(out);
    }

    #[test]
    fn a_deadlock_underlines_the_locks_in_each_file() {
        let lib = "use std::sync::Mutex;\n\npub struct Bank { pub a: Vec<Mutex<u64>> }\n\n\
                   impl Bank {\n    pub fn transfer(&self, from: usize, to: usize) {\n        \
                   let f = self.a[from].lock().unwrap();\n        \
                   let t = self.a[to].lock().unwrap();\n        drop((f, t));\n    }\n}\n";
        let sub = submission(&[("src/lib.rs", lib), ("src/main.rs", "fn main() {}\n")]);
        let out = render(
            "07-bank-transfer",
            sub.path(),
            vec![
                CheckOutcome::fail(
                    "model",
                    10,
                    Category::Deadlock,
                    "two transfers in opposite directions wait for each other forever",
                )
                .at("src/lib.rs", 7, "thread 1 holds account 0's lock")
                .at(
                    "src/lib.rs",
                    8,
                    "and waits here for account 1's, which thread 2 holds",
                ),
            ],
        );
        insta::assert_snapshot!(out);
    }

    #[test]
    fn each_category_is_explained_once_and_rustcs_own_lines_are_not_repeated() {
        let sub = submission(&[("src/main.rs", "fn main() {\n    let x: i32 = \"a\";\n}\n")]);
        let rustc = "error[E0308]: mismatched types\n --> src/main.rs:2:18\n  |\n2 |     let x: i32 = \"a\";\n";
        let out = render(
            "02-hello-thread",
            sub.path(),
            vec![
                CheckOutcome::fail("build", 0, Category::CompileError, "does not compile")
                    .with_details(rustc)
                    .at("src/main.rs", 2, "mismatched types"),
                CheckOutcome::fail("again", 0, Category::CompileError, "does not compile"),
            ],
        );
        assert_eq!(out.matches("What happened:").count(), 1, "{out}");
        assert_eq!(out.matches("let x: i32").count(), 1, "{out}");
    }

    #[test]
    fn a_lesson_part_no_exercise_teaches_is_named_alone() {
        let sub = submission(&[]);
        let out = render(
            "02-hello-thread",
            sub.path(),
            vec![CheckOutcome::fail(
                "output",
                10,
                Category::Timeout,
                "ran too long",
            )],
        );
        assert!(
            out.contains("Reread the lesson part \"The main function and blocking\"."),
            "{out}"
        );
    }

    #[test]
    fn wrapping_keeps_words_whole_and_lines_short() {
        let text = "word ".repeat(60);
        let lines = wrap(&text, "  head: ", "  ", WIDTH);
        assert!(lines.len() > 3);
        assert!(
            lines.iter().all(|l| l.chars().count() <= WIDTH),
            "{lines:?}"
        );
        assert!(lines[0].starts_with("  head: word"));
        assert!(lines[1].starts_with("  word"));
    }
}
