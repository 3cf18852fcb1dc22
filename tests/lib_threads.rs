//! The library exercises end to end (issue 12): the `lib-threads` check
//! catches work that did not run on the threads the call asked for, a
//! model-checked race or deadlock decides the checks that a lucky run
//! would have decided, model failures point at the student's lines, and
//! the same code gets the same score every time.

mod common;

use common::{Course, check_json, repo};
use std::path::{Path, PathBuf};

const LIBRARY_EXERCISES: [&str; 4] = [
    "05-shared-counter",
    "06-channel-sum",
    "07-bank-transfer",
    "08-parallel-primes",
];

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// A course holding the repository's grader folders of `ids` (spec,
/// scenarios and tests; not the fixtures).
fn course(ids: &[&str]) -> Course {
    let c = Course::new();
    for id in ids {
        let from = repo().join("graders").join(id);
        let to = c.root().join("graders").join(id);
        std::fs::create_dir_all(&to).unwrap();
        std::fs::copy(from.join("spec.toml"), to.join("spec.toml")).unwrap();
        for sub in ["model", "unit"] {
            if from.join(sub).is_dir() {
                copy_dir(&from.join(sub), &to.join(sub));
            }
        }
    }
    c
}

fn fixture(id: &str, rel: &str) -> PathBuf {
    repo().join("graders").join(id).join(rel)
}

#[track_caller]
fn check<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {v:#}"))
}

/// The three submissions of the issue pass every other check and fail the
/// thread check, in the call's own terms.
#[test]
fn work_done_off_the_threads_is_not_concurrent() {
    let c = course(&["05-shared-counter", "06-channel-sum"]);
    let cases = [
        (
            "05-shared-counter",
            "wrong/no-threads",
            "threads",
            "`count_concurrently(4, 10)` spawned no thread, where the exercise asks for 4 threads \
             (`threads`): the calling thread computed the whole result (40) itself",
        ),
        (
            "06-channel-sum",
            "wrong/sums-on-caller",
            "threads",
            "`parallel_sum(vec![7, 7, 7, 7, 7, 7, ... 3 more], 3)` spawned no thread, where the \
             exercise asks for 3 threads (`max(1, workers)`): the calling thread computed the whole \
             result (63) itself",
        ),
        (
            "06-channel-sum",
            "wrong/one-worker",
            "threads",
            "`parallel_sum(vec![7, 7, 7, 7, 7, 7, ... 3 more], 3)` spawned 1 thread, where the \
             exercise asks for 3 threads (`max(1, workers)`)",
        ),
    ];
    for (id, rel, name, message) in cases {
        let (code, v) = check_json(&c, id, &fixture(id, rel));
        assert_eq!(code, 1, "{rel}: {v:#}");
        assert_eq!(
            v["categories"],
            serde_json::json!(["not-concurrent"]),
            "{rel}: {v:#}"
        );
        let threads = check(&v, name);
        assert_eq!(threads["message"], message, "{rel}");
        // Everything else is right: the thread check alone fails.
        for other in v["checks"].as_array().unwrap() {
            if other["name"] != name {
                assert_eq!(other["status"], "pass", "{rel}: {other:#}");
            }
        }
    }
}

