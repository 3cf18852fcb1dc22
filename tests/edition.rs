//! The student edition (`grader publish`) and the student's side of it:
//! grading offline from an empty cache, from inside an exercise folder,
//! exercises named by number or part of their name, `run`, `reset` from the
//! edition's first commit, `pack`, and `verify` refusing politely.

mod common;

use common::{Course, grader, lines_spec, repo};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// The repository's course published into `<tmp>/edition`.
fn publish(tmp: &Path) -> PathBuf {
    let edition = tmp.join("edition");
    let out = grader()
        .arg("--root")
        .arg(repo())
        .arg("publish")
        .arg(&edition)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    edition
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Student",
            "-c",
            "user.email=student@example.com",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Every path under `dir` (outside `.git`), relative to it.
fn all_paths(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if rel == ".git" {
                continue;
            }
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(rel);
        }
    }
    out
}

/// Whether this machine lets the test cut the network (`unshare -n`).
fn can_cut_network() -> bool {
    Command::new("unshare")
        .args(["-n", "true"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The grader binary, with the network cut where the machine allows it.
fn offline_grader(cut: bool) -> Command {
    let bin = env!("CARGO_BIN_EXE_grader");
    let mut c = if cut {
        let mut c = Command::new("unshare");
        c.args(["-n", bin]);
        c
    } else {
        Command::new(bin)
    };
    c.env_remove("NO_COLOR");
    c
}

#[test]
fn the_edition_grades_offline_from_an_empty_cache_and_holds_no_answers() {
    let tmp = tempfile::tempdir().unwrap();
    let edition = publish(tmp.path());

    // No answers: no solutions, no known-wrong fixtures, no variants.
    let paths = all_paths(&edition);
    for forbidden in ["solutions", "wrong", "variants"] {
        let found: Vec<&String> = paths
            .iter()
            .filter(|p| {
                Path::new(p)
                    .components()
                    .any(|c| c.as_os_str() == forbidden)
            })
            .collect();
        assert!(found.is_empty(), "{forbidden}/ in the edition: {found:?}");
    }
    for needed in [
        "README.md",
        "exercises/02-hello-thread/src/main.rs",
        "exercises/05-shared-counter/README.md",
        "graders/05-shared-counter/spec.toml",
        "graders/05-shared-counter/model/two_threads.rs",
        "graders/05-shared-counter/unit/edge_cases.rs",
        "graders/spec.schema.json",
        "grader/Cargo.lock",
        "grader/vendor/loom-registry/loom-0.7.3.crate",
    ] {
        assert!(edition.join(needed).is_file(), "{needed} is missing");
    }
    // One commit, holding everything.
    assert_eq!(git(&edition, &["rev-list", "--count", "HEAD"]), "1");
    assert_eq!(git(&edition, &["status", "--porcelain"]), "");

    let cut = can_cut_network();
    if !cut {
        eprintln!(
            "note: `unshare -n` is not allowed on this machine, so the network stays reachable; \
             the build below still starts from an empty cache and an empty CARGO_HOME"
        );
    }
    let cache = tmp.path().join("cache");
    let cargo_home = tmp.path().join("cargo-home");
    std::fs::create_dir_all(&cargo_home).unwrap();

    // The reference solution of a library exercise: the model checker is
    // built from nothing, offline, and it passes.
    let started = Instant::now();
    let out = offline_grader(cut)
        .current_dir(&edition)
        .env("GRADER_CACHE_DIR", &cache)
        .env("CARGO_HOME", &cargo_home)
        .args(["check", "05", "--format", "json", "--path"])
        .arg(repo().join("solutions/05-shared-counter"))
        .output()
        .unwrap();
    let took = started.elapsed();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out)));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(v["status"], "pass", "{v:#}");
    assert_eq!(v["score"], v["max_score"], "{v:#}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Building the model checker") && stderr.contains("Built the model checker"),
        "the one-time build says what it does: {stderr}"
    );
    eprintln!(
        "first check of 05 in the edition, model checker built {}: {:.1} s",
        if cut {
            "with the network cut"
        } else {
            "from an empty cache"
        },
        took.as_secs_f64()
    );

    // The 02 starter, graded from inside its folder with no id: it fails.
    let out = offline_grader(cut)
        .current_dir(edition.join("exercises/02-hello-thread"))
        .env("GRADER_CACHE_DIR", &cache)
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out)));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(v["exercise"], "02-hello-thread");
    assert_eq!(v["status"], "fail", "{v:#}");
}

