//! Timing perturbation: the embedded `LD_PRELOAD` shim and the profiles it
//! runs a student's program under.
//!
//! A program that waits for its threads with `sleep` is right at normal
//! timing, so running it again is not enough to catch it. Measured on a
//! 2-core machine (../shared/research/perturb.md): CPU pinning, `nice`, the
//! idle class and CPU hogs left the lesson's sleep example correct in 100% of
//! runs; sleeps skipped plus a late thread start broke it in 100%. The shim
//! (`src/shim/*.c`, built by `build.rs`) does that from inside the process,
//! without real-time delays: in a perturbed run, time is virtual (a sleep or
//! a timed wait returns at once and moves the program's clocks forward by
//! what it skipped), and a new thread starts only when every running thread
//! waits by synchronization, or before its spawner goes on. It also writes
//! the trace that [`crate::trace`] reads.
//!
//! This module owns the shim's bytes, puts them on disk once per content
//! hash ([`shim_path`]), and describes one run's configuration
//! ([`Profile`], [`config`]). [`channel`] hands the configuration and the
//! trace to the program by inherited descriptors: the program's
//! environment, argv and files are the same in a normal and a perturbed run
//! (no `GRADER_*` variable, no path it could find). `LD_PRELOAD` names the
//! same shim in every run. Only the student's binary gets the shim: a
//! preloaded `cargo` loads it into every process it starts (measured: build
//! time 0.28 s → 0.64 s).
//!
//! A statically linked binary ignores `LD_PRELOAD` silently; the shim's
//! `init` line is how the caller notices ([`crate::trace::Trace::init`]).

#[cfg(target_os = "linux")]
pub mod channel;

use serde::Deserialize;
use std::io;
use std::path::{Path, PathBuf};

/// The compiled shim, built by `build.rs` for Linux targets.
#[cfg(not(grader_no_shim))]
const SHIM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libgrader_perturb.so"));
#[cfg(grader_no_shim)]
const SHIM: &[u8] = &[];

/// Whether this build of the grader carries the shim (Linux only).
pub const SHIM_AVAILABLE: bool = !SHIM.is_empty();

/// The descriptor the shim reads its configuration from (`CONFIG_FD` in
/// `src/shim/shim.h`): a pipe, closed by the shim before `main`.
pub const CONFIG_FD: i32 = 4;
/// The descriptor the shim sends the trace to (`LOG_FD` in the shim): one
/// end of a socket pair, whose other end the grader reads.
pub const LOG_FD: i32 = 5;

/// CPU time a spinning program may use before its held threads go (a spin
/// on an atomic flag, `is_finished`, a `recv_timeout` retry loop). CPU time,
/// so that a loaded machine does not let a thread go early: a wrong program
/// uses well under a millisecond between its spawn and its exit.
pub const SPIN_CPU_US: u64 = 5_000;
/// Real time an idle program that the shim does not see waiting keeps its
/// threads held (a wait the shim does not wrap).
pub const IDLE_MS: u64 = 500;

/// The shim's file name carries a hash of its bytes, so that graders of
/// different versions sharing a cache never load each other's shim (the
/// bytes are compared too before a file is reused): the first 64 bits of
/// their SHA-256, as the other keys on disk are.
fn shim_hash() -> u64 {
    static HASH: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *HASH.get_or_init(|| {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(SHIM);
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first)
    })
}

/// [`shim_hash`] where a file name is formatted (`{SHIM_HASH:016x}`).
struct ShimHash;

impl std::fmt::LowerHex for ShimHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::LowerHex::fmt(&shim_hash(), f)
    }
}

const SHIM_HASH: ShimHash = ShimHash;

