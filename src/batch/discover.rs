//! A class folder → the submissions to grade, and what was skipped and why.
//!
//! Every layout of SPEC §4 is accepted in one class folder:
//!
//! - `<DIR>/<student>/<exercise-id>/src/...`
//! - `<DIR>/<student>/exercises/<exercise-id>/src/...` (a student's clone of
//!   the course repository)
//! - `<DIR>/<student>.zip`, `.tar.gz` or `.tgz` holding either of the above,
//!   possibly inside one wrapping folder, as LMS downloads often are.
//!
//! Nothing is dropped silently: a folder that is not an exercise id, an
//! empty submission (no `src/main.rs` or `src/lib.rs`), a link, an archive
//! refused by [`archive::unpack`], a stray file — each becomes a
//! [`Skipped`] entry with a reason. Only hidden entries (`.git`,
//! `.DS_Store`, a zip's `__MACOSX`) and the grader's own output folders
//! (`--out` inside the class folder) are passed over, and in a clone, the
//! course repository's own folders (`graders/`, `solutions/`, ...).
//! Submissions of exercises not chosen with `--exercise` are left out, as
//! asked.

use super::archive::{self, Kind};
use super::shard::Shard;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One submission to grade.
#[derive(Debug, Clone)]
pub struct Found {
    pub student: String,
    pub exercise: String,
    /// The folder holding `src/` (in the scratch folder for archives).
    pub dir: PathBuf,
    /// Where it was found, for people: `alice/exercises/02-hello-thread`,
    /// `bob.zip:02-hello-thread`.
    pub origin: String,
}

/// Something in the class folder that was not graded, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Skipped {
    /// Where it is, relative to the class folder.
    pub path: String,
    /// The student it belongs to, when it belongs to one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<String>,
    pub reason: String,
}

/// What discovery found in (one shard of) a class folder.
pub struct Class {
    /// Every student of the shard, graded or not, sorted.
    pub students: Vec<String>,
    pub found: Vec<Found>,
    pub skipped: Vec<Skipped>,
    /// Keeps unpacked archives alive until grading is over.
    _unpacked: Option<tempfile::TempDir>,
}

pub struct Options<'a> {
    /// Every exercise id of the course.
    pub ids: &'a [String],
    /// The exercises to grade (all when empty).
    pub selected: &'a [String],
    pub shard: Option<Shard>,
    /// Where archives are unpacked (a fresh folder is made inside).
    pub scratch: &'a Path,
    /// Folder names of the course repository itself; in a student's clone
    /// they are not submissions.
    pub course_folders: BTreeSet<String>,
    /// Folders that are never submissions (the batch's own `--out`).
    pub exclude: Vec<PathBuf>,
}

/// A top-level entry of the class folder.
enum Entry {
    Folder(PathBuf),
    Archive(PathBuf, Kind),
    /// Not a submission, and why.
    Other(&'static str),
}

pub fn discover(class_dir: &Path, opts: &Options) -> io::Result<Class> {
    let mut by_key: BTreeMap<String, Vec<(String, Entry)>> = BTreeMap::new();
    let mut skipped = Vec::new();
    for e in fs::read_dir(class_dir)? {
        let e = e?;
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            // No shard owns an unnamed entry; the first reports it.
            if opts.shard.is_none_or(|s| s.index == 1) {
                skipped.push(Skipped {
                    path: e.file_name().to_string_lossy().into_owned(),
                    student: None,
                    reason: "its name is not valid UTF-8".into(),
                });
            }
            continue;
        };
        if hidden(&name) || grader_output(&e.path(), &opts.exclude) {
            continue;
        }
        let meta = fs::symlink_metadata(e.path())?;
        let (key, entry) = if meta.file_type().is_symlink() {
            (name.clone(), Entry::Other("a symbolic link"))
        } else if meta.is_dir() {
            (name.clone(), Entry::Folder(e.path()))
        } else if let Some((stem, kind)) = Kind::of(&name).filter(|_| meta.is_file()) {
            (stem.to_string(), Entry::Archive(e.path(), kind))
        } else {
            (
                name.clone(),
                Entry::Other("not a folder or a .zip/.tar.gz archive"),
            )
        };
        by_key.entry(key).or_default().push((name, entry));
    }

