//! `grades.csv` and `gradebook.csv`: the class's scores for a spreadsheet
//! and for an LMS gradebook import. Written with the `csv` crate.
//!
//! `grades.csv` is one row a student (their submission folder's name, then
//! the roster's identity columns when `--roster` gives them), one column an
//! exercise, then the total. A cell is the exercise's score; it is empty
//! when the student handed in no submission for it or the grader could not
//! grade it (`results.json` says which).
//!
//! `gradebook.csv` (`--gradebook`) is the layout an importer expects:
//!
//! - `canvas`: Canvas's gradebook columns `Student, ID, SIS User ID, SIS
//!   Login ID, Section`, then one column an exercise, and a second row
//!   `Points Possible` with each exercise's maximum. No total: Canvas would
//!   make every unknown column a new assignment.
//! - `moodle`: the roster's `email`, `idnumber` and/or `username` columns
//!   (those Moodle's CSV grade import maps users by), then one column an
//!   exercise; no total for the same reason.
//!
//! Students missing from the roster cannot be imported and are left out of
//! `gradebook.csv`, and named by the batch.
//!
//! Identifiers (folder names, roster values) are written exactly as they
//! are, since an importer matches them character for character; only
//! display text (Canvas's `Student` name) that a spreadsheet would read as
//! a formula (`=`, `+`, `-`, `@`) gets a leading `'`.

use crate::batch::ClassResults;
use crate::grade::ResultStatus;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

/// The LMS layouts of `gradebook.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Gradebook {
    Canvas,
    Moodle,
}

/// `--roster FILE`: submission folder name → the student's identity in
/// the LMS. A CSV file with a header; the column `folder` names the
/// submission folder, every other column is an identity column.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub columns: Vec<String>,
    pub rows: BTreeMap<String, Vec<String>>,
}

const CANVAS: [&str; 5] = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"];
const MOODLE: [&str; 3] = ["email", "idnumber", "username"];

impl Roster {
    pub fn read(path: &Path) -> Result<Roster, String> {
        let fail = |e: &dyn std::fmt::Display| format!("roster {}: {e}", path.display());
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::Headers)
            .from_path(path)
            .map_err(|e| fail(&e))?;
        let headers: Vec<String> = reader
            .headers()
            .map_err(|e| fail(&e))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        let Some(key) = headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case("folder"))
        else {
            return Err(fail(
                &"no `folder` column (the submission folder of each student)",
            ));
        };
        let mut roster = Roster {
            columns: headers
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != key)
                .map(|(_, h)| h.clone())
                .collect(),
            rows: BTreeMap::new(),
        };
        for (n, record) in reader.records().enumerate() {
            let record = record.map_err(|e| fail(&e))?;
            let folder = record.get(key).unwrap_or("").to_string();
            if folder.is_empty() {
                continue;
            }
            let values = (0..headers.len())
                .filter(|i| *i != key)
                .map(|i| record.get(i).unwrap_or("").to_string())
                .collect();
            if roster.rows.insert(folder.clone(), values).is_some() {
                return Err(fail(&format!(
                    "folder `{folder}` appears twice (row {})",
                    n + 2
                )));
            }
        }
        Ok(roster)
    }

    /// The value of `column` (case-insensitive) for `folder`.
    fn get(&self, folder: &str, column: &str) -> Option<&str> {
        let i = self
            .columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(column))?;
        Some(self.rows.get(folder)?[i].as_str())
    }

    fn has(&self, column: &str) -> bool {
        self.columns.iter().any(|c| c.eq_ignore_ascii_case(column))
    }

    /// Whether `layout` can be written from this roster, or why not.
    pub fn check(&self, layout: Gradebook) -> Result<(), String> {
        let (needed, names): (&[&str], &str) = match layout {
            Gradebook::Canvas => (&CANVAS[1..4], "ID, SIS User ID or SIS Login ID"),
            Gradebook::Moodle => (&MOODLE, "email, idnumber or username"),
        };
        if needed.iter().any(|c| self.has(c)) {
            Ok(())
        } else {
            Err(format!(
                "--gradebook needs a roster column the importer matches students by: {names}"
            ))
        }
    }
}

