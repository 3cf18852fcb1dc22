//! `grades.csv`: one row a student, one column an exercise, then the total.
//!
//! A cell is the exercise's score; it is empty when the student handed in no
//! submission for it or the grader could not grade it (`results.json` says
//! which). RFC 4180 quoting, and a cell that a spreadsheet would read as a
//! formula (`=`, `+`, `-`, `@`) is prefixed with `'`: student names come
//! from file names that students may choose.

use crate::batch::ClassResults;
use crate::grade::ResultStatus;
use std::io::{self, Write};

pub fn write(out: &mut impl Write, class: &ClassResults) -> io::Result<()> {
    let mut header = vec!["student".to_string()];
    header.extend(class.exercises.iter().map(|e| e.id.clone()));
    header.push("total".into());
    row(out, &header)?;
    for student in &class.students {
        let mut cells = vec![student.clone()];
        for e in &class.exercises {
            cells.push(match class.get(student, &e.id) {
                Some(r) if r.status != ResultStatus::Error => r.score.to_string(),
                _ => String::new(),
            });
        }
        cells.push(class.total(student).to_string());
        row(out, &cells)?;
    }
    Ok(())
}

fn row(out: &mut impl Write, cells: &[String]) -> io::Result<()> {
    let line: Vec<String> = cells.iter().map(|c| cell(c)).collect();
    write!(out, "{}\r\n", line.join(","))
}

fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_defused() {
        assert_eq!(cell("alice"), "alice");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
    }
}