#[test]
fn the_student_loop_works_in_the_edition() {
    let tmp = tempfile::tempdir().unwrap();
    let edition = publish(tmp.path());
    let cache = tmp.path().join("cache");
    let student = |dir: &Path, args: &[&str]| {
        grader()
            .current_dir(dir)
            .env("GRADER_CACHE_DIR", &cache)
            .args(args)
            .output()
            .unwrap()
    };
    let folder = edition.join("exercises/01-sequential");

    // `check` in the folder of the exercise, with no id (exit 1: a starter).
    let out = student(&folder, &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("01-sequential"), "{}", text(&out));

    let out = student(&edition, &["list"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("08-parallel-primes"));

    let out = student(&folder.join("src"), &["hint"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).starts_with("exit Some(0)\nstdout:\n01-sequential"));

    // `run` builds and runs the starter without grading it.
    let out = student(&folder, &["run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Task 1 started\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not graded"));

    // The student commits work; `reset` takes the starter from the
    // edition's first commit all the same.
    let main_rs = folder.join("src/main.rs");
    let starter = std::fs::read_to_string(&main_rs).unwrap();
    std::fs::write(&main_rs, "fn main() { println!(\"mine\"); }\n").unwrap();
    git(&edition, &["commit", "-qam", "my work"]);
    let out = student(&edition, &["reset", "sequential", "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&main_rs).unwrap(), starter);

    // `pack` writes the hand-in, which git ignores.
    let out = student(&edition, &["pack"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(edition.join("submission.tar.gz").is_file());
    let status = git(&edition, &["status", "--porcelain"]);
    assert!(!status.contains("submission"), "{status}");

    // The instructor's verbs say, in one line, that they need the
    // instructor's tree.
    for verb in [&["verify"][..], &["new", "09-more", "--kind", "bin"]] {
        let out = student(&edition, verb);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("instructor's course tree"), "{stderr}");
    }
    assert!(!edition.join("exercises/09-more").exists());
}

#[test]
fn publish_refuses_a_folder_that_is_not_empty_and_leaves_it_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("taken");
    std::fs::create_dir_all(&dest).unwrap();
    std::fs::write(dest.join("notes.txt"), "mine").unwrap();
    let out = grader()
        .arg("--root")
        .arg(repo())
        .arg("publish")
        .arg(&dest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
    assert_eq!(all_paths(&dest), ["notes.txt"]);
    // Nothing half-written beside it either.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn an_exercise_is_named_by_number_or_part_of_its_name_or_by_where_you_stand() {
    let hint = |dir: &Path, args: &[&str]| {
        grader()
            .current_dir(dir)
            .arg("hint")
            .args(args)
            .output()
            .unwrap()
    };
    let root = repo();
    for (given, id) in [
        ("02", "02-hello-thread"),
        ("2", "02-hello-thread"),
        ("sequential", "01-sequential"),
        ("BANK", "07-bank-transfer"),
        ("exercises/06-channel-sum/", "06-channel-sum"),
    ] {
        let out = hint(&root, &[given]);
        assert_eq!(out.status.code(), Some(0), "{given}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with(id),
            "{given}: {}",
            text(&out)
        );
    }
    let out = hint(&root.join("exercises/03-many-threads/src"), &[]);
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("03-many-threads"),
        "{}",
        text(&out)
    );
    for (given, says) in [
        (
            Some("thread"),
            "could be any of 02-hello-thread, 03-many-threads",
        ),
        (Some("42"), "unknown exercise `42`"),
        (None, "which exercise?"),
    ] {
        let out = hint(&root, given.as_slice());
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
}

#[test]
fn run_shows_what_the_program_prints_and_how_it_ended() {
    let c = Course::new();
    // A short wall limit and a long CPU one: a loop meets the wall first.
    let spec = lines_spec(&["hello"], 1500).replace("cpu_ms = 1500", "cpu_ms = 10000");
    c.spec("01-hello", &spec);
    let run = |main_rs: &str| {
        c.main("exercises/01-hello", main_rs);
        c.grader().args(["run", "01"]).output().unwrap()
    };
    let out = run("fn main() { println!(\"hello\"); eprintln!(\"to stderr\"); }");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("to stderr\n"), "{stderr}");
    assert!(stderr.contains("exited with status 0"), "{stderr}");

    let out = run("fn main() { println!(\"half\"); std::process::exit(3); }");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "half\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("exited with status 3"));

    let out = run("fn main() { let x: u32 = \"no\"; }");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mismatched types"));
    assert!(out.stdout.is_empty());

    // Sandboxed and limited like any run: a loop is stopped.
    let out = run("fn main() { loop { std::hint::spin_loop(); } }");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("its limit"));
}
