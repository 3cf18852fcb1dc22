//! `grader publish OUT`: the student edition of the course, a new git
//! repository of one commit, ready to push as a GitHub Classroom template or
//! to zip for an LMS.
//!
//! What goes in, and only that (a list of what is wanted, never a list of
//! what to leave out, so a file an author adds later stays private until
//! this module names it):
//!
//! - `exercises/<id>/` of every exercise with a spec: the starters, as they
//!   are on disk, without build output (`target/`, `Cargo.lock`) or links;
//! - of `graders/`, what grading reads: each `spec.toml`, the `.rs` files
//!   of `model/` and `unit/` (the harnesses compile every one of them), and
//!   `spec.schema.json`; never `wrong/` or `variants/`, and no `solutions/`;
//! - `grader/`: the grader's own sources (`Cargo.toml`, `Cargo.lock`,
//!   `build.rs`, `src/`, `vendor/`), so that `cargo install --locked --path
//!   grader` gives the student the grader this course was verified with.
//!   Why sources and not a binary or a `cargo install --git`: the
//!   instructor's repository holds the answers and cannot be public, a
//!   binary is one platform's, and a grader of another version could read
//!   the specs differently. The loom sources the model checker needs are in
//!   `vendor/` and built into the grader, so the student edition grades
//!   offline once installed;
//! - a student `README.md`, a `.gitignore`, and `graders/edition.toml`,
//!   which marks the tree as an edition: `reset` then takes starters from
//!   the repository's first commit, and `verify` and `new` say they need
//!   the instructor's tree.
//!
//! The edition is written into a temporary folder beside OUT and moved into
//! place once committed, so a failure leaves no half edition behind.

