//! The grader core end to end: every verb, every exit status, and each
//! category of the build and run stages produced from a real submission.

mod common;

use common::{Course, check_json, grader, lines_spec};
use predicates::prelude::*;
use std::time::{Duration, Instant};

const HELLO: &[&str] = &["Task 1 started", "Task 1 finished"];

fn course() -> Course {
    let c = Course::new();
    c.spec("01-hello", &lines_spec(HELLO, 5000));
    c
}

#[track_caller]
fn graded(c: &Course, main_rs: &str) -> (i32, serde_json::Value) {
    let sub = c.main("sub", main_rs);
    check_json(c, "01-hello", &sub)
}

#[track_caller]
fn assert_category(v: &serde_json::Value, category: &str) {
    assert_eq!(v["status"], "fail", "{v:#}");
    let cats: Vec<&str> = v["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(cats, vec![category], "{v:#}");
}

#[test]
fn a_correct_submission_passes_with_full_points_and_the_spec_fields() {
    let c = course();
    let (code, v) = graded(
        &c,
        "fn main() { println!(\"Task 1 started\"); println!(\"Task 1 finished\"); }",
    );
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["exercise"], "01-hello");
    assert_eq!(v["status"], "pass");
    assert_eq!(v["score"], 10);
    assert_eq!(v["max_score"], 10);
    assert_eq!(v["categories"], serde_json::json!([]));
    let checks = v["checks"].as_array().unwrap();
    assert_eq!(checks[0]["name"], "build");
    assert_eq!(checks[1]["name"], "output");
    assert_eq!(checks[1]["status"], "pass");
    assert!(checks[1]["category"].is_null());
    assert!(checks[1]["message"].is_string());
}

#[test]
fn wrong_output_is_a_wrong_answer_with_a_diff() {
    let c = course();
    let sub = c.main(
        "sub",
        "fn main() { println!(\"Task 1 finished\"); println!(\"Task 1 started\"); }",
    );
    c.grader()
        .args(["check", "01-hello", "--path"])
        .arg(&sub)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("[wrong-answer]"))
        .stdout(predicate::str::contains(
            "line 1 should be `Task 1 started` but was `Task 1 finished`",
        ))
        .stdout(predicate::str::contains("--- expected"))
        .stdout(predicate::str::contains("- Task 1 finished"))
        .stdout(predicate::str::contains("FAIL  score 0/10"));
}

#[test]
fn a_compile_error_is_shown_as_rustc_prints_it_with_relative_paths() {
    let c = course();
    let sub = c.main("sub", "fn main() {\n    let x: i32 = \"no\";\n}\n");
    let out = c
        .grader()
        .args(["check", "01-hello", "--path"])
        .arg(&sub)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("[compile-error]"), "{text}");
    assert!(text.contains("error[E0308]: mismatched types"), "{text}");
    assert!(text.contains("--> src/main.rs:2:18"), "{text}");
    assert!(
        !text.contains(c.root().to_str().unwrap()),
        "absolute path leaked:\n{text}"
    );
}

#[test]
fn unsafe_code_is_forbidden_with_its_line() {
    let c = course();
    let (code, v) = graded(
        &c,
        "fn main() {\n    let x = 1;\n    let p = &x as *const i32;\n    println!(\"{}\", unsafe { *p });\n}\n",
    );
    assert_eq!(code, 1);
    assert_category(&v, "forbidden");
    assert!(
        v["checks"][0]["message"]
            .as_str()
            .unwrap()
            .contains("src/main.rs:4"),
        "{v:#}"
    );
}

#[test]
fn spawning_a_process_and_static_mut_are_forbidden() {
    let c = course();
    let (_, v) = graded(
        &c,
        "use std::process as p;\nfn main() { let _ = p::Command::new(\"true\").status(); }\n",
    );
    assert_category(&v, "forbidden");
    assert!(
        v["checks"][0]["message"]
            .as_str()
            .unwrap()
            .contains("src/main.rs:2"),
        "{v:#}"
    );
    let (_, v) = graded(&c, "static mut N: u32 = 0;\nfn main() {}\n");
    assert_category(&v, "forbidden");
}

