//! The run stage's own tests: real child processes (`/bin/sh`), through
//! the launcher where the machine gives it.

use super::*;
use crate::sandbox::{Mechanism, Selection};
use std::time::Duration;

fn limits(wall_ms: u64) -> Limits {
    Limits {
        wall: Duration::from_millis(wall_ms),
        cpu: Duration::from_secs(10),
        output_bytes: 1 << 16,
        file_bytes: 1 << 20,
        address_space_bytes: 4 << 30,
        memory_bytes: 1 << 30,
        tasks: 1100,
    }
}

fn sh(script: &str, wall_ms: u64) -> Outcome {
    let req = Request::new("/bin/sh", "/tmp", limits(wall_ms))
        .arg("-c")
        .arg(script);
    run(&req).unwrap()
}

#[test]
fn captures_both_streams_and_the_exit_code() {
    let o = sh("echo out; echo err >&2; exit 3", 5000);
    assert_eq!(o.termination, Termination::Exited(3));
    assert_eq!(o.stdout, b"out\n");
    assert_eq!(o.stderr, b"err\n");
}

#[test]
fn the_environment_is_cleared() {
    // SAFETY: tests in this module do not read this variable concurrently.
    unsafe { std::env::set_var("GRADER_TEST_CANARY", "secret") };
    let o = sh("env", 5000);
    assert!(!o.stdout_text().contains("secret"), "{}", o.stdout_text());
    assert!(o.stdout_text().contains("RUST_BACKTRACE=0"));
}

#[test]
fn a_flood_is_stopped_at_the_cap() {
    let o = sh("yes flood", 10_000);
    assert_eq!(o.termination, Termination::OutputLimit);
    assert_eq!(o.stdout.len(), 1 << 16);
    assert!(o.wall < Duration::from_secs(5));
}

#[test]
fn a_sleeper_times_out_and_its_group_is_killed() {
    let o = sh("sleep 30 & exec sleep 30", 300);
    assert_eq!(o.termination, Termination::WallTimeout { blocked: false });
    assert!(o.wall < Duration::from_secs(3), "{:?}", o.wall);
}

#[test]
fn a_signal_is_reported() {
    let o = sh("kill -SEGV $$", 5000);
    assert_eq!(o.termination, Termination::Signaled(libc::SIGSEGV));
}

#[test]
fn a_program_is_found_on_the_path_of_its_environment() {
    let req = Request::new("sh", "/tmp", limits(5000))
        .arg("-c")
        .arg("echo found");
    assert_eq!(run(&req).unwrap().stdout, b"found\n");
}

#[test]
fn a_missing_program_cannot_start() {
    let req = Request::new("/nonexistent/program", "/tmp", limits(5000));
    assert!(matches!(run(&req), Err(RunError::Spawn { .. })));
}

#[test]
fn the_bare_selection_runs_without_the_launcher() {
    let mut req = Request::new("/bin/sh", "/tmp", limits(5000))
        .arg("-c")
        .arg("echo hi");
    req.selection = Selection::bare();
    let o = run(&req).unwrap();
    assert_eq!(o.stdout, b"hi\n");
    assert!(!o.sandbox.applied(Mechanism::Launcher));
    assert!(o.sandbox.applied(Mechanism::Rlimits));
}

#[test]
fn a_run_starved_of_the_cpu_is_given_more_time_before_it_is_stopped() {
    // A hog on CPU 0, and the run pinned beside it at the lowest priority:
    // it gets a sliver of the CPU (about 1.5%), so in its 300 ms it has
    // computed for a few milliseconds. Stopping it at 300 ms would make its
    // verdict depend on the machine's load; it is stopped at the ceiling.
    let mut hog = std::process::Command::new("taskset")
        .args(["-c", "0", "sh", "-c", "while :; do :; done"])
        .spawn()
        .unwrap();
    let o = sh(
        "exec taskset -c 0 nice -n 19 sh -c 'while :; do :; done'",
        300,
    );
    hog.kill().unwrap();
    hog.wait().unwrap();
    assert_eq!(o.termination, Termination::WallTimeout { blocked: false });
    assert!(o.wall >= Duration::from_millis(900), "{:?}", o.wall);
    assert!(o.wall < Duration::from_secs(5), "{:?}", o.wall);
}
