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
//! per harness compile. Loom's sources come from the grader itself
//! ([`super::registry`]): Cargo builds offline, with a `CARGO_HOME` of its
//! own, so neither the network nor the caller's Cargo settings (a mirror, a
//! target folder, flags) take part. A file lock keeps two grader processes
//! (batch workers, CI jobs) from building the same folder at once.
//!
//! The build happens once per cache and takes a while, so the commands that
//! are about to need it call [`prepare_shown`], which says what it is doing
//! and how far it got; a build started from inside a grading is quiet.

use crate::compile::Toolchain;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use super::error::ModelError;
use super::registry;
use std::time::{Duration, Instant};

/// The facade's sources, as `(file name, text)`.
const FACADE: &[(&str, &str)] = &[
    ("lib.rs", include_str!("facade/lib.rs")),
    ("trace.rs", include_str!("facade/trace.rs")),
    ("peek.rs", include_str!("facade/peek.rs")),
    ("sync.rs", include_str!("facade/sync.rs")),
    ("lock.rs", include_str!("facade/lock.rs")),
    ("atomic.rs", include_str!("facade/atomic.rs")),
    ("mpsc.rs", include_str!("facade/mpsc.rs")),
    ("thread.rs", include_str!("facade/thread.rs")),
    ("model.rs", include_str!("facade/model.rs")),
    ("observe.rs", include_str!("facade/observe.rs")),
];

/// The harnesses' proof of their last step (the grader's own `seal`
/// module, built as the `grader_seal` crate).
const SEAL: &str = include_str!("seal.rs");

pub(super) const LOCKFILE: &str = include_str!("facade/Cargo.lock");

const WORKSPACE_MANIFEST: &str = r#"[workspace]
members = ["grader_conc", "grader_seal"]
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
grader_seal = { path = "../grader_seal" }
"#;

const SEAL_MANIFEST: &str = r#"[package]
name = "grader_seal"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
path = "src/lib.rs"

[dependencies]
hmac = "0.13"
sha2 = "0.11"
"#;

