//! The shim in real processes: student-like programs compiled with `rustc`
//! and run by the grader's own runner under each profile, their traces
//! read back through the channel, parsed and symbolized.

use super::channel::Channel;
use super::*;
use crate::checks::facts::{self, Finding, TimeWait};
use crate::run::{self, Limits, Request};
use crate::symbolize::{is_toolchain_source, sleep_site};
use crate::trace::Trace;
use std::process::Command;
use std::time::{Duration, Instant};

/// The lesson's sleep example.
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

/// Everything a program can see of its run through safe `std`, and the
/// length of a 2 ms sleep and a 1 s timed wait as it measures them.
const LOOKS_AROUND: &str = r#"
use std::time::{Duration, Instant, SystemTime};
fn main() {
    let mut env: Vec<String> = std::env::vars_os().map(|(k, v)| format!("{k:?}={v:?}")).collect();
    env.sort();
    println!("env {env:?}");
    println!("args {:?}", std::env::args_os().collect::<Vec<_>>());
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd").into_iter().flatten()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    fds.sort();
    println!("fds {fds:?}");
    let t = Instant::now();
    let w = SystemTime::now();
    std::thread::sleep(Duration::from_millis(2));
    println!("sleep_us {} {}", t.elapsed().as_micros(), w.elapsed().unwrap().as_micros());
    let (_tx, rx) = std::sync::mpsc::channel::<()>();
    let t = Instant::now();
    let _ = rx.recv_timeout(Duration::from_secs(1));
    println!("timeout_ms {}", t.elapsed().as_millis());
}
"#;

struct Run {
    stdout: String,
    elapsed: Duration,
    trace: Trace,
}

fn compile(dir: &Path, name: &str, source: &str, extra: &[&str]) -> Option<PathBuf> {
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
    output.status.success().then_some(exe)
}

fn limits() -> Limits {
    Limits {
        wall: Duration::from_secs(20),
        cpu: Duration::from_secs(20),
        output_bytes: 1 << 20,
        file_bytes: 16 << 20,
        address_space_bytes: 8 << 30,
        memory_bytes: 2 << 30,
        tasks: 1100,
    }
}

/// Runs `exe` as the grader does: the shim preloaded, its configuration
/// and trace handed over by descriptor.
fn run(exe: &Path, dir: &Path, profile: Option<&Profile>) -> Run {
    run_in(
        exe,
        dir,
        profile,
        run::Request::new(exe, dir, limits()).selection,
    )
}

fn run_in(
    exe: &Path,
    dir: &Path,
    profile: Option<&Profile>,
    selection: crate::sandbox::Selection,
) -> Run {
    let shim = shim_path(dir).unwrap();
    let channel = Channel::new(&config(profile, 8 << 20)).unwrap();
    let mut req = Request::new(exe, dir, limits()).env("LD_PRELOAD", shim.as_os_str());
    req.selection = selection;
    for (fd, at) in channel.fds() {
        req = req.inherit(fd, at);
    }
    req = req.collect(channel.trace_socket());
    let started = Instant::now();
    let outcome = run::run(&req).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        outcome.termination,
        run::Termination::Exited(0),
        "{}",
        outcome.stderr_text()
    );
    Run {
        stdout: outcome.stdout_text(),
        elapsed,
        trace: Trace::parse(&outcome.collected),
    }
}

fn profile(name: &str) -> Profile {
    default_profiles()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap()
}

