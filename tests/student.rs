//! The student's loop end to end: `watch` driven as a real terminal program
//! (tmux: keys typed, files saved, the screen read back), `list`, `reset`,
//! and the report of each verdict category as a student sees it, snapshot
//! from real submissions (the course's known-wrong fixtures).

mod common;

use common::{Course, grader, repo};
use predicates::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A copy of the repository's course (`graders/`, `exercises/`,
/// `solutions/`; no build output) in a temp folder.
fn course_copy() -> Course {
    let c = Course::new();
    for d in ["graders", "exercises", "solutions"] {
        copy_dir(&repo().join(d), &c.root().join(d));
    }
    c
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "target" {
                copy_dir(&src, &dst);
            }
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Saves the reference solution's `src/main.rs` over the exercise's, as a
/// student's editor would.
fn save_solution(c: &Course, id: &str) {
    let fix =
        std::fs::read_to_string(c.root().join("solutions").join(id).join("src/main.rs")).unwrap();
    std::fs::write(c.root().join("exercises").join(id).join("src/main.rs"), fix).unwrap();
}

#[track_caller]
fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---------------------------------------------------------------- watch

/// A private tmux server running one program in a pane of a fixed size.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    const SESSION: &'static str = "student";

    /// Runs `args` (after the grader binary) in a new pane, in `course`.
    fn start(course: &Course, args: &str) -> Tmux {
        let which = Command::new("tmux").arg("-V").output();
        assert!(
            which.is_ok_and(|o| o.status.success()),
            "these tests drive `watch` in tmux: install it (apt-get install tmux)"
        );
        // A socket of its own each time: a server just killed may still
        // hold the last one.
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, Ordering::SeqCst);
        let socket = course.root().join(format!("tmux-{n}.sock"));
        let command = format!(
            "env GRADER_CACHE_DIR='{}' '{}' --root '{}' {args}",
            course.root().join("cache").display(),
            env!("CARGO_BIN_EXE_grader"),
            course.root().display(),
        );
        let t = Tmux { socket };
        t.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            Self::SESSION,
            "-x",
            "150",
            "-y",
            "60",
            &command,
        ]);
        // Keep the pane after the program ends, to read its last words.
        t.tmux(&["set-option", "-t", Self::SESSION, "remain-on-exit", "on"]);
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        text(&out)
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-t", Self::SESSION])
    }

    fn keys(&self, keys: &str) {
        self.tmux(&["send-keys", "-t", Self::SESSION, keys]);
    }

    fn dead(&self) -> bool {
        self.tmux(&["display-message", "-p", "-t", Self::SESSION, "#{pane_dead}"])
            .trim()
            == "1"
    }

    /// Waits until the screen shows all of `wanted`; the screen.
    #[track_caller]
    fn wait_for(&self, wanted: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let screen = self.screen();
            if wanted.iter().all(|w| screen.contains(w)) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {wanted:?}; it shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    #[track_caller]
    fn wait_dead(&self) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.dead() {
            assert!(
                Instant::now() < deadline,
                "still running:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        self.screen()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

#[test]
fn watch_grades_on_save_and_moves_on_only_when_asked() {
    let c = course_copy();
    let t = Tmux::start(&c, "watch");
    // It starts at the first exercise not done, graded at once.
    t.wait_for(&[
        "01-sequential —",
        "FAIL",
        "0/8",
        "n next · h hint · l list · r re-grade · q quit",
    ]);
    // `n` does not skip an exercise that does not pass.
    t.keys("n");
    t.wait_for(&["01-sequential does not pass yet"]);

    save_solution(&c, "01-sequential");
    let screen =
        t.wait_for(&["✓ 01-sequential passes! Press n for the next exercise: 02-hello-thread"]);
    assert!(screen.contains("PASS"), "{screen}");
    assert!(screen.contains("1/8"), "{screen}");
    // It waits for the key: no moving on by itself.
    std::thread::sleep(Duration::from_millis(500));
    assert!(t.screen().contains("01-sequential —"), "{}", t.screen());

    t.keys("n");
    let screen = t.wait_for(&["02-hello-thread —", "FAIL"]);
    assert!(!screen.contains("01-sequential —"), "{screen}");

    t.keys("h");
    t.wait_for(&["Hint", "`thread::spawn` returns at once"]);
    t.keys("l");
    let screen = t.wait_for(&["last failure", "l: back to 02-hello-thread"]);
    let row = screen
        .lines()
        .find(|l| l.contains("01-sequential"))
        .unwrap();
    assert!(row.contains('✓') && row.contains("done"), "{screen}");
    let row = screen
        .lines()
        .find(|l| l.contains("02-hello-thread"))
        .unwrap();
    assert!(row.contains("failing"), "{screen}");
    t.keys("l");
    t.wait_for(&["02-hello-thread —", "FAIL"]);

    t.keys("q");
    let screen = t.wait_dead();
    assert!(
        screen.contains("Stopped watching: 1/8 exercises done"),
        "{screen}"
    );

    // What watch recorded is what list shows.
    let out = c.grader().arg("list").output().unwrap();
    let listed = text(&out);
    assert!(listed.contains("1/8 exercises done"), "{listed}");
    assert!(listed.contains("next: 02-hello-thread"), "{listed}");
}

#[test]
fn watch_picks_up_where_the_student_left_off_and_follows_their_saves() {
    let c = course_copy();
    save_solution(&c, "01-sequential");
    c.grader().args(["check", "01-sequential"]).assert().code(0);

    let t = Tmux::start(&c, "watch");
    t.wait_for(&["02-hello-thread —", "FAIL", "1/8"]);
    // Saving another exercise's file makes that the one being worked on.
    save_solution(&c, "03-many-threads");
    t.wait_for(&[
        "03-many-threads —",
        "✓ 03-many-threads passes! Press n for the next exercise: 04-early-exit",
    ]);
    // A save of a file outside src/ is no save.
    std::fs::write(c.root().join("exercises/02-hello-thread/notes.txt"), "x").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    assert!(t.screen().contains("03-many-threads —"), "{}", t.screen());
    t.keys("q");
    t.wait_dead();
}

#[test]
fn watch_needs_a_terminal() {
    let c = course_copy();
    c.grader()
        .arg("watch")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs a terminal"));
}

// ---------------------------------------------------------------- list

#[test]
fn list_shows_status_last_failure_lesson_and_a_progress_bar() {
    let c = course_copy();
    save_solution(&c, "01-sequential");
    c.grader().args(["check", "01-sequential"]).assert().code(0);
    c.grader()
        .args(["check", "02-hello-thread"])
        .assert()
        .code(1);
    let out = c.grader().arg("list").output().unwrap();
    let listed = text(&out);
    let row = |id: &str| listed.lines().find(|l| l.contains(id)).unwrap().to_string();
    assert!(row("01-sequential").contains("done"), "{listed}");
    assert!(
        row("01-sequential").contains("The main function and blocking"),
        "{listed}"
    );
    assert!(row("02-hello-thread").contains("failing"), "{listed}");
    let (_, v) = common::check_json(
        &c,
        "02-hello-thread",
        &c.root().join("exercises/02-hello-thread"),
    );
    let first = v["categories"][0].as_str().unwrap();
    assert!(row("02-hello-thread").contains(first), "{first}:\n{listed}");
    assert!(row("03-many-threads").contains("not checked"), "{listed}");
    assert!(
        listed.contains("[##------------------] 1/8 exercises done"),
        "{listed}"
    );
}

// ---------------------------------------------------------------- reset

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Course",
            "-c",
            "user.email=course@example.com",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A course of one exercise in a git repository, as a student clones it.
fn cloned_course() -> (Course, String) {
    let c = Course::new();
    for d in ["graders", "exercises", "solutions"] {
        copy_dir(
            &repo().join(d).join("01-sequential"),
            &c.root().join(d).join("01-sequential"),
        );
    }
    std::fs::write(c.root().join(".gitignore"), "cache/\ntmux-*.sock\n").unwrap();
    git(c.root(), &["init", "-q"]);
    git(c.root(), &["add", "."]);
    git(c.root(), &["commit", "-q", "-m", "The course"]);
    let starter =
        std::fs::read_to_string(c.root().join("exercises/01-sequential/src/main.rs")).unwrap();
    (c, starter)
}

#[test]
fn reset_restores_the_course_starter_even_after_the_student_committed() {
    let (c, starter) = cloned_course();
    let main = c.root().join("exercises/01-sequential/src/main.rs");
    std::fs::write(&main, "fn main() { println!(\"my first try\"); }\n").unwrap();
    git(c.root(), &["commit", "-q", "-am", "my work"]);
    std::fs::write(&main, "fn main() { println!(\"my second try\"); }\n").unwrap();
    std::fs::write(
        c.root().join("exercises/01-sequential/src/helper.rs"),
        "// mine\n",
    )
    .unwrap();
    c.grader().args(["check", "01-sequential"]).assert().code(1);

    c.grader()
        .args(["reset", "01-sequential", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Restored exercises/01-sequential from commit",
        ))
        .stdout(predicate::str::contains("\"The course\""))
        .stdout(predicate::str::contains(
            "Kept what the starter does not have: src/helper.rs",
        ));
    assert_eq!(std::fs::read_to_string(&main).unwrap(), starter);
    assert!(
        c.root()
            .join("exercises/01-sequential/src/helper.rs")
            .exists()
    );
    // The starter was never checked: list says so, not the old failure.
    let listed = text(&c.grader().arg("list").output().unwrap());
    assert!(listed.contains("not checked"), "{listed}");

    c.grader()
        .args(["reset", "01-sequential", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("already its starter"));
}

#[test]
fn reset_asks_first_and_refuses_without_a_terminal() {
    let (c, starter) = cloned_course();
    let main = c.root().join("exercises/01-sequential/src/main.rs");
    std::fs::write(&main, "fn main() {}\n").unwrap();
    c.grader()
        .args(["reset", "01-sequential"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("asks first").and(predicate::str::contains("--yes")));
    assert_eq!(std::fs::read_to_string(&main).unwrap(), "fn main() {}\n");

    // On a terminal it asks; "n" keeps the work, "y" restores.
    for (answer, after) in [("n", "fn main() {}\n"), ("y", starter.as_str())] {
        let t = Tmux::start(&c, "reset 01-sequential");
        t.wait_for(&[
            "Reset exercises/01-sequential to its starter",
            "src/main.rs",
            "[y/N]",
        ]);
        t.keys(answer);
        t.keys("Enter");
        t.wait_dead();
        assert_eq!(std::fs::read_to_string(&main).unwrap(), after);
    }
}

#[test]
fn reset_outside_a_git_repository_says_so_and_touches_nothing() {
    let c = course_copy();
    let main = c.root().join("exercises/01-sequential/src/main.rs");
    std::fs::write(&main, "fn main() {}\n").unwrap();
    let out = c
        .grader()
        .args(["reset", "01-sequential", "--yes"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a git repository"), "{err}");
    assert_eq!(std::fs::read_to_string(&main).unwrap(), "fn main() {}\n");
    grader().args(["reset"]).assert().code(2);
}

// ---------------------------------------------------------------- reports

/// `grader check` of a known-wrong fixture of the repository, as a student
/// sees it; times and temp paths redacted.
fn report_of(c: &Course, id: &str, fixture: &str) -> String {
    let dir = repo().join("graders").join(id).join("wrong").join(fixture);
    let out = c
        .grader()
        .args(["check", id, "--path"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{id}/{fixture}: {}{}",
        text(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    redact(&text(&out), c)
}

fn redact(s: &str, c: &Course) -> String {
    let s = s
        .replace(c.root().to_str().unwrap(), "[course]")
        .replace(repo().to_str().unwrap(), "[repo]");
    let s = regex::Regex::new(r"\d+(\.\d+)? (s|ms|µs)\b")
        .unwrap()
        .replace_all(&s, "[time]");
    // rustc's own sources are named by its commit.
    regex::Regex::new(r"/rustc/[0-9a-f]+/")
        .unwrap()
        .replace_all(&s, "/rustc/[commit]/")
        .into_owned()
}

/// The category a fixture is labelled with.
fn label(id: &str, fixture: &str) -> String {
    let text = std::fs::read_to_string(
        repo()
            .join("graders")
            .join(id)
            .join("wrong")
            .join(fixture)
            .join("expect.toml"),
    )
    .unwrap();
    let v: toml::Value = toml::from_str(&text).unwrap();
    v["category"].as_str().unwrap().to_string()
}

/// One fixture a category, pinned so that the snapshots stay put as
/// fixtures are added.
const SNAPSHOTS: &[(&str, &str, &str)] = &[
    ("compile-error", "03-many-threads", "closure-borrows-i"),
    ("compile-error-join-twice", "02-hello-thread", "joins-twice"),
    (
        "compile-error-join-result",
        "04-early-exit",
        "join-not-unwrapped",
    ),
    ("forbidden", "02-hello-thread", "spawns-process"),
    ("wrong-answer", "02-hello-thread", "finished-not-last"),
    ("crash", "02-hello-thread", "thread-panics"),
    ("sleep-reliance", "02-hello-thread", "sleep-instead-of-join"),
    ("not-concurrent", "03-many-threads", "join-per-spawn"),
    // Its program always prints the right total (the torn read needs a
    // `total()` during transfers), so only the model check fails.
    ("data-race", "07-bank-transfer", "torn-total-atomics"),
    ("deadlock", "06-channel-sum", "keeps-original-sender"),
    ("timeout", "01-sequential", "busy-loop"),
    ("resource-limit", "01-sequential", "floods-output"),
];

#[test]
fn each_category_reads_as_a_lesson() {
    let c = course_copy();
    for (name, id, fixture) in SNAPSHOTS {
        let report = report_of(&c, id, fixture);
        let category = label(id, fixture);
        assert!(name.starts_with(&category), "{name}: {category}");
        assert!(report.contains(&format!("[{category}]")), "{report}");
        assert!(
            report.contains("What happened:") && report.contains("Reread"),
            "{report}"
        );
        insta::assert_snapshot!(*name, report);
    }
}

/// The course's early-exit fixtures print a different part of their output
/// from run to run (that is their mistake), so the snapshot is of a real
/// submission whose thread always starts too late.
#[test]
fn an_early_exit_reads_as_a_lesson() {
    let c = course_copy();
    let sub = c.main(
        "sub",
        "use std::thread;\nuse std::time::Duration;\n\nfn main() {\n    thread::spawn(|| {\n        \
         thread::sleep(Duration::from_secs(2));\n        println!(\"Hello from thread\");\n    });\n    \
         println!(\"Hello from main\");\n    println!(\"Main function finished\");\n}\n",
    );
    let out = c
        .grader()
        .args(["check", "02-hello-thread", "--path"])
        .arg(&sub)
        .output()
        .unwrap();
    let report = redact(&text(&out), &c);
    assert!(report.contains("[early-exit]"), "{report}");
    insta::assert_snapshot!("early-exit", report);
}

/// Every category some fixture is labelled with, also those the snapshots
/// do not pin yet, is explained and points at a lesson.
#[test]
fn every_labelled_category_is_explained() {
    let c = course_copy();
    let pinned: Vec<String> = SNAPSHOTS.iter().map(|(_, id, f)| label(id, f)).collect();
    let mut seen: Vec<String> = Vec::new();
    let mut ids: Vec<_> = std::fs::read_dir(repo().join("graders"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    ids.sort();
    for dir in ids {
        let id = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(fixtures) = std::fs::read_dir(dir.join("wrong")) else {
            continue;
        };
        let mut fixtures: Vec<_> = fixtures
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        fixtures.sort();
        for fixture in fixtures {
            let category = label(&id, &fixture);
            if pinned.contains(&category) || seen.contains(&category) {
                continue;
            }
            let report = report_of(&c, &id, &fixture);
            // A fixture its detector does not catch yet is `verify`'s
            // business; this test is about the words of those it catches.
            if !report.contains(&format!("[{category}]")) {
                continue;
            }
            seen.push(category.clone());
            assert!(
                report.contains("What happened:"),
                "{id}/{fixture}:\n{report}"
            );
            assert!(report.contains("What to do:"), "{id}/{fixture}:\n{report}");
            assert!(report.contains("Reread"), "{id}/{fixture}:\n{report}");
        }
    }
}

#[test]
fn common_compile_errors_get_a_lead_in_before_rustcs_own_words() {
    let c = course_copy();
    let cases = [
        (
            "use std::rc::Rc;\nuse std::thread;\nfn main() {\n    let n = Rc::new(1);\n    \
             thread::spawn(move || println!(\"{n}\")).join().unwrap();\n}\n",
            "use `std::sync::Arc` instead",
            "error[E0277]",
        ),
        (
            "use std::sync::{Arc, Mutex};\nuse std::thread;\nfn main() {\n    let n = Arc::new(Mutex::new(0));\n    \
             let a = thread::spawn(move || *n.lock().unwrap() += 1);\n    \
             let b = thread::spawn(move || *n.lock().unwrap() += 1);\n    \
             a.join().unwrap();\n    b.join().unwrap();\n}\n",
            "clone the Arc before each spawn",
            "error[E0382]",
        ),
    ];
    for (main_rs, lead, rustc) in cases {
        let sub = c.main("sub", main_rs);
        let out = c
            .grader()
            .args(["check", "01-sequential", "--path"])
            .arg(&sub)
            .output()
            .unwrap();
        let report = text(&out);
        let (at_lead, at_rustc) = (report.find(lead), report.find(rustc));
        assert!(at_lead.is_some() && at_rustc.is_some(), "{report}");
        assert!(at_lead < at_rustc, "the lead-in comes first:\n{report}");
    }
}
