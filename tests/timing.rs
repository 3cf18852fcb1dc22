//! The timing detector end to end: the lesson's sleep example fails for the
//! right reason, every time, and a correct solution passes, every time —
//! on an idle machine and beside CPU hogs.

mod common;

use common::{Course, check_json, repo};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

fn course_with_02() -> (Course, std::path::PathBuf, std::path::PathBuf) {
    let c = Course::new();
    c.repo_spec("02-hello-thread");
    let starter = repo().join("exercises/02-hello-thread");
    let solution = repo().join("solutions/02-hello-thread");
    (c, starter, solution)
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

#[test]
fn the_shipped_sleep_example_fails_naming_the_sleep_and_what_went_missing() {
    let (c, starter, _) = course_with_02();
    let (code, v) = check_json(&c, "02-hello-thread", &starter);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(categories(&v), vec!["sleep-reliance"], "{v:#}");
    let timing = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "sleep-reliance")
        .unwrap();
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
    assert_eq!(v["checks"][1]["status"], "pass", "{v:#}");
}

/// 20 gradings each way, with `hogs` busy threads beside them.
fn twenty_each(hogs: usize) {
    let stop = Arc::new(AtomicBool::new(false));
    let hog_threads: Vec<_> = (0..hogs)
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
    let (c, starter, solution) = course_with_02();
    let mut caught = 0;
    let mut passed = 0;
    let mut wrong = Vec::new();
    for _ in 0..20 {
        let (_, v) = check_json(&c, "02-hello-thread", &starter);
        if v["status"] == "fail" && categories(&v) == ["sleep-reliance"] {
            caught += 1;
        } else {
            wrong.push(format!("starter: {v}"));
        }
        let (_, v) = check_json(&c, "02-hello-thread", &solution);
        if v["status"] == "pass" && v["score"] == v["max_score"] {
            passed += 1;
        } else {
            wrong.push(format!("solution: {v}"));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for h in hog_threads {
        h.join().unwrap();
    }
    assert_eq!(
        (caught, passed),
        (20, 20),
        "with {hogs} hogs:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn twenty_out_of_twenty_both_ways_idle_and_beside_cpu_hogs() {
    twenty_each(0);
    twenty_each(2);
}
