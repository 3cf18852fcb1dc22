//! `grader handin DIR`: one student's whole hand-in graded in one call,
//! for the places that grade one student at a time (a Gradescope
//! `run_autograder`, a GitHub Classroom workflow in the student's
//! repository).
//!
//! The hand-in is found as `batch` finds one student's folder (a clone of
//! the course, a folder per exercise, one wrapping folder, an archive),
//! and also as a bare crate when exactly one exercise is asked for. The
//! exercises expected are those of `--exercise`, else every exercise of
//! the course; an expected exercise that is not in the upload is reported
//! as not handed in (0 points), never dropped. Every format writes one
//! document for the whole hand-in.

use super::error::Error;
use super::{ClassResults, ExerciseInfo, SCHEMA, discover};
use crate::cli::Format;
use crate::grade::{GradeResult, Grader, ResultStatus};
use crate::report::{self, Style};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Options {
    pub dir: PathBuf,
    pub exercises: Vec<String>,
    pub format: Format,
    pub jobs: Option<usize>,
}

/// The crate of exercise `id` in an upload at `dir`: `dir` itself when it
/// is a crate, else `exercises/<id>` or `<id>` in it or in the one folder
/// wrapping it. `dir` unchanged when none is (intake then says why).
pub fn crate_of(dir: &Path, id: &str) -> PathBuf {
    if let Some((krate, _)) = discover::crate_root(dir) {
        return krate;
    }
    let mut bases = vec![dir.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(dir) {
        let folders: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| e.path())
            .collect();
        if let [only] = folders.as_slice()
            && only.is_dir()
        {
            bases.push(only.clone());
        }
    }
    bases
        .iter()
        .flat_map(|b| [b.join("exercises").join(id), b.join(id), b.clone()])
        .find_map(|d| discover::crate_root(&d).filter(|(_, w)| w.is_none()))
        .map(|(k, _)| k)
        .unwrap_or_else(|| dir.to_path_buf())
}

/// `grader handin`.
pub fn run(
    grader: &Grader,
    opts: &Options,
    out: &mut impl Write,
    style: Style,
) -> Result<u8, Error> {
    let project = &grader.project;
    let ids = project.exercise_ids()?;
    for id in &opts.exercises {
        if !ids.contains(id) {
            return Err(Error::Other(format!(
                "unknown exercise `{id}`; the exercises are: {}",
                ids.join(", ")
            )));
        }
    }
    if !opts.dir.exists() {
        return Err(Error::Other(format!(
            "{} does not exist",
            opts.dir.display()
        )));
    }
    let expected: Vec<String> = if opts.exercises.is_empty() {
        ids.clone()
    } else {
        ids.iter()
            .filter(|i| opts.exercises.contains(i))
            .cloned()
            .collect()
    };
    let mut specs = Vec::new();
    for id in &expected {
        specs.push(project.spec(id)?);
    }
    let student = opts
        .dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "submission".into());
    let scratch = grader.cache.join("scratch");
    std::fs::create_dir_all(&scratch)?;
    let found = discover::hand_in(
        &opts.dir,
        &student,
        &discover::Options {
            ids: &ids,
            selected: &expected,
            shard: None,
            scratch: &scratch,
            course_folders: super::course_folders(project),
            exclude: Vec::new(),
        },
    )
    .map_err(|e| Error::Other(format!("cannot read {}: {e}", opts.dir.display())))?;

    let jobs = opts.jobs.unwrap_or_else(crate::pool::default_jobs).max(1);
    let mut results: Vec<Option<GradeResult>> = vec![None; found.found.len()];
    let grade_one = |f: &discover::Found| {
        let spec = specs
            .iter()
            .find(|s| s.id == f.exercise)
            .expect("only expected exercises are found");
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| grader.grade(spec, &f.dir)))
        {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => GradeResult::error(&spec.id, e.to_string()),
            Err(_) => GradeResult::error(&spec.id, "the grader panicked".into()),
        }
    };
    crate::pool::run(&found.found, jobs, grade_one, |i, mut r| {
        r.student = Some(student.clone());
        results[i] = Some(r);
        Ok(())
    })?;
    let mut results: Vec<GradeResult> = results.into_iter().flatten().collect();
    results.sort_by(|a, b| a.exercise.cmp(&b.exercise));
    let of = |id: &str| results.iter().find(|r| r.exercise == id);
    let notes: Vec<String> = found
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.path, s.reason))
        .collect();
    let score: u32 = results.iter().map(|r| r.score).sum();
    let max: u32 = specs.iter().map(|s| s.max_score()).sum();

    match opts.format {
        Format::Human => {
            for (spec, f) in specs.iter().zip(&expected) {
                match of(f) {
                    Some(r) => {
                        let dir = &found
                            .found
                            .iter()
                            .find(|x| x.exercise == *f)
                            .expect("a result has a submission")
                            .dir;
                        let page = report::human::Page {
                            spec,
                            submission: dir,
                            course: &specs,
                        };
                        report::human::write(out, &page, r, style)?;
                    }
                    None => writeln!(
                        out,
                        "{} {}",
                        style.bold(f),
                        style.yellow(&format!("not handed in (0/{})", spec.max_score()))
                    )?,
                }
                writeln!(out)?;
            }
            for n in &notes {
                writeln!(out, "skipped {}", report::safe::one_line(n))?;
            }
            writeln!(out, "{}", style.bold(&format!("Total: {score}/{max}")))?;
        }
        Format::Json => {
            let class = ClassResults {
                schema: SCHEMA,
                grader: env!("CARGO_PKG_VERSION").to_string(),
                exercises: specs.iter().map(ExerciseInfo::of).collect(),
                shard: None,
                students: vec![student.clone()],
                results: results.clone(),
                skipped: found.skipped.clone(),
            };
            serde_json::to_writer_pretty(&mut *out, &class).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        Format::Junit => {
            let infos: Vec<ExerciseInfo> = specs.iter().map(ExerciseInfo::of).collect();
            let ungradable = results.is_empty().then(|| {
                if notes.is_empty() {
                    "no exercise was found in the upload".to_string()
                } else {
                    format!("no exercise was found in the upload ({})", notes.join("; "))
                }
            });
            report::junit::write_handin(out, &student, &infos, &results, ungradable)?;
        }
        Format::Github => {
            let root = report::github::repo_root(&opts.dir, &project.root);
            for f in &found.found {
                if let Some(r) = of(&f.exercise) {
                    report::github::annotate(out, r, &f.dir, &root)?;
                }
            }
            for id in expected.iter().filter(|id| of(id).is_none()) {
                writeln!(
                    out,
                    "::error title={id}%3A not handed in::no submission of {id} was found"
                )?;
            }
            for n in &notes {
                report::github::warning(out, "not graded", n)?;
            }
            report::github::points(out, score, max)?;
        }
        Format::Gradescope => {
            let entries: Vec<report::gradescope::Entry> = specs
                .iter()
                .map(|s| report::gradescope::Entry {
                    spec: s,
                    result: of(&s.id),
                })
                .collect();
            report::gradescope::write(out, &entries, &notes)?;
        }
    }
    Ok(if results.iter().any(|r| r.status == ResultStatus::Error) {
        2
    } else if results.len() == expected.len()
        && results.iter().all(|r| r.status == ResultStatus::Pass)
    {
        0
    } else {
        1
    })
}
