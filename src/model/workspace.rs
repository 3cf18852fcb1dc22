//! The model checker's prebuilt part: loom and the `grader_conc` facade,
//! compiled once into the grader's cache and reused by every submission.
//!
//! The workspace is written from sources embedded in the grader (so the
//! facade always matches the grader that uses it) with a pinned
//! `Cargo.lock`, into `<cache>/model/<key>/`, where the key hashes those
//! sources and the compiler's version: a grader or toolchain upgrade gets a
//! fresh build, never a stale rlib. Measured on 2 cores (research/speed.md
//! §3): a cold build of loom is 5–7 s at debuginfo 0 without incremental;
//! loom at opt-level 3 halves the time per explored interleaving for +47 ms
//! per harness compile. Cargo runs `--offline` first (no index
//! fetch when the registry already has the crates) and online only when
//! that fails. A file lock keeps two grader processes (batch workers, CI
//! jobs) from building the same folder at once.

use crate::compile::Toolchain;
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::ModelError;

/// The facade's sources, as `(file name, text)`.
const FACADE: &[(&str, &str)] = &[
    ("lib.rs", include_str!("facade/lib.rs")),
    ("trace.rs", include_str!("facade/trace.rs")),
    ("peek.rs", include_str!("facade/peek.rs")),
    ("sync.rs", include_str!("facade/sync.rs")),
    ("atomic.rs", include_str!("facade/atomic.rs")),
    ("mpsc.rs", include_str!("facade/mpsc.rs")),
    ("thread.rs", include_str!("facade/thread.rs")),
    ("model.rs", include_str!("facade/model.rs")),
    ("observe.rs", include_str!("facade/observe.rs")),
];

const LOCKFILE: &str = include_str!("facade/Cargo.lock");

const WORKSPACE_MANIFEST: &str = r#"[workspace]
members = ["grader_conc"]
resolver = "2"

[profile.dev]
debug = 0
incremental = false

# Only what runs on every explored step is optimised: loom's runtime, its
# coroutines and the facade. regex and tracing-subscriber (loom's log
# filter, used once at start-up) stay at opt-level 0, which cuts the cold
# build's CPU time roughly in half.
[profile.dev.package.loom]
opt-level = 3

[profile.dev.package.generator]
opt-level = 3

[profile.dev.package.scoped-tls]
opt-level = 3

[profile.dev.package.grader_conc]
opt-level = 3
"#;

const FACADE_MANIFEST: &str = r#"[package]
name = "grader_conc"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
loom = "=0.7.3"
"#;

/// What a submission's model build links against.
#[derive(Debug, Clone)]
pub struct Prebuilt {
    /// `libgrader_conc-*.rlib`.
    pub facade: PathBuf,
    /// The folder of every dependency rlib (`-L dependency=`).
    pub deps: PathBuf,
}

/// The rustc version line, which names the exact compiler.
fn rustc_version(tc: &Toolchain) -> Result<&'static str, ModelError> {
    static VERSION: OnceLock<Result<String, String>> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            let out = Command::new(&tc.rustc)
                .arg("-vV")
                .env_remove("RUSTFLAGS")
                .output()
                .map_err(|e| e.to_string())?;
            if !out.status.success() {
                return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
            }
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        })
        .as_deref()
        .map_err(|e| ModelError::Toolchain(e.clone()))
}

fn key(version: &str) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    version.hash(&mut h);
    WORKSPACE_MANIFEST.hash(&mut h);
    FACADE_MANIFEST.hash(&mut h);
    LOCKFILE.hash(&mut h);
    FACADE.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Builds (or finds) loom and the facade under `cache/model/`.
pub fn prepare(cache: &Path, tc: &Toolchain) -> Result<Prebuilt, ModelError> {
    let root = cache.join("model");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ModelError::Io { path, source }
    };
    std::fs::create_dir_all(&root).map_err(io(&root))?;
    // The stamp records paths: keep them valid whichever way the cache was
    // reached (a linked cache folder, a relative path).
    let root = root.canonicalize().map_err(io(&root))?;
    let dir = root.join(key(rustc_version(tc)?));
    let stamp = dir.join("ready");
    if let Some(p) = read_stamp(&stamp) {
        return Ok(p);
    }
    let lock_path = root.join("build.lock");
    let _lock = FileLock::acquire(&lock_path).map_err(io(&lock_path))?;
    // Another process may have finished while we waited for the lock.
    if let Some(p) = read_stamp(&stamp) {
        return Ok(p);
    }
    let src = dir.join("grader_conc").join("src");
    std::fs::create_dir_all(&src).map_err(io(&src))?;
    let write = |path: PathBuf, text: &str| std::fs::write(&path, text).map_err(io(&path));
    write(dir.join("Cargo.toml"), WORKSPACE_MANIFEST)?;
    write(dir.join("Cargo.lock"), LOCKFILE)?;
    write(dir.join("grader_conc").join("Cargo.toml"), FACADE_MANIFEST)?;
    for (name, text) in FACADE {
        write(src.join(name), text)?;
    }
    let facade = match cargo_build(&dir, tc, true) {
        Ok(f) => f,
        // The registry on this machine lacks the crates: fetch them.
        Err(_) => cargo_build(&dir, tc, false)?,
    };
    let deps = dir.join("target").join("debug").join("deps");
    let prebuilt = Prebuilt { facade, deps };
    let text = format!(
        "{}\n{}\n",
        prebuilt.facade.display(),
        prebuilt.deps.display()
    );
    write(stamp, &text)?;
    prune(&root, &dir);
    Ok(prebuilt)
}

