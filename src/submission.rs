//! Submission intake: copies only the student's `src/**/*.rs` into a scratch
//! crate whose manifest the grader writes.
//!
//! Nothing else of the submission is trusted: its `Cargo.toml`, `.cargo/`,
//! toolchain files, build scripts and every non-Rust file stay behind, so a
//! submission cannot add dependencies, a `rustc-wrapper` or a proc-macro
//! (research/sandbox.md). Symlinks are refused outright: following one could
//! read any file of the grader's machine into the build.

use crate::spec::{ExerciseSpec, Kind};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Caps on what one submission may hold.
pub const MAX_FILES: usize = 64;
pub const MAX_FILE_BYTES: u64 = 256 * 1024;
pub const MAX_TOTAL_BYTES: u64 = 1024 * 1024;
const MAX_DEPTH: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("{0} is not a folder")]
    NotADir(PathBuf),
    #[error("{0} holds no src/main.rs or src/lib.rs: not a submission")]
    Empty(PathBuf),
    #[error("{0} is a symbolic link; submissions may not contain links")]
    Symlink(PathBuf),
    #[error(
        "{path} is {size} bytes, more than the {MAX_FILE_BYTES}-byte limit for one source file"
    )]
    TooLarge { path: PathBuf, size: u64 },
    #[error("the submission has more than {MAX_FILES} source files")]
    TooManyFiles,
    #[error("the submission's sources add up to more than {MAX_TOTAL_BYTES} bytes")]
    TooLargeTotal,
    #[error("{path} is nested too deeply")]
    TooDeep { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The student's sources, copied into `dir/src`.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The scratch crate's root.
    pub dir: PathBuf,
    pub has_main: bool,
    pub has_lib: bool,
    /// Paths relative to `dir`, e.g. `src/main.rs`.
    pub files: Vec<PathBuf>,
}

impl Sources {
    /// What this exercise needs that the submission lacks, if anything.
    pub fn missing(&self, kind: Kind) -> Option<&'static str> {
        match kind {
            Kind::Bin if !self.has_main => Some("src/main.rs"),
            Kind::LibBin if !self.has_lib => Some("src/lib.rs"),
            Kind::LibBin if !self.has_main => Some("src/main.rs"),
            _ => None,
        }
    }
}

/// Copies `submission/src/**/*.rs` into `scratch/src/` and writes the
/// grader's own `Cargo.toml` beside it.
pub fn intake(
    spec: &ExerciseSpec,
    submission: &Path,
    scratch: &Path,
) -> Result<Sources, IntakeError> {
    let meta = fs::symlink_metadata(submission).map_err(|source| IntakeError::Io {
        path: submission.to_path_buf(),
        source,
    })?;
    if meta.file_type().is_symlink() {
        return Err(IntakeError::Symlink(submission.to_path_buf()));
    }
    if !meta.is_dir() {
        return Err(IntakeError::NotADir(submission.to_path_buf()));
    }
    let src = submission.join("src");
    let mut files = Vec::new();
    match fs::symlink_metadata(&src) {
        Ok(m) if m.file_type().is_symlink() => return Err(IntakeError::Symlink(src)),
        Ok(m) if m.is_dir() => collect(&src, Path::new("src"), 0, &mut files)?,
        _ => return Err(IntakeError::Empty(submission.to_path_buf())),
    }
    let has_main = files.iter().any(|(rel, _)| rel == Path::new("src/main.rs"));
    let has_lib = files.iter().any(|(rel, _)| rel == Path::new("src/lib.rs"));
    if !has_main && !has_lib {
        return Err(IntakeError::Empty(submission.to_path_buf()));
    }
    if files.len() > MAX_FILES {
        return Err(IntakeError::TooManyFiles);
    }
    let total: u64 = files.iter().map(|(_, size)| size).sum();
    if total > MAX_TOTAL_BYTES {
        return Err(IntakeError::TooLargeTotal);
    }
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| IntakeError::Io { path, source }
    };
    for (rel, _) in &files {
        let to = scratch.join(rel);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        // Re-check at copy time: read through the path we vetted, without
        // following a link swapped in since.
        let from = submission.join(rel);
        let bytes = read_no_follow(&from).map_err(io_err(&from))?;
        fs::write(&to, bytes).map_err(io_err(&to))?;
    }
    let manifest = manifest(spec, has_lib, has_main);
    fs::write(scratch.join("Cargo.toml"), manifest).map_err(io_err(scratch))?;
    Ok(Sources {
        dir: scratch.to_path_buf(),
        has_main,
        has_lib,
        files: files.into_iter().map(|(rel, _)| rel).collect(),
    })
}

fn collect(
    dir: &Path,
    rel: &Path,
    depth: usize,
    out: &mut Vec<(PathBuf, u64)>,
) -> Result<(), IntakeError> {
    if depth > MAX_DEPTH {
        return Err(IntakeError::TooDeep {
            path: dir.to_path_buf(),
        });
    }
    let entries = fs::read_dir(dir).map_err(|source| IntakeError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let meta = fs::symlink_metadata(&path).map_err(|source| IntakeError::Io {
            path: path.clone(),
            source,
        })?;
        let name = entry.file_name();
        let rel = rel.join(&name);
        if meta.file_type().is_symlink() {
            return Err(IntakeError::Symlink(path));
        }
        if meta.is_dir() {
            collect(&path, &rel, depth + 1, out)?;
        } else if meta.is_file() && path.extension().is_some_and(|e| e == "rs") {
            if meta.len() > MAX_FILE_BYTES {
                return Err(IntakeError::TooLarge {
                    path,
                    size: meta.len(),
                });
            }
            out.push((rel, meta.len()));
            if out.len() > MAX_FILES {
                return Err(IntakeError::TooManyFiles);
            }
        }
    }
    Ok(())
}

fn read_no_follow(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let mut buf = Vec::new();
    f.by_ref().take(MAX_FILE_BYTES + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(io::Error::other("file grew past its size limit"));
    }
    Ok(buf)
}

/// The grader's manifest for the scratch crate. The grader calls `rustc`
/// itself (research/speed.md: cargo adds ~40 ms and its dev defaults double
/// compile time), with the same settings this manifest states, so the crate
/// can be rebuilt by hand with `cargo run` to reproduce a verdict.
pub fn manifest(spec: &ExerciseSpec, has_lib: bool, has_main: bool) -> String {
    let mut m = format!(
        "# Written by grader: the submission's own Cargo.toml is not used.\n\
         [package]\nname = \"{}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
         publish = false\nbuild = false\nautobins = false\nautoexamples = false\n\
         autotests = false\nautobenches = false\n\n",
        spec.package_name()
    );
    if has_lib {
        m.push_str(&format!(
            "[lib]\nname = \"{}\"\npath = \"src/lib.rs\"\n\n",
            spec.crate_name()
        ));
    }
    if has_main {
        m.push_str(&format!(
            "[[bin]]\nname = \"{}\"\npath = \"src/main.rs\"\n\n",
            spec.package_name()
        ));
    }
    m.push_str(
        "[profile.dev]\ndebug = \"line-tables-only\"\nincremental = false\n\
         debug-assertions = true\noverflow-checks = true\n\n\
         [lints.rust]\nunsafe_code = \"forbid\"\n\n[workspace]\n",
    );
    m
}
