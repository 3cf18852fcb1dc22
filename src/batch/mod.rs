//! `grader batch`, `grader merge` and `grader pack`: a whole class at once.
//!
//! The pipeline of a batch: [`discover`] the class folder (every layout of
//! SPEC §4, archives unpacked safely, a skip list with reasons) → cut one
//! [`Shard`] if asked → look each submission up in the result [`store`]
//! (keyed by its sources, its exercise's grader folder and the grader
//! binary) → grade what is missing on the shared worker pool, storing each
//! result the moment it is known → write the class reports into `OUT`.
//!
//! A grader fault on one submission (a spec that does not load, an internal
//! error, even a panic) gives that submission `status: error` and the batch
//! goes on; the exit status is then 1. A fault that stops the batch itself
//! (unreadable class folder, unwritable `OUT`) is an `Err`, exit status 2.
//! Results never depend on the order of grading or on the cut into shards:
//! they are sorted by student and exercise, so `merge` of the shards' outputs
//! writes the same reports as one run.

pub mod archive;
mod discover;
mod error;
pub mod handin;
pub mod merge;
mod meter;
pub mod pack;
pub mod shard;
mod store;

pub use discover::Skipped;
pub use error::Error;
pub use shard::Shard;

use crate::grade::{GradeResult, Grader, ResultStatus};
use crate::project::Project;
use crate::report;
use crate::spec::ExerciseSpec;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use store::{Key, Store};

/// The version of `results.json` a batch writes and `merge` reads.
pub const SCHEMA: u32 = 1;

/// An exercise as the class reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExerciseInfo {
    pub id: String,
    pub title: String,
    pub max_score: u32,
    /// The lesson part it teaches, for the feedback's "Reread".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub lesson: String,
}

impl ExerciseInfo {
    pub fn of(spec: &ExerciseSpec) -> ExerciseInfo {
        ExerciseInfo {
            id: spec.id.clone(),
            title: spec.title.clone(),
            max_score: spec.max_score(),
            lesson: spec.lesson.clone(),
        }
    }
}

/// `OUT/results.json`: the results of SPEC §6 and what the other reports
/// are made from. `merge` reads it back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassResults {
    pub schema: u32,
    /// The grader version that wrote it.
    pub grader: String,
    /// The exercises graded (the columns of `grades.csv`).
    pub exercises: Vec<ExerciseInfo>,
    /// Set for one shard's output; absent for a whole class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// Every student found, graded or not, sorted.
    pub students: Vec<String>,
    /// One result a submission, sorted by student, then exercise.
    pub results: Vec<GradeResult>,
    pub skipped: Vec<Skipped>,
}

impl ClassResults {
    pub fn max_total(&self) -> u32 {
        self.exercises.iter().map(|e| e.max_score).sum()
    }

    /// The results of one student, in exercise order.
    pub fn of<'a>(&'a self, student: &'a str) -> impl Iterator<Item = &'a GradeResult> + 'a {
        self.results
            .iter()
            .filter(move |r| r.student.as_deref() == Some(student))
    }

    pub fn get(&self, student: &str, exercise: &str) -> Option<&GradeResult> {
        self.results
            .iter()
            .find(|r| r.student.as_deref() == Some(student) && r.exercise == exercise)
    }

    /// The student's total score.
    pub fn total(&self, student: &str) -> u32 {
        self.of(student).map(|r| r.score).sum()
    }

    fn sort(&mut self) {
        self.students.sort();
        self.students.dedup();
        self.results
            .sort_by(|a, b| (&a.student, &a.exercise).cmp(&(&b.student, &b.exercise)));
        self.skipped.sort();
        self.skipped.dedup();
    }
}

pub struct Options {
    pub class_dir: PathBuf,
    pub out: PathBuf,
    pub jobs: Option<usize>,
    pub exercises: Vec<String>,
    pub shard: Option<Shard>,
    /// Grade everything again, ignoring stored results.
    pub regrade: bool,
    /// `--roster` and `--gradebook`.
    pub gradebook: Gradebooks,
}

