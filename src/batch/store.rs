//! The result store that makes a batch resumable.
//!
//! Each graded submission's result is written the moment it is known, to
//! `<cache>/results/<exercise>/sha256-<sources>-<spec>-<build>.json`, where
//! the three keys are SHA-256 hashes ([`KeyHasher`]) of the submission's
//! sources (the `src/**/*.rs` intake copies, by relative name and content),
//! of the exercise's grader folder (spec and scenarios; not its fixtures)
//! and of the grader build. A submission is hostile input: no crafted
//! source can take the key of another's. (Entries of older graders, keyed
//! by FNV-1a, have no `sha256-` and are never read.)
//! A re-run after Ctrl-C or `kill -9` finds every finished result and grades
//! only the rest; a changed submission, spec or grader misses and is
//! regraded. Two students with identical sources share one entry.
//!
//! Writes are atomic (a temporary file in the same folder, then a rename),
//! so a killed batch leaves either a whole result or none, and several
//! batches (shards on one machine) may share a store without a lock. Only
//! results that a rerun could not contradict are stored
//! ([`GradeResult::settled`]): a grader fault (`status: error`) and a
//! verdict that rests on a clock (`timeout`) are graded again.

use crate::grade::GradeResult;
use crate::progress::KeyHasher;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// What a stored result is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub exercise: String,
    pub sources: u64,
    pub spec: u64,
}

pub struct Store {
    dir: PathBuf,
    build: u64,
}

impl Store {
    pub fn open(cache: &Path) -> Store {
        Store {
            dir: cache.join("results"),
            build: build_id(),
        }
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.dir.join(&key.exercise).join(format!(
            "sha256-{:016x}-{:016x}-{:016x}.json",
            key.sources, key.spec, self.build
        ))
    }

    /// The stored result, if there is a whole one.
    pub fn get(&self, key: &Key) -> Option<GradeResult> {
        let text = std::fs::read_to_string(self.path(key)).ok()?;
        let result: GradeResult = serde_json::from_str(&text).ok()?;
        (result.exercise == key.exercise && result.settled()).then_some(result)
    }

    /// Stores a result atomically, when a rerun would give it again.
    pub fn put(&self, key: &Key, result: &GradeResult) -> io::Result<()> {
        if !result.settled() {
            return Ok(());
        }
        let path = self.path(key);
        let dir = path.parent().expect("a store path has a folder");
        std::fs::create_dir_all(dir)?;
        let mut result = result.clone();
        result.student = None;
        let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
        serde_json::to_writer(&mut tmp, &result)?;
        tmp.write_all(b"\n")?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// A hash of an exercise's grader folder: every file but the fixtures
/// (`wrong/`, `variants/`), which `verify` uses and grading does not.
pub fn spec_hash(grader_dir: &Path) -> u64 {
    let mut files = Vec::new();
    walk(grader_dir, grader_dir, &mut files, 0);
    files.sort();
    let mut h = KeyHasher::new();
    for (rel, path) in files {
        h.feed(rel.as_bytes());
        h.feed(&std::fs::read(&path).unwrap_or_default());
    }
    h.finish()
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let rel = p
            .strip_prefix(root)
            .unwrap_or(&p)
            .to_string_lossy()
            .into_owned();
        match e.file_type() {
            Ok(t) if t.is_dir() => {
                if depth == 0 && (rel == "wrong" || rel == "variants") || depth > 8 {
                    continue;
                }
                walk(root, &p, out, depth + 1);
            }
            Ok(t) if t.is_file() => out.push((rel, p)),
            _ => {}
        }
    }
}

/// Which grader build wrote a result: the version, and the size and
/// modification time of the running binary, so that a rebuilt grader (a
/// fixed detector, a new check) never reuses results of the old one. The
/// binary's metadata rather than its contents: a debug build is ~100 MB,
/// and hashing it would cost every batch about a second.
pub fn build_id() -> u64 {
    static ID: OnceLock<u64> = OnceLock::new();
    *ID.get_or_init(|| {
        let mut h = KeyHasher::new();
        h.feed(env!("CARGO_PKG_VERSION").as_bytes());
        if let Some(meta) = std::env::current_exe()
            .ok()
            .and_then(|p| std::fs::metadata(p).ok())
        {
            h.feed(&meta.len().to_le_bytes());
            if let Ok(t) = meta
                .modified()
                .map(|t| t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default())
            {
                h.feed(&t.as_nanos().to_le_bytes());
            }
        }
        h.finish()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Category, CheckOutcome};
    use std::time::Duration;

    fn result(category: Option<Category>) -> GradeResult {
        let check = match category {
            Some(c) => CheckOutcome::fail("output", 3, c, "it failed"),
            None => CheckOutcome::pass("output", 3, "right"),
        };
        GradeResult::from_checks("05-shared-counter", vec![check], Duration::ZERO)
    }

    #[test]
    fn only_results_a_rerun_would_repeat_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path());
        let key = |sources| Key {
            exercise: "05-shared-counter".into(),
            sources,
            spec: 1,
        };
        store.put(&key(1), &result(None)).unwrap();
        store
            .put(&key(2), &result(Some(Category::DataRace)))
            .unwrap();
        // A time limit reached under load may not be reached on an idle
        // machine: graded again rather than reused.
        store
            .put(&key(3), &result(Some(Category::Timeout)))
            .unwrap();
        assert_eq!(store.get(&key(1)).map(|r| r.score), Some(3));
        assert_eq!(store.get(&key(2)).map(|r| r.score), Some(0));
        assert!(store.get(&key(3)).is_none());
    }

    #[test]
    fn an_entry_an_older_grader_wrote_is_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path());
        let key = Key {
            exercise: "05-shared-counter".into(),
            sources: 1,
            spec: 1,
        };
        store.put(&key, &result(None)).unwrap();
        let new = store.path(&key);
        let name = new.file_name().unwrap().to_string_lossy().into_owned();
        // The same numbers under the old name (FNV-1a keys, no prefix).
        let old = new.with_file_name(name.strip_prefix("sha256-").unwrap());
        std::fs::rename(&new, &old).unwrap();
        assert!(store.get(&key).is_none());
    }
}