/// What a submission's model build links against.
#[derive(Debug, Clone)]
pub struct Prebuilt {
    /// `libgrader_conc-*.rlib`.
    pub facade: PathBuf,
    /// `libgrader_seal-*.rlib`, which the unit harness links.
    pub seal: PathBuf,
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

/// The workspace's folder: 32 hex digits of SHA-256 over the compiler's
/// version and every embedded source, each after its length. Stable across
/// Rust releases, unlike std's `DefaultHasher`, whose 16-digit folders are
/// never taken for these.
fn key(version: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let texts = [version, WORKSPACE_MANIFEST, FACADE_MANIFEST, SEAL_MANIFEST];
    let facade = FACADE.iter().flat_map(|(name, text)| [*name, *text]);
    for piece in texts.into_iter().chain([SEAL, LOCKFILE]).chain(facade) {
        h.update((piece.len() as u64).to_le_bytes());
        h.update(piece);
    }
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Builds (or finds) loom and the facade under `cache/model/`, quietly.
pub fn prepare(cache: &Path, tc: &Toolchain) -> Result<Prebuilt, ModelError> {
    prepare_with(cache, tc, false)
}

/// As [`prepare`], and when it has to build, says so on stderr with the
/// build's progress (a bar on a terminal, a line at the start and the end
/// otherwise).
pub fn prepare_shown(cache: &Path, tc: &Toolchain) -> Result<Prebuilt, ModelError> {
    prepare_with(cache, tc, true)
}

fn prepare_with(cache: &Path, tc: &Toolchain, shown: bool) -> Result<Prebuilt, ModelError> {
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
    let seal_src = dir.join("grader_seal").join("src");
    std::fs::create_dir_all(&seal_src).map_err(io(&seal_src))?;
    write(dir.join("grader_seal").join("Cargo.toml"), SEAL_MANIFEST)?;
    write(seal_src.join("lib.rs"), SEAL)?;
    // Both only serve the build (the sources unpack to ~30 MB): gone after
    // it, written again by the next one.
    let registry_dir = dir.join("registry");
    let cargo_home = dir.join("cargo-home");
    let _ = std::fs::remove_dir_all(&registry_dir);
    registry::write(&registry_dir).map_err(io(&registry_dir))?;
    let cargo = Cargo {
        dir: &dir,
        tc,
        registry: &registry_dir,
        home: &cargo_home,
    };
    let progress = Progress::start(shown, &cargo);
    let built = cargo.build(&progress);
    progress.finish(built.is_ok());
    let _ = std::fs::remove_dir_all(&registry_dir);
    let _ = std::fs::remove_dir_all(&cargo_home);
    let (facade, seal) = built?;
    let deps = dir.join("target").join("debug").join("deps");
    let prebuilt = Prebuilt { facade, seal, deps };
    let text = format!(
        "{}\n{}\n{}\n",
        prebuilt.facade.display(),
        prebuilt.deps.display(),
        prebuilt.seal.display()
    );
    write(stamp, &text)?;
    prune(&root, &dir);
    Ok(prebuilt)
}

/// How long the cold build usually takes on 2 cores, for the student
/// waiting on it: 13.5-15.6 s measured at load 1.7-2.7 with the grader's
/// profile, 25 s at load 3, a minute beside a dozen other compilers.
const USUALLY: &str = "15-30 s (longer while other builds run)";

/// What a shown build prints while Cargo works: which crate it finished,
/// of how many, for how long.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    shown: bool,
    started: Instant,
}

impl Progress {
    fn start(shown: bool, cargo: &Cargo) -> Progress {
        use std::io::IsTerminal;
        let what = format!(
            "Building the model checker (loom and what it needs, from the grader's own copy), \
             once for this course folder; it usually takes {USUALLY}"
        );
        let terminal = shown && std::io::stderr().is_terminal();
        let bar = terminal.then(|| {
            let bar = indicatif::ProgressBar::new(registry::crates() as u64 + 1);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{prefix}\n  [{bar:24}] {pos}/{len} built, last {msg} ({elapsed})",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(format!("{what}."));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar.set_message("none yet");
            // The unpacking `planned` does is the build's first step anyway.
            if let Some(total) = cargo.planned() {
                bar.set_length(total as u64);
            }
            bar
        });
        if shown && bar.is_none() {
            eprintln!("{what}...");
        }
        Progress {
            bar,
            shown,
            started: Instant::now(),
        }
    }

    fn crate_built(&self, name: &str) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(name.to_string());
        }
    }

    fn finish(self, ok: bool) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if self.shown {
            let secs = self.started.elapsed().as_secs_f64();
            if ok {
                eprintln!("Built the model checker in {secs:.1} s; it is reused from now on.");
            } else {
                eprintln!("Building the model checker failed after {secs:.1} s.");
            }
        }
    }
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
    let seal = PathBuf::from(lines.next()?);
    (facade.is_file() && seal.is_file() && deps.is_dir()).then_some(Prebuilt { facade, seal, deps })
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

/// Cargo, run in the workspace `dir` on the embedded registry.
struct Cargo<'a> {
    dir: &'a Path,
    tc: &'a Toolchain,
    registry: &'a Path,
    home: &'a Path,
}