fn score(class: &ClassResults, student: &str, exercise: &str) -> String {
    match class.get(student, exercise) {
        Some(r) if r.status != ResultStatus::Error => r.score.to_string(),
        _ => String::new(),
    }
}

/// `grades.csv`.
pub fn write(
    out: &mut impl Write,
    class: &ClassResults,
    roster: Option<&Roster>,
) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    let mut header = vec!["student".to_string()];
    if let Some(r) = roster {
        header.extend(r.columns.iter().cloned());
    }
    header.extend(class.exercises.iter().map(|e| e.id.clone()));
    header.push("total".into());
    w.write_record(&header)?;
    for student in &class.students {
        let mut cells = vec![student.clone()];
        if let Some(r) = roster {
            match r.rows.get(student) {
                Some(values) => cells.extend(
                    r.columns
                        .iter()
                        .zip(values)
                        .map(|(c, v)| if is_display(c) { defused(v) } else { v.clone() }),
                ),
                None => cells.extend(r.columns.iter().map(|_| String::new())),
            }
        }
        for e in &class.exercises {
            cells.push(score(class, student, &e.id));
        }
        cells.push(class.total(student).to_string());
        w.write_record(&cells)?;
    }
    w.flush()
}

/// `gradebook.csv` in `layout`; returns the students left out because the
/// roster does not know them.
pub fn write_gradebook(
    out: &mut impl Write,
    class: &ClassResults,
    roster: &Roster,
    layout: Gradebook,
) -> io::Result<Vec<String>> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    let identity: Vec<&str> = match layout {
        Gradebook::Canvas => CANVAS.to_vec(),
        Gradebook::Moodle => MOODLE.iter().copied().filter(|c| roster.has(c)).collect(),
    };
    let mut header: Vec<String> = identity.iter().map(|s| s.to_string()).collect();
    header.extend(class.exercises.iter().map(|e| e.id.clone()));
    w.write_record(&header)?;
    if layout == Gradebook::Canvas {
        let mut row: Vec<String> = vec!["    Points Possible".into()];
        row.extend((1..identity.len()).map(|_| String::new()));
        row.extend(class.exercises.iter().map(|e| e.max_score.to_string()));
        w.write_record(&row)?;
    }
    let mut unknown = Vec::new();
    for student in &class.students {
        if !roster.rows.contains_key(student) {
            unknown.push(student.clone());
            continue;
        }
        let mut cells: Vec<String> = identity
            .iter()
            .map(|c| {
                let v = roster.get(student, c).unwrap_or("");
                // The display name is not matched on; identifiers are.
                if *c == "Student" {
                    defused(v)
                } else {
                    v.to_string()
                }
            })
            .collect();
        for e in &class.exercises {
            cells.push(score(class, student, &e.id));
        }
        w.write_record(&cells)?;
    }
    w.flush()?;
    Ok(unknown)
}

/// Whether a roster column is a display name, which no importer matches on.
fn is_display(column: &str) -> bool {
    ["Student", "First name", "Last name", "name"]
        .iter()
        .any(|c| c.eq_ignore_ascii_case(column))
}

/// Display text a spreadsheet would read as a formula, made plain text.
fn defused(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_roster_maps_folders_and_keeps_identifiers_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.csv");
        std::fs::write(
            &path,
            "\u{feff}Student,ID,SIS User ID,SIS Login ID,Section,folder\n\
             \"=Lee, Ann\",101,-7,ann@u.edu,A,ann\n",
        )
        .unwrap();
        let roster = Roster::read(&path).unwrap();
        assert_eq!(roster.get("ann", "SIS User ID"), Some("-7"));
        assert!(roster.check(Gradebook::Canvas).is_ok());
        assert!(roster.check(Gradebook::Moodle).is_err());
        assert_eq!(defused("=Lee, Ann"), "'=Lee, Ann");
    }
}
