//! The course at a glance, for `grader list` and the list view of `watch`:
//! one row an exercise (status, the category of its last failure, its
//! lesson part), then a progress bar and what to do next.

use super::Style;
use crate::progress::{self, ExerciseStatus, Row};
use std::io::{self, Write};

/// Characters of the progress bar between its brackets.
const BAR: usize = 20;

pub fn write(out: &mut impl Write, rows: &[Row], style: Style) -> io::Result<()> {
    let id_width = rows
        .iter()
        .map(|r| r.spec.id.len())
        .max()
        .unwrap_or(0)
        .max("exercise".len());
    let fail_width = rows
        .iter()
        .filter_map(|r| r.last_failure.as_ref().map(String::len))
        .max()
        .unwrap_or(0)
        .max("last failure".len());
    writeln!(
        out,
        "   {:<id_width$}  {:<11}  {:<fail_width$}  lesson part",
        "exercise", "status", "last failure"
    )?;
    for row in rows {
        let (mark, paint): (&str, fn(&Style, &str) -> String) = match row.status {
            ExerciseStatus::Passed => ("✓", Style::green),
            ExerciseStatus::Failing(_) => ("✗", Style::red),
            ExerciseStatus::Changed => ("~", Style::yellow),
            ExerciseStatus::NotChecked => (" ", |_, s| s.to_string()),
            ExerciseStatus::Missing => ("?", Style::yellow),
        };
        let failure = row.last_failure.as_deref().unwrap_or("");
        writeln!(
            out,
            " {} {:<id_width$}  {}  {}  {}",
            paint(&style, mark),
            row.spec.id,
            paint(&style, &format!("{:<11}", row.status.label())),
            style.red(&format!("{failure:<fail_width$}")),
            row.spec.lesson
        )?;
    }
    let done = rows.iter().filter(|r| r.status.is_done()).count();
    writeln!(out)?;
    writeln!(
        out,
        "{} {done}/{} exercises done",
        bar(done, rows.len(), style),
        rows.len()
    )?;
    match progress::next_not_done(rows, 0) {
        Some(i) => writeln!(
            out,
            "next: {}  (`grader watch`, or `grader check {}`)",
            style.bold(&rows[i].spec.id),
            rows[i].spec.id
        )?,
        None if !rows.is_empty() => {
            writeln!(out, "{}", style.green("Every exercise passes. Well done!"))?
        }
        None => {}
    }
    Ok(())
}

/// `[#####---------------]`: `done` of `total`, rounded down so the bar
/// is full only when everything is.
pub fn bar(done: usize, total: usize, style: Style) -> String {
    let filled = (done * BAR).checked_div(total).unwrap_or(0);
    format!(
        "[{}{}]",
        style.green(&"#".repeat(filled)),
        "-".repeat(BAR - filled)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_is_full_only_when_all_is_done() {
        let s = Style { color: false };
        assert_eq!(bar(0, 8, s), format!("[{}]", "-".repeat(20)));
        assert_eq!(
            bar(3, 8, s),
            format!("[{}{}]", "#".repeat(7), "-".repeat(13))
        );
        assert_eq!(
            bar(7, 8, s),
            format!("[{}{}]", "#".repeat(17), "-".repeat(3))
        );
        assert_eq!(bar(8, 8, s), format!("[{}]", "#".repeat(20)));
        assert_eq!(bar(0, 0, s), format!("[{}]", "-".repeat(20)));
    }
}