#[test]
fn a_panic_is_a_crash_with_its_message() {
    let c = course();
    let (_, v) = graded(
        &c,
        "fn main() {\n    let v: Vec<u8> = Vec::new();\n    println!(\"{}\", v[7]);\n}\n",
    );
    assert_category(&v, "crash");
    let msg = v["checks"][1]["message"].as_str().unwrap();
    assert!(msg.contains("index out of bounds"), "{msg}");
    assert!(msg.contains("src/main.rs:3"), "{msg}");
}

#[test]
fn an_abort_and_a_nonzero_exit_are_crashes() {
    let c = course();
    let (_, v) = graded(&c, "fn main() { std::process::abort(); }");
    assert_category(&v, "crash");
    assert!(
        v["checks"][1]["message"]
            .as_str()
            .unwrap()
            .contains("SIGABRT"),
        "{v:#}"
    );
    let (_, v) = graded(
        &c,
        "fn main() { println!(\"Task 1 started\"); println!(\"Task 1 finished\"); std::process::exit(3); }",
    );
    assert_category(&v, "crash");
    assert!(
        v["checks"][1]["message"]
            .as_str()
            .unwrap()
            .contains("status 3"),
        "{v:#}"
    );
}

#[test]
fn an_endless_loop_times_out_within_its_limit_and_leaves_nothing_behind() {
    let c = Course::new();
    c.spec("01-spin-forever", &lines_spec(HELLO, 1000));
    let sub = c.main(
        "sub",
        "fn main() { let mut x = 0u64; loop { x = x.wrapping_add(1); std::hint::black_box(x); } }",
    );
    let start = Instant::now();
    let (code, v) = check_json(&c, "01-spin-forever", &sub);
    let took = start.elapsed();
    assert_eq!(code, 1);
    assert_category(&v, "timeout");
    // Limit 1 s, plus one second, plus the compile on a loaded machine.
    assert!(took < Duration::from_millis(2000 + 8000), "took {took:?}");
    assert!(
        !process_running("spin-forever"),
        "the program survived its grading"
    );
}

#[test]
fn a_deadlock_in_a_run_is_told_apart_from_a_busy_loop() {
    let c = Course::new();
    c.spec("01-hello", &lines_spec(HELLO, 1000));
    let sub = c.main(
        "sub",
        r#"use std::sync::{Arc, Mutex};
use std::thread;
fn main() {
    let a = Arc::new(Mutex::new(0));
    let b = Arc::new(Mutex::new(0));
    let (a2, b2) = (a.clone(), b.clone());
    let ga = a.lock().unwrap();
    let t = thread::spawn(move || {
        let _gb = b2.lock().unwrap();
        let _ga = a2.lock().unwrap();
    });
    thread::sleep(std::time::Duration::from_millis(50));
    let _gb = b.lock().unwrap();
    drop(ga);
    t.join().unwrap();
}
"#,
    );
    let (_, v) = check_json(&c, "01-hello", &sub);
    assert_category(&v, "deadlock");
}

#[test]
fn a_flood_of_output_is_a_resource_limit() {
    let c = course();
    let (_, v) = graded(
        &c,
        "fn main() { loop { println!(\"flood flood flood\"); } }",
    );
    assert_category(&v, "resource-limit");
}

#[test]
fn output_that_is_not_utf8_is_graded_and_shown_lossily() {
    let c = course();
    let (code, v) = graded(
        &c,
        "use std::io::Write;\nfn main() { std::io::stdout().write_all(b\"Task 1 started\\n\\xff\\xfe\\n\").unwrap(); }",
    );
    assert_eq!(code, 1);
    assert_category(&v, "wrong-answer");
    assert!(
        v["checks"][1]["details"]
            .as_str()
            .unwrap()
            .contains('\u{FFFD}'),
        "{v:#}"
    );
}

#[test]
fn printing_a_fake_verdict_does_not_pass() {
    let c = course();
    let (code, v) = graded(
        &c,
        r#"fn main() { println!("PASS  score 10/10"); println!("{{\"status\": \"pass\"}}"); }"#,
    );
    assert_eq!(code, 1);
    assert_category(&v, "wrong-answer");
}