impl Cargo<'_> {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(cargo(self.tc));
        cmd.current_dir(self.dir)
            .args(args)
            .arg("--locked")
            .args(registry::cargo_args(self.registry))
            .env("RUSTC", &self.tc.rustc)
            .env("CARGO_TARGET_DIR", self.dir.join("target"))
            .env("CARGO_INCREMENTAL", "0")
            .env("CARGO_TERM_COLOR", "never")
            .stdin(Stdio::null());
        if registry::OFFLINE {
            // Cargo's own home, so the caller's settings and registry cache
            // take no part: the build is the same on every machine.
            cmd.env("CARGO_HOME", self.home);
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
        cmd
    }

    /// How many packages the build compiles, the facade included, as
    /// `cargo tree` counts them for this platform and the facade's
    /// features (it unpacks the sources, which the build then reuses).
    fn planned(&self) -> Option<usize> {
        let out = self
            .command(&[
                "tree",
                "--quiet",
                "-e",
                "normal,build",
                "--prefix",
                "none",
                "--format",
                "{p}",
            ])
            .output()
            .ok()
            .filter(|o| o.status.success())?;
        let text = String::from_utf8_lossy(&out.stdout);
        let packages: std::collections::BTreeSet<&str> = text
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        (!packages.is_empty()).then_some(packages.len())
    }

    /// Builds the workspace; returns the facade's and the seal's rlibs.
    fn build(&self, progress: &Progress) -> Result<(PathBuf, PathBuf), ModelError> {
        let mut cmd = self.command(&[
            "build",
            "--lib",
            "-p",
            "grader_conc",
            "-p",
            "grader_seal",
            "--message-format=json",
        ]);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let dir = self.dir;
        let failed = |message: String| ModelError::Build {
            dir: dir.to_path_buf(),
            message,
        };
        let mut child = cmd
            .spawn()
            .map_err(|e| failed(format!("cannot run cargo: {e}")))?;
        let mut stderr_pipe = child.stderr.take().expect("piped");
        let stderr_reader = std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = std::io::Read::read_to_end(&mut stderr_pipe, &mut text);
            text
        });
        let mut stdout = String::new();
        for line in
            std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().expect("piped")))
        {
            let Ok(line) = line else { break };
            if let Some(name) = built_crate(&line) {
                progress.crate_built(&name);
            }
            stdout.push_str(&line);
            stdout.push('\n');
        }
        let status = child
            .wait()
            .map_err(|e| failed(format!("cannot wait for cargo: {e}")))?;
        let stderr = stderr_reader.join().unwrap_or_default();
        if !status.success() {
            let stderr = String::from_utf8_lossy(&stderr);
            let tail: Vec<&str> = stderr
                .lines()
                .rev()
                .take(6)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            return Err(failed(tail.join("\n")));
        }
        let rlib = |name: &str| {
            artifact_rlib(&stdout, name).ok_or_else(|| {
                failed(format!(
                    "cargo built the workspace but named no rlib for {name}"
                ))
            })
        };
        Ok((rlib("grader_conc")?, rlib("grader_seal")?))
    }
}

/// The package a `compiler-artifact` message says was built (a library, not
/// a build script).
fn built_crate(json_line: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Target {
        name: String,
        kind: Vec<String>,
    }
    #[derive(serde::Deserialize)]
    struct Message {
        reason: String,
        target: Option<Target>,
    }
    let m: Message = serde_json::from_str(json_line).ok()?;
    let t = m.target?;
    (m.reason == "compiler-artifact" && !t.kind.iter().any(|k| k == "custom-build"))
        .then_some(t.name)
}

/// A crate's rlib, from cargo's `compiler-artifact` messages.
fn artifact_rlib(json_lines: &str, crate_name: &str) -> Option<PathBuf> {
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
                && m.target.as_ref().is_some_and(|t| t.name == crate_name)
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
            artifact_rlib(lines, "grader_conc"),
            Some(PathBuf::from("/t/libgrader_conc-2.rlib"))
        );
        assert_eq!(artifact_rlib(lines, "grader_seal"), None);
    }

    #[test]
    fn only_libraries_count_as_built_crates() {
        let lib = r#"{"reason":"compiler-artifact","target":{"name":"loom","kind":["lib"]},"filenames":[]}"#;
        let script = r#"{"reason":"compiler-artifact","target":{"name":"build-script-build","kind":["custom-build"]},"filenames":[]}"#;
        let ran = r#"{"reason":"build-script-executed","package_id":"x"}"#;
        assert_eq!(built_crate(lib).as_deref(), Some("loom"));
        assert_eq!(built_crate(script), None);
        assert_eq!(built_crate(ran), None);
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
