//! Timing perturbation: the embedded `LD_PRELOAD` shim and the profiles it
//! runs a student's program under.
//!
//! A program that waits for its threads with `sleep` is right at normal
//! timing, so running it again is not enough to catch it. Measured on a
//! 2-core machine (../shared/research/perturb.md): CPU pinning, `nice`, the
//! idle class and CPU hogs left the lesson's sleep example correct in 100% of
//! runs; sleeps scaled to 0 plus a late thread start broke it in 100%. The
//! shim (`src/shim/perturb.c`, built by `build.rs`) does that from inside
//! the process: it scales or inverts sleeps, delays thread starts with real
//! time, and writes the trace that [`crate::trace`] reads.
//!
//! This module owns the shim's bytes, puts them on disk once per content
//! hash ([`shim_path`]), and turns a [`Profile`] into the environment of one
//! run ([`Profile::env`], [`trace_only_env`]). Running the program and
//! judging its output belong to the caller. Only the student's binary may get
//! these variables: a preloaded `cargo` loads the shim into every process it
//! starts (measured: build time 0.28 s → 0.64 s).
//!
//! A statically linked binary ignores `LD_PRELOAD` silently; the shim's
//! `init` line is how the caller notices ([`crate::trace::Trace::init`]).

use serde::Deserialize;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// The compiled shim, built by `build.rs` for Linux targets.
#[cfg(not(grader_no_shim))]
const SHIM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libgrader_perturb.so"));
#[cfg(grader_no_shim)]
const SHIM: &[u8] = &[];

/// Whether this build of the grader carries the shim (Linux only).
pub const SHIM_AVAILABLE: bool = !SHIM.is_empty();

/// Environment variable naming the trace file.
pub const LOG_VAR: &str = "GRADER_PERTURB_LOG";

/// FNV-1a, 64 bits: a stable content hash for the shim's file name, so that
/// graders of different versions sharing a cache never load each other's
/// shim.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

const SHIM_HASH: u64 = fnv1a(SHIM);

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

/// One perturbed run: how sleeps and thread starts are distorted.
///
/// Declared in an exercise spec as, for example:
///
/// ```toml
/// profiles = [{ name = "late-start", sleep_scale = 0, spawn_delay_ms = 20 }]
/// ```
///
/// `invert` and `spawn_delay_desc` take a pair, `[40, 100]` or `"40:100"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Names the profile in messages ("under profile x0-desc ...").
    pub name: String,
    /// Every sleep lasts this many times its request; 0 fast-forwards them.
    #[serde(default)]
    pub sleep_scale: Option<f64>,
    /// `(M, m)`: a sleep of `d` ms lasts `M·m/(m+d)` ms, so longer sleeps
    /// become shorter ones (0 stays 0). Applied before `sleep_scale`.
    #[serde(default, deserialize_with = "pair::option")]
    pub invert: Option<(u64, u64)>,
    /// Every new thread waits this many ms of real time before its body.
    #[serde(default)]
    pub spawn_delay_ms: Option<u64>,
    /// `(S, K)`: the `i`-th spawned thread (`i < K`) waits an extra
    /// `(K−i)·S` ms, so earlier-spawned threads start later.
    #[serde(default, deserialize_with = "pair::option")]
    pub spawn_delay_desc: Option<(u64, u64)>,
}