/// What `grades.csv` and `gradebook.csv` add from the LMS's side.
#[derive(Debug, Clone, Default)]
pub struct Gradebooks {
    pub roster: Option<report::csv::Roster>,
    pub layout: Option<report::csv::Gradebook>,
}

/// `grader batch`.
pub fn run(grader: &Grader, opts: &Options, out: &mut impl Write) -> Result<u8, Error> {
    let started = Instant::now();
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
    let columns: Vec<String> = if opts.exercises.is_empty() {
        ids.clone()
    } else {
        ids.iter()
            .filter(|i| opts.exercises.contains(i))
            .cloned()
            .collect()
    };
    if !opts.class_dir.is_dir() {
        return Err(Error::Other(format!(
            "{} is not a folder of submissions",
            opts.class_dir.display()
        )));
    }
    // A spec that does not load is a fault of the grader's set-up: its
    // submissions get `status: error`, the others are graded.
    let specs: BTreeMap<String, Result<ExerciseSpec, String>> = columns
        .iter()
        .map(|id| (id.clone(), project.spec(id).map_err(|e| e.to_string())))
        .collect();
    let scratch = grader.cache.join("scratch");
    std::fs::create_dir_all(&scratch)?;
    let class = discover::discover(
        &opts.class_dir,
        &discover::Options {
            ids: &ids,
            selected: &columns,
            shard: opts.shard,
            scratch: &scratch,
            course_folders: course_folders(project),
            // An `--out` inside the class folder is not a student. It may
            // not exist yet: its parent's canonical path, then its name.
            exclude: canonical_out(&opts.out).into_iter().collect(),
        },
    )
    .map_err(|e| Error::Other(format!("cannot read {}: {e}", opts.class_dir.display())))?;

    // Look every submission up; what is missing is graded once per distinct
    // content.
    let store = Store::open(&grader.cache);
    let spec_hashes: BTreeMap<&str, u64> = specs
        .iter()
        .filter_map(|(id, s)| Some((id.as_str(), store::spec_hash(&s.as_ref().ok()?.dir))))
        .collect();
    let mut results: Vec<Option<GradeResult>> = vec![None; class.found.len()];
    let mut pending: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    let (mut reused, mut graded) = (0usize, 0usize);
    for (i, f) in class.found.iter().enumerate() {
        let spec = match &specs[&f.exercise] {
            Ok(spec) => spec,
            Err(e) => {
                results[i] = Some(GradeResult::error(
                    &f.exercise,
                    format!("the exercise's spec could not be loaded: {e}"),
                ));
                continue;
            }
        };
        let key = Key {
            exercise: spec.id.clone(),
            sources: crate::progress::sources_hash(&f.dir),
            spec: spec_hashes[spec.id.as_str()],
        };
        match (!opts.regrade).then(|| store.get(&key)).flatten() {
            Some(r) => {
                results[i] = Some(r);
                reused += 1;
            }
            None => pending.entry(key).or_default().push(i),
        }
    }
    let work: Vec<(&Key, &Vec<usize>)> = pending.iter().collect();
    let to_grade: usize = work.iter().map(|(_, v)| v.len()).sum();
    let jobs = opts.jobs.unwrap_or_else(crate::pool::default_jobs).max(1);
    let mut meter = meter::Meter::new(to_grade, reused, jobs);
    let mut store_failure = None;
    let grade_one = |(key, members): &(&Key, &Vec<usize>)| {
        let f = &class.found[members[0]];
        let spec = specs[&f.exercise]
            .as_ref()
            .expect("only loaded specs are queued");
        let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            grader.grade(spec, &f.dir)
        })) {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => GradeResult::error(&spec.id, e.to_string()),
            Err(_) => GradeResult::error(&spec.id, "the grader panicked".into()),
        };
        let mut result = result;
        result.excerpts = report::feedback::excerpts(&result, &f.dir);
        let stored = store.put(key, &result);
        (result, stored)
    };
    crate::pool::run(&work, jobs, grade_one, |i, (result, stored)| {
        if let Err(e) = stored {
            store_failure.get_or_insert(e);
        }
        for &m in work[i].1 {
            meter.graded(&class.found[m].origin, &result);
            results[m] = Some(result.clone());
            graded += 1;
        }
        Ok(())
    })?;
    meter.finish();
    if let Some(e) = store_failure {
        return Err(Error::Other(format!(
            "cannot store results in {}: {e}",
            grader.cache.join("results").display()
        )));
    }

    let mut class_results = ClassResults {
        schema: SCHEMA,
        grader: env!("CARGO_PKG_VERSION").to_string(),
        exercises: exercise_infos(&columns, &specs),
        shard: opts.shard,
        students: class.students.clone(),
        results: class
            .found
            .iter()
            .zip(results)
            .map(|(f, r)| {
                let mut r = r.expect("every submission has a result");
                r.student = Some(f.student.clone());
                r
            })
            .collect(),
        skipped: class.skipped.clone(),
    };
    class_results.sort();
    let unknown = write_reports(&opts.out, &class_results, &hints(&specs), &opts.gradebook)?;
    if !unknown.is_empty() {
        writeln!(
            out,
            "not in the roster, left out of gradebook.csv: {}",
            unknown.join(", ")
        )?;
    }

    let errors: Vec<&GradeResult> = class_results
        .results
        .iter()
        .filter(|r| r.status == ResultStatus::Error)
        .collect();
    for r in &errors {
        let why = r.checks.first().map(|c| c.message.as_str()).unwrap_or("");
        writeln!(
            out,
            "error: {}/{}: {why}",
            r.student.as_deref().unwrap_or("?"),
            r.exercise
        )?;
    }
    write_skipped(out, &class_results.skipped, &opts.out)?;
    let elapsed = started.elapsed().as_secs_f64();
    writeln!(
        out,
        "graded {graded}, reused {reused}, errors {}, skipped {}: {} submissions of {} students{} in {elapsed:.1} s",
        errors.len(),
        class_results.skipped.len(),
        class_results.results.len(),
        class_results.students.len(),
        opts.shard
            .map(|s| format!(" (shard {s})"))
            .unwrap_or_default(),
    )?;
    writeln!(out, "reports in {}", opts.out.display())?;
    Ok(if errors.is_empty() { 0 } else { 1 })
}

