//! The timing detector end to end: the lesson's sleep example fails for the
//! right reason; every fixture of a wait by time or by luck fails with the
//! same category, and every correct variant passes, thirty times out of
//! thirty beside two CPU hogs; a program that measures its own sleep sees
//! it last as long as it asked; a sleep past the time limit is judged by the
//! perturbed runs.
//!
//! The repeated gradings reuse one build per submission
//! (`GRADER_BUILD_CACHE`): the runs are what is under test.

mod common;

use common::{Course, repo};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// `grader check --format json`, builds shared through the build cache.
fn check(course: &Course, id: &str, path: &Path) -> serde_json::Value {
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("grader-build-cache");
    let out = course
        .grader()
        .env("GRADER_BUILD_CACHE", &cache)
        .args(["check", id, "--format", "json", "--path"])
        .arg(path)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[track_caller]
fn categories(v: &serde_json::Value) -> Vec<String> {
    v["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

/// The check of `v` named `name`.
fn check_named<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {v:#}"))
}

/// Two busy threads for as long as the value lives.
struct Hogs {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Hogs {
    fn start(n: usize) -> Hogs {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                    }
                })
            })
            .collect();
        Hogs { stop, threads }
    }
}

impl Drop for Hogs {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            t.join().unwrap();
        }
    }
}

#[test]
fn the_shipped_sleep_example_fails_naming_the_sleep_and_what_went_missing() {
    let c = Course::new();
    c.repo_spec("02-hello-thread");
    let starter = repo().join("exercises/02-hello-thread");
    let v = check(&c, "02-hello-thread", &starter);
    assert_eq!(v["status"], "fail", "{v:#}");
    assert_eq!(categories(&v), vec!["sleep-reliance"], "{v:#}");
    let timing = check_named(&v, "no reliance on sleep");
    let msg = timing["message"].as_str().unwrap();
    let sleep_line = std::fs::read_to_string(starter.join("src/main.rs"))
        .unwrap()
        .lines()
        .position(|l| l.contains("thread::sleep("))
        .unwrap()
        + 1;
    assert!(msg.contains("main slept 1000 ms"), "{msg}");
    assert!(msg.contains(&format!("src/main.rs:{sleep_line}")), "{msg}");
    assert!(msg.contains("never joined"), "{msg}");
    assert!(msg.contains("missing `Hello from thread`"), "{msg}");
    assert_eq!(timing["locations"][0]["line"], sleep_line, "{timing:#}");
    // The output check itself passed: at normal timing the example works.
    assert_eq!(check_named(&v, "output")["status"], "pass", "{v:#}");
}

/// What a submission must get, every time.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Pass,
    Fail(&'static str),
}

/// One grading's verdict: status, categories, score.
fn verdict(v: &serde_json::Value) -> (String, Vec<String>, u64) {
    (
        v["status"].as_str().unwrap_or("?").to_string(),
        categories(v),
        v["score"].as_u64().unwrap_or(0),
    )
}

/// Grades each submission `times` times beside two CPU hogs and asserts
/// that every grading gives the one expected verdict, category and score.
fn stable(course: &Course, cases: &[(&str, PathBuf, Expect)], times: usize) {
    let _hogs = Hogs::start(2);
    let mut broken = Vec::new();
    for (id, path, expect) in cases {
        let started = Instant::now();
        let first = check(course, id, path);
        let want = verdict(&first);
        let right = match expect {
            Expect::Pass => want.0 == "pass",
            Expect::Fail(category) => want.0 == "fail" && want.1 == [category.to_string()],
        };
        if !right {
            broken.push(format!(
                "{}: expected {expect:?}, got {first:#}",
                path.display()
            ));
            continue;
        }
        for i in 1..times {
            let v = check(course, id, path);
            if verdict(&v) != want {
                broken.push(format!(
                    "{}: grading {} of {times} gave {:?}, the first {want:?}:\n{v:#}",
                    path.display(),
                    i + 1,
                    verdict(&v)
                ));
                break;
            }
        }
        eprintln!(
            "{}: {want:?} x{times} in {:.1} s",
            path.display(),
            started.elapsed().as_secs_f64()
        );
    }
    assert!(broken.is_empty(), "{}", broken.join("\n\n"));
}

fn fixture(id: &str, kind: &str, name: &str) -> PathBuf {
    repo().join("graders").join(id).join(kind).join(name)
}