#[test]
fn a_library_exercise_links_main_against_the_library_by_its_crate_name() {
    let c = Course::new();
    c.spec(
        "05-shared-counter",
        &lines_spec(&["count = 4"], 5000).replace("kind = \"bin\"", "kind = \"lib+bin\""),
    );
    let sub = c.submission(
        "sub",
        &[
            ("src/lib.rs", "pub fn count() -> usize { 4 }\n"),
            (
                "src/main.rs",
                "fn main() { println!(\"count = {}\", shared_counter::count()); }\n",
            ),
        ],
    );
    let (code, v) = check_json(&c, "05-shared-counter", &sub);
    assert_eq!(code, 0, "{v:#}");
    // Without its library the exercise cannot build.
    let lone = c.main("lone", "fn main() { println!(\"count = 4\"); }");
    let (_, v) = check_json(&c, "05-shared-counter", &lone);
    assert_category(&v, "compile-error");
    assert!(
        v["checks"][0]["message"]
            .as_str()
            .unwrap()
            .contains("src/lib.rs is missing")
    );
}

#[test]
fn more_modules_under_src_are_built() {
    let c = course();
    let sub = c.submission(
        "sub",
        &[
            ("src/main.rs", "mod tasks;\nfn main() { tasks::run(); }\n"),
            (
                "src/tasks.rs",
                "pub fn run() { println!(\"Task 1 started\"); println!(\"Task 1 finished\"); }\n",
            ),
            ("Cargo.toml", "this is not even toml"),
        ],
    );
    let (code, v) = check_json(&c, "01-hello", &sub);
    assert_eq!(code, 0, "{v:#}");
}

#[track_caller]
fn assert_one_line_error(out: &std::process::Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "{err} lacks {needle}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_input_to_the_grader_is_one_line_and_exit_2() {
    let c = course();
    let ok = c.main("ok", "fn main() {}");
    let out = c
        .grader()
        .args(["check", "99-nope", "--path"])
        .arg(&ok)
        .output()
        .unwrap();
    assert_one_line_error(&out, "unknown exercise `99-nope`");

    let out = c.grader().args(["hint", "99-nope"]).output().unwrap();
    assert_one_line_error(&out, "unknown exercise");

    c.spec("02-broken", "format_version = 1\ntitle = \n");
    let out = c
        .grader()
        .args(["check", "02-broken", "--path"])
        .arg(&ok)
        .output()
        .unwrap();
    // A spec error is one line of its own, then the lines of the spec it
    // points at.
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    let first = err.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: malformed spec "), "{err}");
    assert!(first.contains("spec.toml:2:"), "{err}");
    assert!(err.contains("2 | title = "), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let empty = c.root().join("empty");
    std::fs::create_dir_all(empty.join("src")).unwrap();
    let out = c
        .grader()
        .args(["check", "01-hello", "--path"])
        .arg(&empty)
        .output()
        .unwrap();
    assert_one_line_error(&out, "not a submission");

    let linked = c.main("linked", "fn main() {}");
    std::os::unix::fs::symlink("/etc/passwd", linked.join("src/secret.rs")).unwrap();
    let out = c
        .grader()
        .args(["check", "01-hello", "--path"])
        .arg(&linked)
        .output()
        .unwrap();
    assert_one_line_error(&out, "symbolic link");

    let out = c
        .grader()
        .args(["check", "01-hello", "--path"])
        .arg(c.root().join("missing"))
        .output()
        .unwrap();
    assert_one_line_error(&out, "does not exist");

    let out = grader()
        .current_dir(c.root().join("ok"))
        .env("GRADER_CACHE_DIR", c.root().join("cache"))
        .args(["--root", "/nonexistent-course", "list"])
        .output()
        .unwrap();
    assert_one_line_error(&out, "no `graders/`");
}

#[test]
fn a_spec_of_another_format_version_is_refused() {
    let c = course();
    c.spec(
        "03-future",
        &lines_spec(HELLO, 1000).replace("format_version = 1", "format_version = 7"),
    );
    let ok = c.main("ok", "fn main() {}");
    let out = c
        .grader()
        .args(["check", "03-future", "--path"])
        .arg(&ok)
        .output()
        .unwrap();
    assert_one_line_error(&out, "format_version 7");
}

#[test]
fn a_usage_error_exits_2() {
    grader().args(["check"]).assert().code(2);
    grader().args(["frobnicate"]).assert().code(2);
}

#[test]
fn hint_and_list_speak_of_the_exercises() {
    let c = course();
    c.grader()
        .args(["hint", "01-hello"])
        .assert()
        .success()
        .stdout(predicate::str::contains("a hint"));
    std::fs::create_dir_all(c.root().join("exercises/01-hello/src")).unwrap();
    c.grader()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::contains("01-hello"))
        .stdout(predicate::str::contains("a lesson part"))
        .stdout(predicate::str::contains("not checked"));
    // After a check of the student's own copy, list shows how it went.
    std::fs::write(
        c.root().join("exercises/01-hello/src/main.rs"),
        "fn main() { println!(\"Task 1 started\"); }",
    )
    .unwrap();
    c.grader().args(["check", "01-hello"]).assert().code(1);
    c.grader()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"failing\s+wrong-answer").unwrap());
    std::fs::write(
        c.root().join("exercises/01-hello/src/main.rs"),
        "fn main() { println!(\"Task 1 started\"); println!(\"Task 1 finished\"); }",
    )
    .unwrap();
    c.grader()
        .arg("list")
        .assert()
        .stdout(predicate::str::contains("edited"));
    c.grader().args(["check", "01-hello"]).assert().code(0);
    c.grader()
        .arg("list")
        .assert()
        .stdout(predicate::str::contains("done"))
        .stdout(predicate::str::contains("1/1 exercises done"));
}