/// The folders of the course tree itself (`graders`, `solutions`, ...): in
/// a student's clone of the course they are not submissions.
pub(crate) fn course_folders(project: &Project) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = ["graders", "solutions", "src", "target", "tests", "benches"]
        .into_iter()
        .map(String::from)
        .collect();
    if let Ok(entries) = std::fs::read_dir(&project.root) {
        for e in entries.flatten() {
            if e.path().is_dir() && e.file_name() != "exercises" {
                out.insert(e.file_name().to_string_lossy().into_owned());
            }
        }
    }
    out
}

fn exercise_infos(
    columns: &[String],
    specs: &BTreeMap<String, Result<ExerciseSpec, String>>,
) -> Vec<ExerciseInfo> {
    columns
        .iter()
        .map(|id| match &specs[id] {
            Ok(s) => ExerciseInfo::of(s),
            Err(_) => ExerciseInfo {
                id: id.clone(),
                title: String::new(),
                max_score: 0,
                lesson: String::new(),
            },
        })
        .collect()
}

/// Each exercise's hint, for the feedback files.
fn hints(specs: &BTreeMap<String, Result<ExerciseSpec, String>>) -> BTreeMap<String, String> {
    specs
        .iter()
        .filter_map(|(id, s)| Some((id.clone(), s.as_ref().ok()?.hint.trim().to_string())))
        .collect()
}