/// The three perturbed runs that, with a baseline run, separated every
/// wrong program from every correct one in the measurements (50 trials
/// each, idle, beside 2 CPU hogs, and on one CPU):
///
/// - `x0-desc`: sleeps ×0, the first two threads start 20 and 10 ms late
///   (the first spawned starts last). Caught the sleep example, the short
///   sleep, sleep-ordered output and no wait at all.
/// - `invert-delay5`: sleeps inverted with `40:100`, every thread 5 ms late.
///   Catches output ordered by sleeps, whichever thread was spawned first.
///   It catches the sleep example only because a 1 s sleep shrinks to
///   3.6 ms, under the 5 ms start delay (any sleep above 700 ms does): a
///   1.4 ms margin, which held in 47 of 50 runs beside two CPU hogs. The
///   `x0` profiles carry that case.
/// - `x0-delay20`: sleeps ×0, every thread 20 ms late. The only one that
///   delays every thread, for the many-threads mistakes `desc` misses.
///
/// A correct program costs about 20 ms per perturbed run, since its own
/// sleeps are fast-forwarded (or capped at 40 ms by the inversion).
pub fn default_profiles() -> Vec<Profile> {
    vec![
        Profile {
            name: "x0-desc".into(),
            sleep_scale: Some(0.0),
            invert: None,
            spawn_delay_ms: None,
            spawn_delay_desc: Some((10, 2)),
        },
        Profile {
            name: "invert-delay5".into(),
            sleep_scale: None,
            invert: Some((40, 100)),
            spawn_delay_ms: Some(5),
            spawn_delay_desc: None,
        },
        Profile {
            name: "x0-delay20".into(),
            sleep_scale: Some(0.0),
            invert: None,
            spawn_delay_ms: Some(20),
            spawn_delay_desc: None,
        },
    ]
}

impl Profile {
    /// Checks the values the shim would refuse (it ignores a bad variable and
    /// notes it in its `init` line, which would make the run unperturbed).
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("a profile needs a name".into());
        }
        if let Some(scale) = self.sleep_scale
            && !(scale.is_finite() && (0.0..1e9).contains(&scale))
        {
            return Err(format!(
                "profile {}: sleep_scale must be a number from 0 up, got {scale}",
                self.name
            ));
        }
        if let Some((_, knee)) = self.invert
            && knee == 0
        {
            return Err(format!(
                "profile {}: invert = [M, m] needs m > 0",
                self.name
            ));
        }
        let hour = 3_600_000;
        if self.spawn_delay_ms.is_some_and(|ms| ms > hour)
            || self.spawn_delay_desc.is_some_and(|(step, _)| step > hour)
        {
            return Err(format!(
                "profile {}: a start delay above one hour",
                self.name
            ));
        }
        if self.sleep_scale.is_none()
            && self.invert.is_none()
            && self.spawn_delay_ms.is_none()
            && self.spawn_delay_desc.is_none()
        {
            return Err(format!("profile {} perturbs nothing", self.name));
        }
        Ok(())
    }

    /// The environment of one run under this profile: `LD_PRELOAD` of the
    /// shim, the trace file, and the perturbation variables. `shim` and
    /// `log` must be absolute (the shim ignores a relative log path).
    pub fn env(&self, shim: &Path, log: &Path) -> Vec<(String, String)> {
        let mut env = trace_only_env(shim, log);
        if let Some(scale) = self.sleep_scale {
            env.push(("GRADER_SLEEP_SCALE".into(), scale.to_string()));
        }
        if let Some((max, knee)) = self.invert {
            env.push(("GRADER_SLEEP_INVERT".into(), format!("{max}:{knee}")));
        }
        if let Some(ms) = self.spawn_delay_ms {
            env.push(("GRADER_SPAWN_DELAY_MS".into(), ms.to_string()));
        }
        if let Some((step, count)) = self.spawn_delay_desc {
            env.push(("GRADER_SPAWN_DELAY_DESC".into(), format!("{step}:{count}")));
        }
        env
    }

    /// What the profile does, for messages: "sleeps ×0, threads 1–2 start
    /// 20–10 ms late".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some((max, knee)) = self.invert {
            parts.push(format!(
                "sleeps inverted (a sleep of d ms lasts {max}·{knee}/({knee}+d) ms)"
            ));
        }
        if let Some(scale) = self.sleep_scale {
            parts.push(if scale == 0.0 {
                "sleeps skipped".to_string()
            } else {
                format!("sleeps ×{scale}")
            });
        }
        if let Some(ms) = self.spawn_delay_ms {
            parts.push(format!("every thread starts {ms} ms late"));
        }
        if let Some((step, count)) = self.spawn_delay_desc
            && count > 0
            && step > 0
        {
            let mut text = String::from("the first-spawned threads start late (");
            for i in 0..count.min(4) {
                let _ = write!(
                    text,
                    "{}thread {} +{} ms",
                    if i > 0 { ", " } else { "" },
                    i + 1,
                    (count - i) * step
                );
            }
            if count > 4 {
                text.push_str(", …");
            }
            text.push(')');
            parts.push(text);
        }
        if parts.is_empty() {
            "no perturbation".into()
        } else {
            parts.join(", ")
        }
    }
}