/// Removes builds for other graders or compilers (about 50 MB each) that
/// have not been used for a day; a grader of another version still running
/// on the same cache keeps its own.
fn prune(root: &Path, keep: &Path) {
    const UNUSED: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path == keep || !path.is_dir() {
            continue;
        }
        let stale = std::fs::metadata(path.join("ready"))
            .and_then(|m| m.accessed().or_else(|_| m.modified()))
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > UNUSED);
        if stale {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

fn read_stamp(stamp: &Path) -> Option<Prebuilt> {
    let text = std::fs::read_to_string(stamp).ok()?;
    let mut lines = text.lines();
    let facade = PathBuf::from(lines.next()?);
    let deps = PathBuf::from(lines.next()?);
    (facade.is_file() && deps.is_dir()).then_some(Prebuilt { facade, deps })
}

/// The cargo of the same toolchain as `rustc` (skips the rustup proxy).
fn cargo(tc: &Toolchain) -> PathBuf {
    let direct = tc.sysroot.join("bin").join("cargo");
    if direct.is_file() {
        direct
    } else {
        std::env::var_os("CARGO")
            .map(PathBuf::from)
            .unwrap_or_else(|| "cargo".into())
    }
}

fn cargo_build(dir: &Path, tc: &Toolchain, offline: bool) -> Result<PathBuf, ModelError> {
    let mut cmd = Command::new(cargo(tc));
    cmd.current_dir(dir)
        .args([
            "build",
            "--lib",
            "-p",
            "grader_conc",
            "--locked",
            "--message-format=json",
        ])
        .env("RUSTC", &tc.rustc)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env("CARGO_INCREMENTAL", "0")
        .env("CARGO_TERM_COLOR", "never")
        .stdin(Stdio::null());
    if offline {
        cmd.arg("--offline");
    }
    // The caller's build settings are not ours (trybuild does the same).
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_PROFILE_DEV_DEBUG",
        "CARGO_PROFILE_DEV_OPT_LEVEL",
        "CARGO_PROFILE_DEV_INCREMENTAL",
        "CARGO_BUILD_INCREMENTAL",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().map_err(|e| ModelError::Build {
        dir: dir.to_path_buf(),
        message: format!("cannot run cargo: {e}"),
    })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr
            .lines()
            .rev()
            .take(6)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(ModelError::Build {
            dir: dir.to_path_buf(),
            message: tail.join("\n"),
        });
    }
    facade_rlib(&stdout).ok_or_else(|| ModelError::Build {
        dir: dir.to_path_buf(),
        message: "cargo built the facade but named no rlib for it".into(),
    })
}

/// The facade's rlib, from cargo's `compiler-artifact` messages.
fn facade_rlib(json_lines: &str) -> Option<PathBuf> {
    #[derive(serde::Deserialize)]
    struct Target {
        name: String,
    }
    #[derive(serde::Deserialize)]
    struct Message {
        reason: String,
        target: Option<Target>,
        #[serde(default)]
        filenames: Vec<PathBuf>,
    }
    json_lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Message>(l).ok())
        .filter(|m| {
            m.reason == "compiler-artifact"
                && m.target.as_ref().is_some_and(|t| t.name == "grader_conc")
        })
        .flat_map(|m| m.filenames)
        .find(|f| f.extension().is_some_and(|e| e == "rlib"))
}

/// An exclusive `flock` held until dropped.
struct FileLock(std::fs::File);

impl FileLock {
    fn acquire(path: &Path) -> std::io::Result<FileLock> {
        use std::os::fd::AsRawFd;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        // SAFETY: flock on a descriptor this function owns.
        loop {
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                break;
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
        let _ = writeln!(file, "{}", std::process::id());
        Ok(FileLock(file))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        // SAFETY: unlocking the descriptor locked in `acquire`.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_facade_rlib_is_found_in_cargo_messages() {
        let lines = r#"{"reason":"compiler-artifact","target":{"name":"loom"},"filenames":["/t/libloom-1.rlib"]}
{"reason":"compiler-artifact","target":{"name":"grader_conc"},"filenames":["/t/libgrader_conc-2.rmeta","/t/libgrader_conc-2.rlib"]}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            facade_rlib(lines),
            Some(PathBuf::from("/t/libgrader_conc-2.rlib"))
        );
    }

    #[test]
    fn the_key_changes_with_the_compiler() {
        assert_ne!(key("rustc 1.95.0"), key("rustc 1.96.0"));
        assert_eq!(key("rustc 1.95.0"), key("rustc 1.95.0"));
    }

    #[test]
    fn the_embedded_lockfile_pins_loom() {
        assert!(LOCKFILE.contains("name = \"loom\"\nversion = \"0.7.3\""));
        assert!(LOCKFILE.contains("name = \"grader_conc\""));
    }
}
