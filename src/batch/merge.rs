//! `grader merge OUT... --out OUT`: the outputs of several shards → the
//! reports one unsharded run writes.
//!
//! Each input's `results.json` is read back (a folder, or the file itself).
//! Shards must come from one cut of the class: the same exercises, the same
//! shard count, every shard exactly once; anything else is refused with what
//! is missing or doubled, since a merge that silently lacks a shard would
//! hand out zeros. Outputs that are not shards (say, two halves of a class
//! graded separately) merge too, as long as no submission appears twice.

use super::error::Error;
use super::{ClassResults, SCHEMA, Shard};
use crate::project::Project;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn run(
    project: &Project,
    inputs: &[PathBuf],
    out_dir: &Path,
    out: &mut impl Write,
) -> Result<u8, Error> {
    let mut parts = Vec::new();
    for input in inputs {
        let file = if input.is_dir() {
            input.join("results.json")
        } else {
            input.clone()
        };
        let text = std::fs::read_to_string(&file)
            .map_err(|e| Error::Other(format!("cannot read {}: {e}", file.display())))?;
        let part: ClassResults = serde_json::from_str(&text).map_err(|e| {
            Error::Other(format!(
                "{} is not a batch's results.json: {e}",
                file.display()
            ))
        })?;
        if part.schema != SCHEMA {
            return Err(Error::Other(format!(
                "{} has schema {}, this grader reads schema {SCHEMA}",
                file.display(),
                part.schema
            )));
        }
        parts.push((file, part));
    }
    let Some((first_file, first)) = parts.first() else {
        return Err(Error::Other("nothing to merge".into()));
    };
    for (file, p) in &parts[1..] {
        if p.exercises != first.exercises {
            return Err(Error::Other(format!(
                "{} graded other exercises than {}; merge outputs of one batch command",
                file.display(),
                first_file.display()
            )));
        }
    }
    check_shards(&parts)?;
    for (file, p) in &parts {
        if p.grader != first.grader {
            eprintln!(
                "warning: {} was written by grader {}, {} by grader {}",
                file.display(),
                p.grader,
                first_file.display(),
                first.grader
            );
        }
    }
    let mut merged = ClassResults {
        schema: SCHEMA,
        grader: first.grader.clone(),
        exercises: first.exercises.clone(),
        shard: None,
        students: Vec::new(),
        results: Vec::new(),
        skipped: Vec::new(),
    };
    let mut seen = BTreeSet::new();
    for (file, p) in parts {
        for r in &p.results {
            let key = (r.student.clone(), r.exercise.clone());
            if !seen.insert(key) {
                return Err(Error::Other(format!(
                    "{}'s {} appears in more than one input (again in {})",
                    r.student.as_deref().unwrap_or("?"),
                    r.exercise,
                    file.display()
                )));
            }
        }
        merged.students.extend(p.students);
        merged.results.extend(p.results);
        merged.skipped.extend(p.skipped);
    }
    merged.sort();
    let hints: BTreeMap<String, String> = merged
        .exercises
        .iter()
        .filter_map(|e| {
            Some((
                e.id.clone(),
                project.spec(&e.id).ok()?.hint.trim().to_string(),
            ))
        })
        .collect();
    super::write_reports(out_dir, &merged, &hints, &Default::default())?;
    writeln!(
        out,
        "merged {} inputs: {} submissions of {} students, skipped {}",
        inputs.len(),
        merged.results.len(),
        merged.students.len(),
        merged.skipped.len()
    )?;
    writeln!(out, "reports in {}", out_dir.display())?;
    Ok(0)
}

/// Shards must be all or none, of one count, each index once.
fn check_shards(parts: &[(PathBuf, ClassResults)]) -> Result<(), Error> {
    let shards: Vec<(&PathBuf, Option<Shard>)> = parts.iter().map(|(f, p)| (f, p.shard)).collect();
    if shards.iter().all(|(_, s)| s.is_none()) {
        return Ok(());
    }
    if let Some((f, _)) = shards.iter().find(|(_, s)| s.is_none()) {
        return Err(Error::Other(format!(
            "{} is a whole class, the other inputs are shards",
            f.display()
        )));
    }
    let count = shards[0].1.expect("checked above").count;
    let mut have: BTreeMap<usize, &PathBuf> = BTreeMap::new();
    for (f, s) in &shards {
        let s = s.expect("checked above");
        if s.count != count {
            return Err(Error::Other(format!(
                "{} is shard {s}, but the first input is one of {count}",
                f.display()
            )));
        }
        if let Some(other) = have.insert(s.index, f) {
            return Err(Error::Other(format!(
                "shard {s} given twice: {} and {}",
                other.display(),
                f.display()
            )));
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|k| !have.contains_key(k))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Other(format!(
            "missing shard {}",
            missing.join(", ")
        )));
    }
    Ok(())
}