use crate::project::{EDITION_MARKER, Project};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What stops `publish` (or a verb that needs the instructor's tree): one
/// line, exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Project(#[from] crate::project::ProjectError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Whether it is only the reader of the output gone away.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

const STUDENT_README: &str = include_str!("publish/README.md");

const GITIGNORE: &str = "\
# Build output and the grader's cache (target/grader/).
target/
/exercises/*/Cargo.lock
# What `grader pack` writes: handed in, not committed.
/submission.tar.gz
/submission.tgz
/submission.zip
";

/// The grader's sources, relative to the instructor's tree.
const GRADER_FILES: &[&str] = &["Cargo.toml", "Cargo.lock", "build.rs"];
const GRADER_DIRS: &[&str] = &["src", "vendor"];

/// Refuses a verb that needs the instructor's tree in a student edition.
pub fn instructor_only(project: &Project, verb: &str) -> Result<(), Error> {
    if project.is_edition() {
        return Err(Error::Other(format!(
            "`grader {verb}` needs the instructor's course tree (with solutions/ and the \
             known-wrong fixtures); {} is the student edition",
            project.root.display()
        )));
    }
    Ok(())
}

pub fn run(project: &Project, out_dir: &Path, out: &mut impl Write) -> Result<u8, Error> {
    instructor_only(project, "publish")?;
    let root = &project.root;
    let dest = std::path::absolute(out_dir)?;
    check_destination(root, &dest)?;
    if !is_grader_tree(root) {
        return Err(Error::Other(format!(
            "{} does not hold the grader's sources (Cargo.toml of the package `grader`, src/, \
             vendor/), which the edition carries",
            root.display()
        )));
    }
    let ids = project.exercise_ids()?;
    let mut specs = Vec::new();
    for id in &ids {
        // A spec that does not load would fail every student: stop here.
        specs.push(project.spec(id)?);
        if !project.exercise_dir(id).join("src").is_dir() {
            return Err(Error::Other(format!(
                "{} has no starter (no src/ folder)",
                project.exercise_dir(id).display()
            )));
        }
    }
    let parent = dest
        .parent()
        .ok_or_else(|| Error::Other(format!("{} has no parent folder", dest.display())))?;
    std::fs::create_dir_all(parent)?;
    let staging = tempfile::Builder::new()
        .prefix(".grader-publish-")
        .tempdir_in(parent)?;
    let edition = staging.path();
    let mut copied = Copied::default();
    for spec in &specs {
        let id = &spec.id;
        copy_tree(
            &project.exercise_dir(id),
            &edition.join("exercises").join(id),
            &["target", "Cargo.lock"],
            &mut copied,
        )?;
        let graders = edition.join("graders").join(id);
        copy_file(
            &spec.dir.join("spec.toml"),
            &graders.join("spec.toml"),
            &mut copied,
        )?;
        for sub in ["model", "unit"] {
            for file in rust_files(&spec.dir.join(sub))? {
                let name = file.file_name().expect("a file");
                copy_file(&file, &graders.join(sub).join(name), &mut copied)?;
            }
        }
    }
    let schema = project.graders_dir().join("spec.schema.json");
    if schema.is_file() {
        copy_file(
            &schema,
            &edition.join("graders/spec.schema.json"),
            &mut copied,
        )?;
    }
    for f in GRADER_FILES {
        copy_file(&root.join(f), &edition.join("grader").join(f), &mut copied)?;
    }
    for d in GRADER_DIRS {
        copy_tree(
            &root.join(d),
            &edition.join("grader").join(d),
            &["target"],
            &mut copied,
        )?;
    }
    let source = instructor_commit(root);
    let readme = STUDENT_README.replace("{exercises}", &exercise_table(&specs));
    for (rel, text) in [
        ("README.md", readme),
        (".gitignore", GITIGNORE.to_string()),
        (EDITION_MARKER, marker(&source)),
    ] {
        let path = edition.join(rel);
        std::fs::write(&path, &text)?;
        copied.files += 1;
        copied.bytes += text.len() as u64;
    }
    let commit = commit(edition, &source)?;
    let staged = staging.keep();
    if dest.exists() {
        // Checked empty above; a folder made for the purpose is fine.
        std::fs::remove_dir(&dest)?;
    }
    std::fs::rename(&staged, &dest).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staged);
        Error::Other(format!(
            "cannot move the edition to {}: {e}",
            dest.display()
        ))
    })?;
    writeln!(
        out,
        "published {} exercises into {} ({} files, {:.1} MiB), one commit {}",
        specs.len(),
        dest.display(),
        copied.files,
        copied.bytes as f64 / (1024.0 * 1024.0),
        &commit[..commit.len().min(12)]
    )?;
    writeln!(
        out,
        "left out: solutions/, graders/<id>/wrong/ and graders/<id>/variants/"
    )?;
    writeln!(
        out,
        "next: push it as a template repository, or zip it for your LMS; students start with \
         its README.md"
    )?;
    Ok(0)
}

#[derive(Default)]
struct Copied {
    files: usize,
    bytes: u64,
}

/// OUT must be new (or an empty folder) and outside what is copied.
fn check_destination(root: &Path, dest: &Path) -> Result<(), Error> {
    if dest.exists() {
        let empty = dest.is_dir() && std::fs::read_dir(dest)?.next().is_none();
        if !empty {
            return Err(Error::Other(format!(
                "{} already exists and is not empty; publish writes a new folder",
                dest.display()
            )));
        }
    }
    let canonical_root = root.canonicalize()?;
    let mut probe = dest.to_path_buf();
    // The nearest existing ancestor says where OUT will be.
    while !probe.exists() {
        match probe.parent() {
            Some(p) => probe = p.to_path_buf(),
            None => break,
        }
    }
    let probe = probe.canonicalize().unwrap_or(probe);
    for inside in ["exercises", "graders", "solutions", "src", "vendor"] {
        if probe.starts_with(canonical_root.join(inside)) {
            return Err(Error::Other(format!(
                "{} is inside the course's {inside}/; publish into a folder outside it",
                dest.display()
            )));
        }
    }
    Ok(())
}

fn is_grader_tree(root: &Path) -> bool {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    let package: Option<String> = toml::from_str::<toml::Value>(&manifest)
        .ok()
        .and_then(|v| Some(v.get("package")?.get("name")?.as_str()?.to_string()));
    package.as_deref() == Some("grader")
        && root.join("src/main.rs").is_file()
        && root.join("vendor").is_dir()
}

fn copy_file(from: &Path, to: &Path, copied: &mut Copied) -> Result<(), Error> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    copied.bytes += std::fs::copy(from, to).map_err(|e| {
        Error::Other(format!(
            "cannot copy {} to {}: {e}",
            from.display(),
            to.display()
        ))
    })?;
    copied.files += 1;
    Ok(())
}

/// Copies a folder's files, leaving out `.git`, links and the entries named
/// in `skip` (build output), at any depth.
fn copy_tree(from: &Path, to: &Path, skip: &[&str], copied: &mut Copied) -> Result<(), Error> {
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .map_err(|e| Error::Other(format!("cannot read {}: {e}", from.display())))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    std::fs::create_dir_all(to)?;
    for entry in entries {
        let name = entry.file_name();
        let kind = entry.file_type()?;
        let skipped = name == ".git" || skip.iter().any(|s| name == *s);
        if skipped || kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(&name), skip, copied)?;
        } else if kind.is_file() {
            copy_file(&entry.path(), &to.join(&name), copied)?;
        }
    }
    Ok(())
}

/// The `.rs` files directly in `dir` (none when it does not exist).
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    Ok(files)
}

fn exercise_table(specs: &[crate::spec::ExerciseSpec]) -> String {
    let mut t = String::from("| exercise | lesson part |\n|---|---|\n");
    for s in specs {
        t.push_str(&format!(
            "| [`{}`](exercises/{}/README.md) {} | {} |\n",
            s.id, s.id, s.title, s.lesson
        ));
    }
    t.trim_end().to_string()
}

/// The instructor's commit the edition comes from, `-dirty` when the tree
/// had changes not committed; `None` outside a git repository.
fn instructor_commit(root: &Path) -> Option<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "HEAD"])?;
    let dirty = git(&["status", "--porcelain"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{head}-dirty") } else { head })
}

fn marker(source: &Option<String>) -> String {
    let from = source.as_deref().unwrap_or("not a git repository");
    format!(
        "# The student edition of the course, written by `grader publish`.\n\
         # `grader reset` takes starters from this repository's first commit;\n\
         # `grader verify` and `grader new` need the instructor's tree.\n\
         edition = \"student\"\n\
         published_from = {}\n\
         grader_version = \"{}\"\n",
        toml::Value::String(from.to_string()),
        env!("CARGO_PKG_VERSION")
    )
}

/// `git init` and one commit of everything; its id.
fn commit(dir: &Path, source: &Option<String>) -> Result<String, Error> {
    let git = |args: &[&str]| -> Result<String, Error> {
        let mut c = Command::new("git");
        c.arg("-C").arg(dir);
        // Without an identity configured, the commit still needs one.
        if !has_identity(dir) {
            c.args([
                "-c",
                "user.name=Course staff",
                "-c",
                "user.email=course@localhost",
            ]);
        }
        let o = c.args(args).env("LC_ALL", "C").output().map_err(|e| {
            Error::Other(format!(
                "publish makes the edition a git repository, and git cannot run: {e}"
            ))
        })?;
        if !o.status.success() {
            return Err(Error::Other(format!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&o.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    git(&["init", "--quiet", "--initial-branch=main"])?;
    git(&["add", "--all"])?;
    let message = match source {
        Some(s) => format!("The course, student edition\n\nPublished from {s}."),
        None => "The course, student edition".to_string(),
    };
    git(&["commit", "--quiet", "--no-verify", "-m", &message])?;
    git(&["rev-parse", "HEAD"])
}

fn has_identity(dir: &Path) -> bool {
    ["user.name", "user.email"].iter().all(|key| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["config", key])
            .output()
            .is_ok_and(|o| o.status.success() && !o.stdout.trim_ascii().is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_is_toml_that_names_its_source() {
        let text = marker(&Some("abc\"123".into()));
        let v: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(v["edition"].as_str(), Some("student"));
        assert_eq!(v["published_from"].as_str(), Some("abc\"123"));
    }
}