/// A proven race decides the checks that would judge a lucky run, and the
/// race's lines are the check's locations (underlined, annotated).
#[test]
fn a_proven_race_is_not_judged_from_a_run_and_points_at_its_lines() {
    let c = course(&["05-shared-counter"]);
    let path = fixture("05-shared-counter", "wrong/load-then-store");
    let (code, v) = check_json(&c, "05-shared-counter", &path);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["score"], 2, "only the thread check holds: {v:#}");
    for name in ["output", "edge-cases"] {
        let skipped = check(&v, name);
        assert_eq!(skipped["status"], "skip", "{skipped:#}");
        assert_eq!(skipped["points"], 0);
        assert!(
            skipped["message"]
                .as_str()
                .unwrap()
                .starts_with("not judged: the model check `two-threads` proved"),
            "{skipped:#}"
        );
    }
    let race = check(&v, "two-threads");
    assert_eq!(race["category"], "data-race");
    let lines: Vec<(String, u64)> = race["locations"]
        .as_array()
        .unwrap_or_else(|| panic!("no locations: {race:#}"))
        .iter()
        .map(|l| {
            (
                l["file"].as_str().unwrap().to_string(),
                l["line"].as_u64().unwrap(),
            )
        })
        .collect();
    // `let seen = count.load(..)` and `count.store(seen + 1, ..)`.
    assert!(lines.contains(&("src/lib.rs".into(), 12)), "{lines:?}");
    assert!(lines.contains(&("src/lib.rs".into(), 13)), "{lines:?}");

    let out = c
        .grader()
        .args(["check", "05-shared-counter", "--format", "github", "--path"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("::error file=") && l.contains("src/lib.rs,line=12")),
        "{text}"
    );
}

/// A deadlock points at the locks held and the waits; a lock made by
/// `.map(Mutex::new)` is placed at the student's line, never in the
/// standard library's sources.
#[test]
fn a_deadlock_points_at_the_locks_and_never_at_the_standard_library() {
    let c = course(&["07-bank-transfer"]);
    let path = fixture("07-bank-transfer", "wrong/lock-order-deadlock");
    let out = c
        .grader()
        .args(["check", "07-bank-transfer", "--path"])
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(!human.contains("/rustc/"), "{human}");
    assert!(human.contains("made at lib.rs:10"), "{human}");
    assert!(human.contains("holds this lock"), "{human}");
    assert!(human.contains("waits here"), "{human}");
    assert!(
        !human.contains("fails:\n\n"),
        "an empty interleaving: {human}"
    );

    let (_, v) = check_json(&c, "07-bank-transfer", &path);
    let deadlock = check(&v, "opposite-transfers");
    assert_eq!(deadlock["category"], "deadlock");
    let lines: Vec<u64> = deadlock["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert!(lines.contains(&15) && lines.contains(&16), "{lines:?}");
    assert_eq!(check(&v, "output")["status"], "skip", "{v:#}");
    // The tests call the bank from one thread: they are judged.
    assert_eq!(check(&v, "edge-cases")["status"], "pass", "{v:#}");
}

/// One submission, one score: every solution, starter, fixture and variant
/// of the library exercises, graded twenty times over (`verify --repeat`:
/// one build, twenty rounds of every check, each with its own runs), by
/// more workers than there are cores. Each keeps its claim with one score
/// and one list of categories every time.
#[test]
fn the_same_code_gets_the_same_score_every_time() {
    let cache = tempfile::tempdir().unwrap();
    let shared = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("grader-model-cache");
    std::fs::create_dir_all(&shared).unwrap();
    std::os::unix::fs::symlink(&shared, cache.path().join("model")).unwrap();
    let mut cmd = common::grader();
    cmd.arg("--root")
        .arg(repo())
        .env("GRADER_CACHE_DIR", cache.path())
        .env("NO_COLOR", "1")
        .args(["verify", "--repeat", "20", "--jobs", "3"]);
    for id in LIBRARY_EXERCISES {
        cmd.args(["--exercise", id]);
    }
    let out = cmd
        .timeout(std::time::Duration::from_secs(1800))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let claims: usize = LIBRARY_EXERCISES
        .iter()
        .map(|id| {
            let folder = |kind: &str| {
                std::fs::read_dir(repo().join("graders").join(id).join(kind))
                    .map(|d| d.flatten().filter(|e| e.path().is_dir()).count())
                    .unwrap_or(0)
            };
            2 + folder("wrong") + folder("variants")
        })
        .sum();
    assert!(
        text.contains(&format!("verify: all {claims} claims hold")),
        "{text}"
    );
}