/// How many skipped entries the summary lists before pointing at the file.
const SKIPS_SHOWN: usize = 20;

fn write_skipped(out: &mut impl Write, skipped: &[Skipped], dir: &Path) -> io::Result<()> {
    for s in skipped.iter().take(SKIPS_SHOWN) {
        writeln!(out, "skipped {}: {}", s.path, s.reason)?;
    }
    if skipped.len() > SKIPS_SHOWN {
        writeln!(
            out,
            "... and {} more skipped, listed in {}",
            skipped.len() - SKIPS_SHOWN,
            dir.join("results.json").display()
        )?;
    }
    Ok(())
}

/// Writes every class report into `dir`: `results.json`, `grades.csv`,
/// `junit.xml`, `report.html`, `feedback/<student>.md` and, with a
/// layout, `gradebook.csv`. Each file is replaced atomically, so a reader
/// never sees half a report. Returns the students the roster lacks.
pub fn write_reports(
    dir: &Path,
    class: &ClassResults,
    hints: &BTreeMap<String, String>,
    books: &Gradebooks,
) -> Result<Vec<String>, Error> {
    let io_err =
        |path: &Path, e: io::Error| Error::Other(format!("cannot write {}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    let write = |name: &str, f: &dyn Fn(&mut Vec<u8>) -> io::Result<()>| -> Result<(), Error> {
        let path = dir.join(name);
        let mut bytes = Vec::new();
        f(&mut bytes).map_err(|e| io_err(&path, e))?;
        atomic_write(&path, &bytes).map_err(|e| io_err(&path, e))
    };
    write("results.json", &|w| {
        serde_json::to_writer_pretty(&mut *w, class)?;
        writeln!(w)
    })?;
    write("grades.csv", &|w| {
        report::csv::write(w, class, books.roster.as_ref())
    })?;
    let mut unknown = Vec::new();
    if let (Some(roster), Some(layout)) = (&books.roster, books.layout) {
        let left_out = std::cell::RefCell::new(Vec::new());
        write("gradebook.csv", &|w| {
            *left_out.borrow_mut() = report::csv::write_gradebook(w, class, roster, layout)?;
            Ok(())
        })?;
        unknown = left_out.into_inner();
    }
    write("junit.xml", &|w| report::junit::write_class(w, class))?;
    write("report.html", &|w| report::html::write(w, class))?;
    let feedback = dir.join("feedback");
    std::fs::create_dir_all(&feedback).map_err(|e| io_err(&feedback, e))?;
    let mut names = BTreeSet::new();
    for student in &class.students {
        let name = format!("{student}.md");
        write(&format!("feedback/{name}"), &|w| {
            report::feedback::write(w, class, student, hints)
        })?;
        names.insert(name);
    }
    // Feedback of students no longer in the class would mislead.
    if let Ok(entries) = std::fs::read_dir(&feedback) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".md") && !names.contains(&name) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(unknown)
}

/// Replaces `path` with `bytes` in one step (temporary file, then rename).
pub fn atomic_write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    // Temporary files are private; a report is for its readers.
    use std::os::unix::fs::PermissionsExt;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// `--roster` and `--gradebook`, read and checked before any grading.
pub fn gradebooks(
    roster: Option<&Path>,
    layout: Option<report::csv::Gradebook>,
) -> Result<Gradebooks, String> {
    let roster = roster.map(report::csv::Roster::read).transpose()?;
    if let (Some(r), Some(l)) = (&roster, layout) {
        r.check(l)?;
    }
    Ok(Gradebooks { roster, layout })
}

/// `out` as a canonical path, whether it exists yet or not.
fn canonical_out(out: &Path) -> Option<PathBuf> {
    if let Ok(p) = out.canonicalize() {
        return Some(p);
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.canonicalize().ok()?,
        _ => std::env::current_dir().ok()?,
    };
    Some(parent.join(out.file_name()?))
}