/// The environment of a baseline run that only records the trace: sleeps
/// and thread starts are left alone.
pub fn trace_only_env(shim: &Path, log: &Path) -> Vec<(String, String)> {
    vec![
        ("LD_PRELOAD".into(), shim.to_string_lossy().into_owned()),
        (LOG_VAR.into(), log.to_string_lossy().into_owned()),
    ]
}

/// `[a, b]` or `"a:b"` for the pair-valued profile fields.
mod pair {
    use serde::{Deserialize, Deserializer, de::Error};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Pair {
        List(u64, u64),
        Text(String),
    }

    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<(u64, u64)>, D::Error> {
        match Pair::deserialize(d)? {
            Pair::List(a, b) => Ok(Some((a, b))),
            Pair::Text(text) => text
                .split_once(':')
                .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
                .map(Some)
                .ok_or_else(|| {
                    D::Error::custom(format!("expected \"A:B\" or [A, B], got {text:?}"))
                }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_profiles_are_the_measured_three() {
        let profiles = default_profiles();
        let names: Vec<_> = profiles.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["x0-desc", "invert-delay5", "x0-delay20"]);
        for profile in &profiles {
            profile.validate().unwrap();
        }
    }

    #[test]
    fn env_names_the_shim_log_and_perturbation() {
        let profile = &default_profiles()[0];
        let env = profile.env(Path::new("/c/shim.so"), Path::new("/r/trace.log"));
        let get = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        assert_eq!(get("LD_PRELOAD"), Some("/c/shim.so"));
        assert_eq!(get(LOG_VAR), Some("/r/trace.log"));
        assert_eq!(get("GRADER_SLEEP_SCALE"), Some("0"));
        assert_eq!(get("GRADER_SPAWN_DELAY_DESC"), Some("10:2"));
        assert_eq!(get("GRADER_SLEEP_INVERT"), None);

        let profile = &default_profiles()[1];
        let env = profile.env(Path::new("/s"), Path::new("/l"));
        let get = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        assert_eq!(get("GRADER_SLEEP_INVERT"), Some("40:100"));
        assert_eq!(get("GRADER_SPAWN_DELAY_MS"), Some("5"));

        let base = trace_only_env(Path::new("/s"), Path::new("/l"));
        assert_eq!(base.len(), 2);
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
            sleep_scale = 0.5
            invert = [40, 100]
            [[profile]]
            name = "b"
            spawn_delay_ms = 20
            spawn_delay_desc = "10:2"
            "#,
        )
        .unwrap();
        assert_eq!(spec.profile[0].sleep_scale, Some(0.5));
        assert_eq!(spec.profile[0].invert, Some((40, 100)));
        assert_eq!(spec.profile[1].spawn_delay_ms, Some(20));
        assert_eq!(spec.profile[1].spawn_delay_desc, Some((10, 2)));
        assert!(toml::from_str::<Spec>("[[profile]]\nname = \"c\"\ninvert = \"x\"").is_err());
        assert!(toml::from_str::<Spec>("[[profile]]\nname = \"c\"\nsleep-scale = 1").is_err());
    }

    #[test]
    fn validate_refuses_what_the_shim_would_ignore() {
        let mut profile = default_profiles().remove(0);
        profile.sleep_scale = Some(-1.0);
        assert!(profile.validate().is_err());
        profile.sleep_scale = Some(f64::NAN);
        assert!(profile.validate().is_err());
        let empty = Profile {
            name: "none".into(),
            sleep_scale: None,
            invert: None,
            spawn_delay_ms: None,
            spawn_delay_desc: None,
        };
        assert!(empty.validate().is_err());
    }

    #[test]
    fn describe_reads_well() {
        let text = default_profiles()[0].describe();
        assert_eq!(
            text,
            "sleeps skipped, the first-spawned threads start late (thread 1 +20 ms, thread 2 +10 ms)"
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

/// The shim in real processes: student-like programs compiled with `rustc`
/// and run under each profile, their traces parsed and symbolized.
#[cfg(all(test, not(grader_no_shim)))]
mod live_tests {
    use super::*;
    use crate::symbolize::{is_toolchain_source, sleep_site};
    use crate::trace::Trace;
    use std::process::Command;
    use std::time::{Duration, Instant};

    /// The lesson's sleep example. The full second matters: `invert-delay5`
    /// shortens a sleep of d ms to 4000/(100+d) ms, below its 5 ms start
    /// delay only for d > 700.
    const SLEEP_EXAMPLE: &str = r#"
use std::thread;
use std::time::Duration;

fn main() {
    thread::spawn(|| {
        println!("Hello from thread");
    });
    println!("Hello from main");
    thread::sleep(Duration::from_millis(1000));
    println!("Main function finished");
}
"#;
    const SLEEP_LINE: u32 = 10;

    const JOINED: &str = r#"
fn main() {
    let handle = std::thread::spawn(|| println!("Hello from thread"));
    println!("Hello from main");
    handle.join().unwrap();
    println!("Main function finished");
}
"#;

    const MANY: &str = r#"
fn main() {
    let handles: Vec<_> = (0..1000).map(|i| std::thread::spawn(move || i * 2)).collect();
    let sum: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    println!("{sum}");
}
"#;

    struct Run {
        stdout: Vec<u8>,
        elapsed: Duration,
        trace: Trace,
    }

    fn compile(dir: &Path, name: &str, source: &str, extra: &[&str]) -> PathBuf {
        let src = dir.join(format!("{name}.rs"));
        std::fs::write(&src, source).unwrap();
        let exe = dir.join(name);
        let output = Command::new("rustc")
            .args(["--edition", "2021", "-C", "debuginfo=1"])
            .args(extra)
            .arg(&src)
            .arg("-o")
            .arg(&exe)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        exe
    }

    fn run(exe: &Path, env: &[(String, String)], log: &Path) -> Run {
        let _ = std::fs::remove_file(log);
        let started = Instant::now();
        let output = Command::new(exe)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        assert!(output.status.success());
        Run {
            stdout: output.stdout,
            elapsed,
            trace: Trace::read(log).unwrap(),
        }
    }

    #[test]
    fn profiles_expose_the_sleep_example_and_spare_the_joined_one() {
        let dir = tempfile::tempdir().unwrap();
        let shim = shim_path(dir.path()).unwrap();
        let log = dir.path().join("trace.log");
        let sleeper = compile(dir.path(), "sleeper", SLEEP_EXAMPLE, &[]);
        let joined = compile(dir.path(), "joined", JOINED, &[]);

        // Baseline: right output, and the trace says why it is right only by luck.
        let base = run(&sleeper, &trace_only_env(&shim, &log), &log);
        let mut lines: Vec<_> = String::from_utf8_lossy(&base.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(lines.pop().as_deref(), Some("Main function finished"));
        lines.sort();
        assert_eq!(lines, ["Hello from main", "Hello from thread"]);
        assert!(base.elapsed >= Duration::from_millis(1000));
        let trace = &base.trace;
        assert!(trace.loaded_into(&sleeper));
        assert_eq!(trace.sleeps[0].requested_ns, 1_000_000_000);
        for line in trace.line_writers(1, &base.stdout) {
            let expected = if line.text == "Hello from thread" {
                1
            } else {
                0
            };
            assert_eq!(line.writer(), Some(expected), "{}", line.text);
        }
        // At normal timing the thread may well be done before main sleeps,
        // so the overlap is asserted on the perturbed runs below, where
        // the start delay guarantees it.

        for profile in default_profiles() {
            let wrong = run(&sleeper, &profile.env(&shim, &log), &log);
            // Fast-forwarded: far below the second the program asked for.
            assert!(
                wrong.elapsed < Duration::from_millis(500),
                "{:?}",
                wrong.elapsed
            );
            let sleep = &wrong.trace.sleeps[0];
            assert!(sleep.effective_ns < 5_000_000, "{sleep:?}");
            // Skipped sleeps plus a late start lose the thread's line every
            // time (50/50 beside two CPU hogs). The inverted profile's margin
            // is 1.4 ms (a 3.6 ms sleep against a 5 ms start delay): it lost
            // the line in 47 of those 50, so it is not asserted here.
            if profile.sleep_scale == Some(0.0) {
                let text = String::from_utf8_lossy(&wrong.stdout);
                assert_eq!(
                    text, "Hello from main\nMain function finished\n",
                    "profile {}",
                    profile.name
                );
                assert_eq!(
                    wrong.trace.alive_at_exit(),
                    Some(vec![1]),
                    "profile {}",
                    profile.name
                );
                let waits = wrong.trace.sleeps_while_running();
                assert_eq!(waits.len(), 1);
                assert_eq!(waits[0].never_joined, [1]);
                assert_eq!(waits[0].sleep.requested_ns, 1_000_000_000);
                let init = wrong.trace.init.as_ref().unwrap();
                match sleep_site(init, &waits[0].sleep, |f| !is_toolchain_source(f)) {
                    Ok(Some(site)) => {
                        assert!(site.file.ends_with("sleeper.rs"), "{site}");
                        assert_eq!(site.line, SLEEP_LINE);
                    }
                    Ok(None) => panic!("no source line for the sleep"),
                    // Without binutils there is no line to give.
                    Err(error) => assert_eq!(error.kind(), io::ErrorKind::NotFound),
                }
            }

            let right = run(&joined, &profile.env(&shim, &log), &log);
            assert_eq!(
                String::from_utf8_lossy(&right.stdout).lines().last(),
                Some("Main function finished"),
                "profile {}",
                profile.name
            );
            assert_eq!(right.trace.alive_at_exit(), Some(vec![]));
            assert_eq!(right.trace.threads[1].joined_by, Some(0));
            assert!(right.trace.threads[1].start_delay_ns >= 5_000_000);
        }
    }

    #[test]
    fn a_thousand_threads_are_traced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let shim = shim_path(dir.path()).unwrap();
        let log = dir.path().join("trace.log");
        let many = compile(dir.path(), "many", MANY, &[]);
        let profile = &default_profiles()[2];
        let run = run(&many, &profile.env(&shim, &log), &log);
        assert_eq!(String::from_utf8_lossy(&run.stdout), "999000\n");
        let trace = &run.trace;
        assert_eq!(trace.ignored_lines, 0);
        assert_eq!(trace.spawned().len(), 1000);
        assert!(
            trace
                .spawned()
                .iter()
                .all(|t| t.joined_by == Some(0) && t.finished.is_some())
        );
        assert_eq!(trace.spawned_before_first_join(0), 1000);
        assert!(!trace.sequential_join_per_spawn());
        assert_eq!(trace.alive_at_exit(), Some(vec![]));
    }

    #[test]
    fn a_static_binary_is_detectable() {
        let dir = tempfile::tempdir().unwrap();
        let shim = shim_path(dir.path()).unwrap();
        let log = dir.path().join("trace.log");
        let src = dir.path().join("probe.rs");
        std::fs::write(&src, JOINED).unwrap();
        let exe = dir.path().join("probe");
        let built = Command::new("rustc")
            .args(["--edition", "2021", "-C", "target-feature=+crt-static"])
            .arg(&src)
            .arg("-o")
            .arg(&exe)
            .output()
            .unwrap();
        if !built.status.success() {
            // No static C library on this machine: nothing to detect.
            return;
        }
        let run = run(&exe, &default_profiles()[0].env(&shim, &log), &log);
        assert!(run.trace.init.is_none());
        assert!(!run.trace.loaded_into(&exe));
    }
}
