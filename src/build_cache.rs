//! An opt-in cache of successful builds, for grading the same code many
//! times: `GRADER_BUILD_CACHE=<folder>` in the grader's own environment
//! (never the student program's). The stability tests grade each fixture
//! dozens of times beside CPU hogs; the build is not what they test, and
//! rebuilding it each time would be most of their minutes.
//!
//! Off by default: a class's submissions are all different, and a cache
//! would only grow. A hit copies the cached files into the scratch crate's
//! `out/`, where a fresh build would have put them, so the run sees the same
//! paths and permissions either way. The key covers everything a build
//! depends on: the sources (names and bytes), the crate names, the rustc
//! binary, and the grader binary itself (which holds the compile flags),
//! hashed with SHA-256: the sources are a student's, and a key they could
//! steer would run someone else's build. The folder is named by the whole
//! digest (64 hex digits); the 16-digit FNV-1a folders of older graders
//! are never looked up.

use crate::submission::Sources;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// The environment variable naming the cache folder.
pub const VAR: &str = "GRADER_BUILD_CACHE";

/// One build's place in the cache.
pub struct Entry {
    dir: PathBuf,
}

/// The key of an entry, fed piece by piece.
struct Key(sha2::Sha256);

impl Key {
    /// A piece, after its length, so that pieces cannot run into each other.
    fn add(&mut self, bytes: &[u8]) {
        use sha2::Digest;
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    /// A file's identity: path, size and modification time.
    fn add_file(&mut self, path: &Path) {
        self.add(path.as_os_str().as_encoded_bytes());
        if let Ok(meta) = std::fs::metadata(path) {
            self.add(&meta.len().to_le_bytes());
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            self.add(&modified.to_le_bytes());
        }
    }

    /// The digest, in hex: the entry's folder name.
    fn name(self) -> String {
        use sha2::Digest;
        self.0
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The cache entry for these sources, when the cache is on.
pub fn entry(sources: &Sources, rustc: &Path, names: &[&str]) -> Option<Entry> {
    let root = std::env::var_os(VAR).filter(|v| !v.is_empty())?;
    let mut hash = Key(sha2::Sha256::default());
    hash.add(b"build-cache-2");
    hash.add_file(&std::env::current_exe().ok()?);
    hash.add_file(rustc);
    for name in names {
        hash.add(name.as_bytes());
    }
    let mut files = sources.files.clone();
    files.sort();
    for file in &files {
        hash.add(file.as_os_str().as_encoded_bytes());
        hash.add(&std::fs::read(sources.dir.join(file)).ok()?);
    }
    Some(Entry {
        dir: PathBuf::from(root).join(hash.name()),
    })
}

/// What a build produced: the program and the library, by path.
pub type Built = (Option<PathBuf>, Option<PathBuf>);

impl Entry {
    /// Copies a cached build into `out`, where a fresh build would put it.
    pub fn restore(&self, out: &Path) -> Option<Built> {
        let manifest = std::fs::read_to_string(self.dir.join(".complete")).ok()?;
        std::fs::create_dir_all(out).ok()?;
        let mut built: Built = (None, None);
        for line in manifest.lines() {
            let (kind, name) = line.split_once('=')?;
            let to = out.join(name);
            std::fs::copy(self.dir.join(name), &to).ok()?;
            match kind {
                "exe" => built.0 = Some(to),
                "lib" => built.1 = Some(to),
                _ => return None,
            }
        }
        Some(built)
    }

    /// Keeps a fresh build; a failure only loses the speed-up.
    pub fn store(&self, built: &Built) {
        let Some(parent) = self.dir.parent() else {
            return;
        };
        let temp = parent.join(format!(
            ".{}.{}.tmp",
            self.dir.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&temp);
        let mut manifest = String::new();
        let mut copied = std::fs::create_dir_all(&temp).is_ok();
        for (kind, path) in [("exe", &built.0), ("lib", &built.1)] {
            let Some(path) = path else { continue };
            let Some(name) = path.file_name() else {
                copied = false;
                continue;
            };
            copied &= std::fs::copy(path, temp.join(name)).is_ok();
            manifest.push_str(&format!("{kind}={}\n", name.to_string_lossy()));
        }
        copied &= std::fs::write(temp.join(".complete"), manifest).is_ok();
        if !copied || std::fs::rename(&temp, &self.dir).is_err() {
            let _ = std::fs::remove_dir_all(&temp);
        }
    }
}