    let unpacked = tempfile::Builder::new()
        .prefix("unpack-")
        .tempdir_in(opts.scratch)?;
    let mut class = Class {
        students: Vec::new(),
        found: Vec::new(),
        skipped,
        _unpacked: None,
    };
    let mut archives = 0usize;
    for (position, (key, mut entries)) in by_key.into_iter().enumerate() {
        if opts.shard.is_some_and(|s| !s.takes(position)) {
            continue;
        }
        // The folder first, then archives by name: the first copy of an
        // exercise is graded, later ones are reported as duplicates.
        entries.sort_by_key(|(name, e)| (!matches!(e, Entry::Folder(_)), name.clone()));
        let is_student = entries.iter().any(|(_, e)| !matches!(e, Entry::Other(_)));
        let mut scan = Scan {
            opts,
            student: key.clone(),
            found: Vec::new(),
            skipped: Vec::new(),
            saw_exercise: false,
        };
        for (name, entry) in entries {
            match entry {
                Entry::Other(reason) => scan.skipped.push(Skipped {
                    path: name,
                    student: is_student.then(|| key.clone()),
                    reason: reason.into(),
                }),
                Entry::Folder(path) => scan.root(&path, &name, 0),
                Entry::Archive(path, kind) => {
                    archives += 1;
                    let dest = unpacked.path().join(archives.to_string());
                    fs::create_dir(&dest)?;
                    match archive::unpack(&path, kind, &dest) {
                        Ok(_) => scan.root(&dest, &format!("{name}:"), 0),
                        Err(e) => scan.skipped.push(Skipped {
                            path: name,
                            student: Some(key.clone()),
                            reason: format!("archive refused: {e}"),
                        }),
                    }
                }
            }
        }
        if is_student {
            if scan.found.is_empty() && scan.skipped.is_empty() && !scan.saw_exercise {
                scan.skipped.push(Skipped {
                    path: key.clone(),
                    student: Some(key.clone()),
                    reason: "no exercise folder in it".into(),
                });
            }
            class.students.push(key);
        }
        class.found.extend(scan.found);
        class.skipped.extend(scan.skipped);
    }
    class.skipped.sort();
    class._unpacked = Some(unpacked);
    Ok(class)
}

/// One student's hand-in at `path`: their folder (any layout a student's
/// folder may have above, or a single crate when exactly one exercise is
/// selected) or their archive. `student` names them in the skip list.
pub fn hand_in(path: &Path, student: &str, opts: &Options) -> io::Result<Class> {
    let unpacked = tempfile::Builder::new()
        .prefix("unpack-")
        .tempdir_in(opts.scratch)?;
    let mut scan = Scan {
        opts,
        student: student.to_string(),
        found: Vec::new(),
        skipped: Vec::new(),
        saw_exercise: false,
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| student.to_string());
    let meta = fs::metadata(path)?;
    let (root, display) = if meta.is_dir() {
        (path.to_path_buf(), String::new())
    } else if let Some((_, kind)) = Kind::of(&name) {
        let dest = unpacked.path().join("1");
        fs::create_dir(&dest)?;
        if let Err(e) = archive::unpack(path, kind, &dest) {
            scan.skip(name.clone(), format!("archive refused: {e}"));
        }
        (dest, format!("{name}:"))
    } else {
        scan.skip(name.clone(), "not a folder or a .zip/.tar.gz archive");
        (unpacked.path().to_path_buf(), String::new())
    };
    match (opts.selected, crate_root(&root)) {
        // A bare crate: the one exercise asked for.
        ([id], Some((krate, wrapper))) => {
            let shown = match wrapper {
                Some(w) => join(&display, &w),
                None if display.is_empty() => student.to_string(),
                None => display.trim_end_matches(':').to_string(),
            };
            scan.submission(id, &krate, shown);
        }
        _ => scan.root(&root, &display, 0),
    }
    if scan.found.is_empty() && scan.skipped.is_empty() && !scan.saw_exercise {
        scan.skip(student.to_string(), "no exercise folder in it");
    }
    scan.skipped.sort();
    Ok(Class {
        students: vec![student.to_string()],
        found: scan.found,
        skipped: scan.skipped,
        _unpacked: Some(unpacked),
    })
}

/// `dir`, or the one folder wrapping everything in it, when it is a crate
/// (`src/main.rs` or `src/lib.rs`); with the wrapping folder's name.
pub fn crate_root(dir: &Path) -> Option<(PathBuf, Option<String>)> {
    let is_crate = |d: &Path| {
        ["src/main.rs", "src/lib.rs"]
            .iter()
            .any(|f| fs::symlink_metadata(d.join(f)).is_ok_and(|m| m.is_file()))
    };
    if is_crate(dir) {
        return Some((dir.to_path_buf(), None));
    }
    let entries = sorted_entries(dir).ok()?;
    match entries.as_slice() {
        [(name, path)]
            if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) && is_crate(path) =>
        {
            Some((path.clone(), Some(name.clone())))
        }
        _ => None,
    }
}