/// Writes the shim to `cache_dir/shim/libgrader_perturb-<hash>.so` unless an
/// identical file is already there, and returns its absolute path.
///
/// The file is written to a temporary name and renamed into place, so
/// concurrent graders (batch workers, several `grader check`s) never see a
/// partial library. Errors: the shim is not part of this build
/// (`Unsupported`), the path cannot be used in `LD_PRELOAD`, which splits on
/// spaces and colons (`InvalidInput`), or the file system failed.
pub fn shim_path(cache_dir: &Path) -> Result<PathBuf, io::Error> {
    if !SHIM_AVAILABLE {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the timing shim needs LD_PRELOAD, which only Linux has",
        ));
    }
    let dir = std::path::absolute(cache_dir.join("shim"))?;
    let path = dir.join(format!("libgrader_perturb-{SHIM_HASH:016x}.so"));
    let text = path.to_string_lossy();
    if text.contains([' ', ':', '\t', '\n']) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{text}: LD_PRELOAD cannot name a path with spaces or colons; \
                 use a cache folder without them"
            ),
        ));
    }
    if std::fs::read(&path).is_ok_and(|bytes| bytes == SHIM) {
        return Ok(path);
    }
    std::fs::create_dir_all(&dir)?;
    let temp = dir.join(format!(
        ".libgrader_perturb-{SHIM_HASH:016x}.{}.{}.tmp",
        std::process::id(),
        unique_suffix()
    ));
    let written = std::fs::write(&temp, SHIM).and_then(|()| std::fs::rename(&temp, &path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.map(|()| path)
}

/// Distinguishes temporary files of threads in one process.
fn unique_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// When the threads of a perturbed run may start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Start {
    /// When the kernel runs them (only time is virtual).
    Normal,
    /// A new thread waits until every running thread waits by
    /// synchronization (or has ended); held threads go one at a time,
    /// oldest first: the last-spawned thread starts latest.
    #[default]
    Late,
    /// The same, newest first.
    Reverse,
    /// A new thread runs until it waits or ends before its spawner goes on.
    First,
}

impl Start {
    fn key(self) -> &'static str {
        match self {
            Start::Normal => "normal",
            Start::Late => "late",
            Start::Reverse => "reverse",
            Start::First => "first",
        }
    }
}

/// One perturbed run. Time is always virtual in a perturbed run: sleeps
/// and timed waits (`recv_timeout`, `park_timeout`, `wait_timeout`) return
/// at once and move the program's clocks forward by what they skipped, and
/// `yield_now` gives no time. Declared in an exercise spec as, for example:
///
/// ```toml
/// profiles = [{ name = "late", start = "late" }, { name = "first", start = "first" }]
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Names the profile in messages ("under profile late ...").
    pub name: String,
    /// When new threads start (default: `late`).
    #[serde(default)]
    pub start: Start,
}

/// The perturbed runs that, with the normal one, separated every wrong
/// program from every correct one in the measurements (idle, and beside two
/// CPU hogs; the note of issue 11 has the table):
///
/// - `late`: threads start one at a time, oldest first, only when every
///   running thread waits. Catches every wait by time or by luck (a sleep,
///   a timed wait, `yield_now`, an `Instant` loop, a capped `is_finished`
///   poll, no wait at all), joining all threads but the last, and output
///   ordered by sleeps against spawn order.
/// - `reverse`: the same, newest first. Catches output ordered by sleeps in
///   spawn order.
/// - `first`: a new thread runs until it waits or ends before its spawner
///   goes on. Catches a thread that relies on a sleep to come after `main`;
///   and it is the run where a program's threads have every chance to
///   finish, which decides whether wrong output is the program's answer or
///   work lost by its timing.
///
/// None of them waits real time: a correct program's run costs what a
/// normal run does, or [`SPIN_CPU_US`] more where it spins.
pub fn default_profiles() -> Vec<Profile> {
    [
        ("late", Start::Late),
        ("reverse", Start::Reverse),
        ("first", Start::First),
    ]
    .into_iter()
    .map(|(name, start)| Profile {
        name: name.into(),
        start,
    })
    .collect()
}

