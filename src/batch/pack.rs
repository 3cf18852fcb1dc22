//! `grader pack [--out FILE]`: a student's `exercises/` sources → one
//! archive in the batch layout, ready to hand in.
//!
//! Only what grading reads goes in: `exercises/<id>/src/**/*.rs` for every
//! exercise of the course (no `target/`, no manifests, no editor files), so
//! the archive is small and holds nothing private by accident. Links are
//! refused rather than followed. The format follows the file name (`.zip`,
//! `.tar.gz` or `.tgz`; default `submission.tar.gz` in the course folder),
//! and entries are sorted with fixed times, so the same sources always pack
//! to the same bytes.

use super::archive::{self, Kind};
use super::error::Error;
use crate::project::Project;
use crate::submission::{MAX_FILE_BYTES, MAX_FILES};
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn run(project: &Project, file: Option<PathBuf>, out: &mut impl Write) -> Result<u8, Error> {
    let file = file.unwrap_or_else(|| project.root.join("submission.tar.gz"));
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some((_, kind)) = Kind::of(&name) else {
        return Err(Error::Other(format!(
            "{} must end in .zip, .tar.gz or .tgz",
            file.display()
        )));
    };
    let mut entries = Vec::new();
    let mut packed = Vec::new();
    for id in project.exercise_ids()? {
        let dir = project.exercise_dir(&id);
        if !dir.join("src").is_dir() {
            continue;
        }
        let mut files = Vec::new();
        collect(&dir.join("src"), &mut files, 0)?;
        if files.len() > MAX_FILES {
            return Err(Error::Other(format!(
                "{} holds more than {MAX_FILES} source files",
                dir.display()
            )));
        }
        files.sort();
        for path in files {
            let rel = path.strip_prefix(&dir).expect("collected under dir");
            let bytes = std::fs::read(&path)?;
            let rel = rel.to_string_lossy().replace('\\', "/");
            entries.push((format!("exercises/{id}/{rel}"), bytes));
        }
        packed.push(id);
    }
    if packed.is_empty() {
        return Err(Error::Other(format!(
            "nothing to pack: no exercise under {}",
            project.root.join("exercises").display()
        )));
    }
    let mut bytes = std::io::Cursor::new(Vec::new());
    archive::write(&mut bytes, kind, &entries)?;
    let bytes = bytes.into_inner();
    super::atomic_write(&file, &bytes)
        .map_err(|e| Error::Other(format!("cannot write {}: {e}", file.display())))?;
    writeln!(
        out,
        "packed {} exercises ({} files, {:.1} KiB) into {}",
        packed.len(),
        entries.len(),
        bytes.len() as f64 / 1024.0,
        file.display()
    )?;
    writeln!(
        out,
        "hand in this file as it is: `grader batch` reads it unpacked or not"
    )?;
    Ok(0)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), Error> {
    if depth > 8 {
        return Err(Error::Other(format!(
            "{} is nested too deeply",
            dir.display()
        )));
    }
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let path = e.path();
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.file_type().is_symlink() {
            return Err(Error::Other(format!(
                "{} is a symbolic link; submissions may not contain links",
                path.display()
            )));
        }
        if meta.is_dir() {
            collect(&path, out, depth + 1)?;
        } else if meta.is_file() && path.extension().is_some_and(|x| x == "rs") {
            if meta.len() > MAX_FILE_BYTES {
                return Err(Error::Other(format!(
                    "{} is {} bytes, more than the {MAX_FILE_BYTES}-byte limit",
                    path.display(),
                    meta.len()
                )));
            }
            out.push(path);
        }
    }
    Ok(())
}