/// Whether `path` is the grader's own output (the `--out` of this batch,
/// or a folder a batch wrote reports into): passed over, never a student.
fn grader_output(path: &Path, exclude: &[PathBuf]) -> bool {
    let is_file = |f: &str| fs::symlink_metadata(path.join(f)).is_ok_and(|m| m.is_file());
    path.canonicalize().is_ok_and(|p| exclude.contains(&p))
        || (is_file("results.json") && is_file("report.html"))
}

fn hidden(name: &str) -> bool {
    name.starts_with('.') || name == "__MACOSX"
}

/// Joins a display path: `alice` + `x` → `alice/x`; `bob.zip:` + `x` → `bob.zip:x`.
fn join(base: &str, name: &str) -> String {
    if base.is_empty() || base.ends_with(':') {
        format!("{base}{name}")
    } else {
        format!("{base}/{name}")
    }
}

/// Looks through one student's folder (or unpacked archive).
struct Scan<'a> {
    opts: &'a Options<'a>,
    student: String,
    found: Vec<Found>,
    skipped: Vec<Skipped>,
    /// An exercise folder was seen, even if not selected.
    saw_exercise: bool,
}

impl Scan<'_> {
    fn skip(&mut self, path: String, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            path,
            student: Some(self.student.clone()),
            reason: reason.into(),
        });
    }

    fn is_id(&self, name: &str) -> bool {
        self.opts.ids.iter().any(|i| i == name)
    }

    fn root(&mut self, dir: &Path, display: &str, depth: usize) {
        let entries = match sorted_entries(dir) {
            Ok(e) => e,
            Err(e) => {
                return self.skip(
                    display.trim_end_matches(':').to_string(),
                    format!("cannot be read: {e}"),
                );
            }
        };
        let is_dir = |p: &Path| fs::symlink_metadata(p).is_ok_and(|m| m.is_dir());
        let clone = entries.iter().any(|(n, p)| n == "exercises" && is_dir(p));
        let has_ids = entries.iter().any(|(n, _)| self.is_id(n));
        if !clone && !has_ids && depth == 0 {
            // One wrapping folder (`alice/`, `course-main/`): look inside it.
            let folders: Vec<_> = entries.iter().filter(|(_, p)| is_dir(p)).collect();
            if let [(name, path)] = folders.as_slice() {
                return self.root(path, &join(display, name), depth + 1);
            }
        }
        for (name, path) in &entries {
            let shown = join(display, name);
            if self.is_id(name) {
                self.submission(name, path, shown);
            } else if name == "exercises" && clone {
                let inner = match sorted_entries(path) {
                    Ok(e) => e,
                    Err(e) => {
                        self.skip(shown, format!("cannot be read: {e}"));
                        continue;
                    }
                };
                for (id, path) in inner {
                    let shown = join(&shown, &id);
                    if self.is_id(&id) {
                        self.submission(&id, &path, shown);
                    } else if is_dir(&path) {
                        self.skip(shown, "not an exercise id");
                    }
                }
            } else if is_dir(path) {
                if clone && self.opts.course_folders.contains(name) {
                    continue;
                }
                self.skip(shown, "not an exercise id");
            } else if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
                self.skip(shown, "a symbolic link");
            }
        }
    }

    fn submission(&mut self, id: &str, dir: &Path, shown: String) {
        self.saw_exercise = true;
        let Ok(meta) = fs::symlink_metadata(dir) else {
            return self.skip(shown, "cannot be read");
        };
        if meta.file_type().is_symlink() {
            return self.skip(shown, "a symbolic link");
        }
        if !meta.is_dir() {
            return self.skip(shown, "not a folder");
        }
        if !self.opts.selected.is_empty() && !self.opts.selected.iter().any(|s| s == id) {
            return;
        }
        if let Some(first) = self.found.iter().find(|f| f.exercise == id) {
            let why = format!("a second copy of {id}; {} is graded", first.origin);
            return self.skip(shown, why);
        }
        let regular = |p: PathBuf| fs::symlink_metadata(p).is_ok_and(|m| m.is_file());
        if !regular(dir.join("src/main.rs")) && !regular(dir.join("src/lib.rs")) {
            return self.skip(shown, "empty submission: no src/main.rs or src/lib.rs");
        }
        self.found.push(Found {
            student: self.student.clone(),
            exercise: id.to_string(),
            dir: dir.to_path_buf(),
            origin: shown,
        });
    }
}

/// A folder's non-hidden entries with UTF-8 names, sorted by name.
fn sorted_entries(dir: &Path) -> io::Result<Vec<(String, PathBuf)>> {
    let mut out: Vec<(String, PathBuf)> = fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().to_str()?.to_string(), e.path())))
        .filter(|(n, _)| !hidden(n))
        .collect();
    out.sort();
    Ok(out)
}