#[test]
fn new_fixtures_and_variants_keep_their_verdict_thirty_times_beside_two_hogs() {
    let c = Course::new();
    for id in ["02-hello-thread", "03-many-threads", "04-early-exit"] {
        c.repo_spec(id);
    }
    let wrong = |id: &'static str, name: &str, category: &'static str| {
        (id, fixture(id, "wrong", name), Expect::Fail(category))
    };
    let right = |id: &'static str, name: &str| (id, fixture(id, "variants", name), Expect::Pass);
    let hello = "02-hello-thread";
    let cases = vec![
        wrong(hello, "yields-instead-of-join", "sleep-reliance"),
        wrong(hello, "busy-waits-on-instant", "sleep-reliance"),
        wrong(hello, "recv-timeout-once", "sleep-reliance"),
        wrong(hello, "park-timeout", "sleep-reliance"),
        wrong(hello, "wait-timeout-without-loop", "sleep-reliance"),
        wrong(hello, "polls-is-finished-a-few-times", "early-exit"),
        wrong(hello, "joins-only-when-graded", "sleep-reliance"),
        wrong(hello, "joins-only-when-sleeps-are-cut", "sleep-reliance"),
        wrong(hello, "no-wait", "early-exit"),
        // Writes forged trace lines wherever it can: the threads check still
        // sees no thread.
        wrong(hello, "forges-its-trace", "not-concurrent"),
        wrong("03-many-threads", "joins-all-but-last", "early-exit"),
        wrong("04-early-exit", "ignores-handles", "early-exit"),
        right(hello, "spins-on-a-flag-with-yield"),
        right(hello, "spins-on-is-finished"),
        right(hello, "recv-timeout-retry-loop"),
        right(hello, "wait-timeout-in-a-loop"),
        right("04-early-exit", "workers-time-their-sleep"),
        (
            "02-hello-thread",
            repo().join("solutions/02-hello-thread"),
            Expect::Pass,
        ),
        (
            "02-hello-thread",
            repo().join("exercises/02-hello-thread"),
            Expect::Fail("sleep-reliance"),
        ),
    ];
    stable(&c, &cases, 30);
}

/// 02's spec with a 1 s time limit, so that a sleep can outlast it quickly.
fn course_with_short_limit() -> Course {
    let c = Course::new();
    let spec = std::fs::read_to_string(repo().join("graders/02-hello-thread/spec.toml")).unwrap();
    c.spec(
        "02-hello-thread",
        &format!("{spec}\n[limits]\nwall_ms = 1000\ncpu_ms = 1000\n"),
    );
    c
}

#[test]
fn a_sleep_past_the_time_limit_is_judged_by_the_perturbed_runs() {
    let c = course_with_short_limit();
    // The shipped fixture sleeps 11 s instead of joining: with sleeps
    // skipped the thread's line is lost, so the sleep stood in for a join.
    let fixture = fixture("02-hello-thread", "wrong", "sleeps-past-the-limit");
    stable(
        &c,
        &[(
            "02-hello-thread",
            fixture.clone(),
            Expect::Fail("sleep-reliance"),
        )],
        30,
    );
    let v = check(&c, "02-hello-thread", &fixture);
    let output = check_named(&v, "output");
    let msg = output["message"].as_str().unwrap();
    assert!(msg.contains("stopped while sleeping"), "{msg}");
    assert!(
        msg.contains("main slept 11 s at src/main.rs:10 against a time limit of 1 s"),
        "{msg}"
    );
    assert_eq!(output["locations"][0]["line"], 10, "{output:#}");

    // Sleeping past the limit and then joining is right, and too slow:
    // a timeout that says so, not a guess about loops.
    let slow = c.main(
        "subs/slow",
        r#"use std::thread;
use std::time::Duration;

fn main() {
    let handle = thread::spawn(|| println!("Hello from thread"));
    println!("Hello from main");
    thread::sleep(Duration::from_millis(1500));
    handle.join().unwrap();
    println!("Main function finished");
}
"#,
    );
    let v = check(&c, "02-hello-thread", &slow);
    assert_eq!(categories(&v), ["timeout"], "{v:#}");
    let msg = check_named(&v, "output")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        msg,
        "the program was stopped while sleeping: main slept 1.5 s at src/main.rs:7 against a time limit of 1 s",
    );
    assert_eq!(
        check_named(&v, "no reliance on sleep")["status"],
        "pass",
        "{v:#}"
    );

    // A loop that never ends is stopped while computing.
    let busy = c.main(
        "subs/busy",
        "fn main() {\n    let mut x = 0u64;\n    loop {\n        x = std::hint::black_box(x + 1);\n    }\n}\n",
    );
    let v = check(&c, "02-hello-thread", &busy);
    assert_eq!(categories(&v), ["timeout"], "{v:#}");
    let msg = check_named(&v, "output")["message"].as_str().unwrap();
    assert!(
        msg.contains("was stopped while computing (1 thread running"),
        "{msg}"
    );
}

#[test]
fn a_program_that_times_its_sleep_sees_it_last_as_long_as_it_asked() {
    let c = Course::new();
    c.spec(
        "09-timed",
        r#"format_version = 1
title = "timed"
lesson = "why sleep is not a good solution"
kind = "bin"
hint = "a hint"

[[check]]
kind = "output"
name = "output"
points = 5
rules = [
    { rule = "regex", pattern = "^worker slept (\\d+) ms$", min = 50, count = 1 },
    { rule = "last", line = "done" },
]

[[check]]
kind = "timing"
name = "timing"
points = 5
"#,
    );
    let timed = c.main(
        "subs/timed",
        r#"use std::thread;
use std::time::{Duration, Instant};

fn main() {
    let worker = thread::spawn(|| {
        let start = Instant::now();
        thread::sleep(Duration::from_millis(50));
        println!("worker slept {} ms", start.elapsed().as_millis());
    });
    worker.join().unwrap();
    println!("done");
}
"#,
    );
    stable(&c, &[("09-timed", timed, Expect::Pass)], 30);
}