impl Profile {
    /// Checks what the spec cannot express in types.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("a profile needs a name".into());
        }
        Ok(())
    }

    /// What the profile does, for messages.
    pub fn describe(&self) -> String {
        let threads = match self.start {
            Start::Normal => "threads start as usual",
            Start::Late => "each thread starts only once every other waits, oldest first",
            Start::Reverse => "each thread starts only once every other waits, newest first",
            Start::First => "each new thread runs before the code that spawned it goes on",
        };
        format!("sleeps and timeouts skipped, {threads}")
    }
}

/// The shim's configuration for one run: `None` is the normal run, traced
/// only. `log_max` bounds the trace (keep it under the run's file-size
/// limit: the trace is a file of the program's).
pub fn config(profile: Option<&Profile>, log_max: u64) -> String {
    let mut text = format!("log=1 log_max={log_max}");
    if let Some(p) = profile {
        text.push_str(&format!(
            " vt=1 start={} cpu_us={SPIN_CPU_US} idle_ms={IDLE_MS}",
            p.start.key()
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_profiles_are_the_measured_three() {
        let profiles = default_profiles();
        let names: Vec<_> = profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["late", "reverse", "first"]);
        for profile in &profiles {
            profile.validate().unwrap();
        }
    }

    #[test]
    fn config_names_the_perturbation_only_in_perturbed_runs() {
        assert_eq!(config(None, 4096), "log=1 log_max=4096");
        let first = &default_profiles()[2];
        let text = config(Some(first), 8192);
        assert!(
            text.starts_with("log=1 log_max=8192 vt=1 start=first "),
            "{text}"
        );
        assert!(text.contains(&format!("cpu_us={SPIN_CPU_US}")));
    }

    #[test]
    fn profiles_deserialize_from_spec_toml() {
        #[derive(Deserialize)]
        struct Spec {
            profile: Vec<Profile>,
        }
        let spec: Spec = toml::from_str(
            r#"
            [[profile]]
            name = "a"
            start = "reverse"
            [[profile]]
            name = "b"
            "#,
        )
        .unwrap();
        assert_eq!(spec.profile[0].start, Start::Reverse);
        assert_eq!(spec.profile[1].start, Start::Late);
        assert!(toml::from_str::<Spec>("[[profile]]\nname = \"c\"\nstart = \"soon\"").is_err());
        // The real-time knobs of earlier versions are gone, not ignored.
        assert!(toml::from_str::<Spec>("[[profile]]\nname = \"c\"\nsleep_scale = 0").is_err());
    }

    #[test]
    fn validate_refuses_a_nameless_profile() {
        let mut profile = default_profiles().remove(0);
        profile.name = " ".into();
        assert!(profile.validate().is_err());
    }

    #[test]
    fn describe_reads_well() {
        assert_eq!(
            default_profiles()[0].describe(),
            "sleeps and timeouts skipped, each thread starts only once every other waits, oldest first"
        );
    }

    #[cfg(not(grader_no_shim))]
    #[test]
    fn shim_is_written_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("grader-shim-test-{}", std::process::id()));
        let first = shim_path(&dir).unwrap();
        assert!(first.is_absolute());
        assert_eq!(std::fs::read(&first).unwrap(), SHIM);
        let modified = std::fs::metadata(&first).unwrap().modified().unwrap();
        let second = shim_path(&dir).unwrap();
        assert_eq!(first, second);
        assert_eq!(
            std::fs::metadata(&second).unwrap().modified().unwrap(),
            modified
        );
        // A damaged copy is replaced.
        std::fs::write(&first, b"not a library").unwrap();
        assert_eq!(std::fs::read(shim_path(&dir).unwrap()).unwrap(), SHIM);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn shim_path_refuses_what_ld_preload_cannot_name() {
        if SHIM_AVAILABLE {
            let err = shim_path(Path::new("/tmp/a b")).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        } else {
            let err = shim_path(Path::new("/tmp")).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::Unsupported);
        }
    }
}

#[cfg(all(test, not(grader_no_shim)))]
mod live_tests;