#[test]
fn profiles_expose_the_sleep_example_and_spare_the_joined_one() {
    let dir = tempfile::tempdir().unwrap();
    let sleeper = compile(dir.path(), "sleeper", SLEEP_EXAMPLE, &[]).unwrap();
    let joined = compile(dir.path(), "joined", JOINED, &[]).unwrap();

    // Normal run: right output, traced, the sleep really slept.
    let base = run(&sleeper, dir.path(), None);
    let mut lines: Vec<_> = base.stdout.lines().collect();
    assert_eq!(lines.pop(), Some("Main function finished"));
    lines.sort();
    assert_eq!(lines, ["Hello from main", "Hello from thread"]);
    assert!(base.elapsed >= Duration::from_millis(1000));
    assert!(base.trace.loaded_into(&sleeper));
    assert!(!base.trace.init.as_ref().unwrap().virtual_time);
    assert_eq!(base.trace.sleeps[0].effective_ns, 1_000_000_000);

    for held in ["late", "reverse"] {
        let wrong = run(&sleeper, dir.path(), Some(&profile(held)));
        // Skipped, not slept; and the thread never started.
        assert!(
            wrong.elapsed < Duration::from_millis(500),
            "{:?}",
            wrong.elapsed
        );
        assert_eq!(wrong.stdout, "Hello from main\nMain function finished\n");
        assert_eq!(wrong.trace.sleeps[0].effective_ns, 0);
        assert_eq!(wrong.trace.exit.unwrap().held, 1);
        let Some(Finding::WaitedByTime {
            how: TimeWait::Sleep(sleep),
            threads,
        }) = facts::find(&wrong.trace)
        else {
            panic!("{:?}", facts::find(&wrong.trace));
        };
        assert_eq!(threads, [1]);
        assert_eq!(sleep.requested_ns, 1_000_000_000);
        let init = wrong.trace.init.as_ref().unwrap();
        match sleep_site(init, &sleep, |f| !is_toolchain_source(f)) {
            Ok(Some(site)) => {
                assert!(site.file.ends_with("sleeper.rs"), "{site}");
                assert_eq!(site.line, SLEEP_LINE);
            }
            Ok(None) => panic!("no source line for the sleep"),
            // Without binutils there is no line to give.
            Err(error) => assert_eq!(error.kind(), io::ErrorKind::NotFound),
        }
    }
    // The thread runs before main goes on: the example's output is right.
    let first = run(&sleeper, dir.path(), Some(&profile("first")));
    assert_eq!(
        first.stdout,
        "Hello from thread\nHello from main\nMain function finished\n"
    );

    for p in default_profiles() {
        let right = run(&joined, dir.path(), Some(&p));
        assert_eq!(
            right.stdout.lines().last(),
            Some("Main function finished"),
            "profile {}",
            p.name
        );
        assert_eq!(right.trace.alive_at_exit(), Some(vec![]));
        assert_eq!(right.trace.threads[1].joined_by, Some(0));
        assert_eq!(facts::find(&right.trace), None);
        if p.start != Start::First {
            // Held until main waited in its join, not for a fixed time.
            assert_eq!(
                right.trace.threads[1].released_by.as_deref(),
                Some("quiescent")
            );
        }
    }
}

#[test]
fn a_perturbed_run_looks_like_a_normal_one_from_inside() {
    let dir = tempfile::tempdir().unwrap();
    let exe = compile(dir.path(), "looks", LOOKS_AROUND, &[]).unwrap();
    // Without the sandbox, so that the program can list its descriptors
    // (the sandbox denies /proc/self besides).
    let bare = crate::sandbox::Selection::bare;
    let normal = run_in(&exe, dir.path(), None, bare());
    let field = |out: &str, key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {out}"))
            .to_owned()
    };
    for p in default_profiles() {
        let perturbed = run_in(&exe, dir.path(), Some(&p), bare());
        for key in ["env ", "args ", "fds "] {
            assert_eq!(
                field(&normal.stdout, key),
                field(&perturbed.stdout, key),
                "{key}under {}",
                p.name
            );
        }
        assert!(!perturbed.stdout.contains("GRADER"), "{}", perturbed.stdout);
        // The sleep lasts what it asked for on both clocks, with a real
        // sleep's oversleep; the timeout lasts its second, in no real time.
        // The upper bounds leave room for a loaded machine: real time still
        // passes between the program's two readings of the clock.
        let slept: Vec<u128> = field(&perturbed.stdout, "sleep_us ")
            .split(' ')
            .map(|n| n.parse().unwrap())
            .collect();
        for us in slept {
            assert!((2_040..500_000).contains(&us), "{us} µs under {}", p.name);
        }
        let waited: u128 = field(&perturbed.stdout, "timeout_ms ").parse().unwrap();
        assert!(
            (1000..1500).contains(&waited),
            "{waited} ms under {}",
            p.name
        );
        assert!(
            perturbed.elapsed < Duration::from_millis(900),
            "{:?}",
            perturbed.elapsed
        );
    }
    let waited: u128 = field(&normal.stdout, "timeout_ms ").parse().unwrap();
    assert!(waited >= 1000);
}

#[test]
fn a_thousand_threads_are_traced_whole() {
    let dir = tempfile::tempdir().unwrap();
    let many = compile(dir.path(), "many", MANY, &[]).unwrap();
    for p in default_profiles() {
        let run = run(&many, dir.path(), Some(&p));
        assert_eq!(run.stdout, "999000\n");
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
}

#[test]
fn a_static_binary_is_detectable() {
    let dir = tempfile::tempdir().unwrap();
    let Some(exe) = compile(
        dir.path(),
        "probe",
        JOINED,
        &["-C", "target-feature=+crt-static"],
    ) else {
        // No static C library on this machine: nothing to detect.
        return;
    };
    let run = run(&exe, dir.path(), Some(&profile("late")));
    assert!(run.trace.init.is_none());
    assert!(!run.trace.loaded_into(&exe));
}