#[test]
fn the_course_tree_is_found_from_a_subfolder() {
    let c = course();
    let sub = c.main(
        "sub",
        "fn main() { println!(\"Task 1 started\"); println!(\"Task 1 finished\"); }",
    );
    grader()
        .current_dir(&sub)
        .env("GRADER_CACHE_DIR", c.root().join("cache"))
        .args(["check", "01-hello", "--path", "."])
        .assert()
        .success();
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let c = course();
    let sub = c.main("sub", "fn main() {}");
    let plain = c
        .grader()
        .args(["check", "01-hello", "--path"])
        .arg(&sub)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains('\x1b'));
    let coloured = c
        .grader()
        .args(["--color", "always", "check", "01-hello", "--path"])
        .arg(&sub)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&coloured.stdout).contains("\x1b[31m"));
}

#[test]
fn verify_holds_claims_and_fails_on_a_broken_one() {
    let c = course();
    c.main(
        "solutions/01-hello",
        "fn main() { println!(\"Task 1 started\"); println!(\"Task 1 finished\"); }",
    );
    c.main(
        "exercises/01-hello",
        "fn main() { println!(\"Task 1 started\"); }",
    );
    let wrong = c.main(
        "graders/01-hello/wrong/panics",
        "fn main() { panic!(\"no\"); }",
    );
    std::fs::write(
        wrong.join("expect.toml"),
        "category = \"crash\"\nwhy = \"it panics\"\n",
    )
    .unwrap();
    c.main(
        "graders/01-hello/variants/via-function",
        "fn t(s: &str) { println!(\"Task 1 {s}\"); }\nfn main() { t(\"started\"); t(\"finished\"); }",
    );
    c.grader()
        .arg("verify")
        .assert()
        .success()
        .stdout(predicate::str::contains("wrong/panics"))
        .stdout(predicate::str::contains("variant/via-function"))
        .stdout(predicate::str::contains("all 4 claims hold"));
    // A fixture labelled with the wrong category is a broken claim.
    std::fs::write(
        wrong.join("expect.toml"),
        "category = \"timeout\"\nwhy = \"mislabelled\"\n",
    )
    .unwrap();
    c.grader()
        .arg("verify")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "should fail with timeout, failed with crash",
        ))
        .stdout(predicate::str::contains("1 of 4 claims broken"));
}

fn process_running(comm: &str) -> bool {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("comm")).ok())
        .any(|c| c.trim() == comm)
}
