//! `grader batch`, `merge`, `pack` and the CI formats of `check`, driven
//! through the real binary against a class folder built in a temp folder
//! from the repository's own solutions, starters and known-wrong fixtures,
//! plus small submissions written here (a wrong answer, a compile error, a
//! panic, an infinite loop) and hostile archives.
//!
//! The course tree is a copy of the repository's `graders/` whose exercise
//! 01 has a 2 s time limit, so the infinite loop costs 2 s, not 10.

mod browser;

use assert_cmd::Command;
use regex::Regex;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tempfile::TempDir;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every exercise id of the repository's course.
fn ids() -> Vec<String> {
    let mut ids: Vec<String> = fs::read_dir(repo().join("graders"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("spec.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids
}

/// Copies a folder; `.rs` files get a line naming `tag`, so that no two
/// students' submissions are identical (each one is graded on its own).
fn copy_dir(from: &Path, to: &Path, tag: Option<&str>) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let t = e.file_type().unwrap();
        if t.is_dir() {
            if e.file_name() != "target" {
                copy_dir(&src, &dst, tag);
            }
        } else if t.is_file() {
            let mut bytes = fs::read(&src).unwrap();
            if let (Some(tag), true) = (tag, src.extension().is_some_and(|x| x == "rs")) {
                bytes.extend_from_slice(format!("\n// handed in by {tag}\n").as_bytes());
            }
            fs::write(&dst, bytes).unwrap();
        }
    }
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// A course tree: the repository's graders, exercise 01 with a short
/// time limit, and `exercises/` for `pack`.
struct Course {
    dir: TempDir,
}

impl Course {
    fn new() -> Course {
        let dir = tempfile::Builder::new()
            .prefix("grader-batch-")
            .tempdir()
            .unwrap();
        copy_dir(&repo().join("graders"), &dir.path().join("graders"), None);
        let spec = dir.path().join("graders/01-sequential/spec.toml");
        let mut doc: toml::Table = fs::read_to_string(&spec).unwrap().parse().unwrap();
        let limits = doc
            .entry("limits")
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .unwrap();
        limits.insert("wall_ms".into(), toml::Value::Integer(2000));
        limits.insert("cpu_ms".into(), toml::Value::Integer(2000));
        fs::write(&spec, toml::to_string(&doc).unwrap()).unwrap();
        Course { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// A cache folder of its own (its own result store), whose prebuilt
    /// model-check dependencies (`model/`, keyed by their sources and the
    /// compiler, built under a file lock) are shared by every test and
    /// every run of the tests: a cold build of loom is several seconds.
    fn cache(&self, name: &str) -> PathBuf {
        let cache = self.path(name);
        let shared = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grader-batch-model");
        fs::create_dir_all(&shared).unwrap();
        fs::create_dir_all(&cache).unwrap();
        let link = cache.join("model");
        if fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(&shared, &link).unwrap();
        }
        cache
    }

    /// `grader --root <course>` with its cache in `cache`.
    fn grader(&self, cache: &str) -> Command {
        let mut c = assert_cmd::cargo::cargo_bin_cmd!("grader");
        c.arg("--root").arg(self.root());
        c.env("GRADER_CACHE_DIR", self.cache(cache));
        c.env_remove("NO_COLOR");
        c.timeout(Duration::from_secs(240));
        c
    }

    fn std_grader(&self, cache: &str) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_grader"));
        c.arg("--root").arg(self.root());
        c.env("GRADER_CACHE_DIR", self.cache(cache));
        c.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

#[track_caller]
fn run(mut cmd: impl std::borrow::BorrowMut<Command>) -> Run {
    let out = cmd.borrow_mut().output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Run {
    #[track_caller]
    fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// `(graded, reused)` from the summary line.
    #[track_caller]
    fn counts(&self) -> (usize, usize) {
        let re = Regex::new(r"graded (\d+), reused (\d+)").unwrap();
        let c = re
            .captures(&self.stdout)
            .unwrap_or_else(|| panic!("no summary line in:\n{}\n{}", self.stdout, self.stderr));
        (c[1].parse().unwrap(), c[2].parse().unwrap())
    }
}

const WRONG_01: &str =
    "fn main() {\n    println!(\"Task 1 started\");\n    println!(\"Task 2 finished\");\n}\n";
const COMPILE_ERROR_02: &str = "fn main() {\n    let x: u32 = \"no\";\n    println!(\"{x}\");\n}\n";
const PANIC_03: &str =
    "fn main() {\n    let v: Vec<u32> = Vec::new();\n    println!(\"{}\", v[3]);\n}\n";
const LOOP_01: &str = "fn main() {\n    println!(\"Task 1 started\");\n    loop {\n        std::hint::spin_loop();\n    }\n}\n";

/// What a submission of the class must come out as.
#[derive(Debug, Clone, PartialEq)]
enum Want {
    /// Full points.
    Pass,
    /// Fails with this category among its categories.
    Fail(String),
    /// Fails, in whichever category the detectors of the day find first.
    FailAny,
    /// Graded (pass or fail), whatever the detectors of the day say.
    Graded,
}

struct Class {
    dir: PathBuf,
    want: BTreeMap<(String, String), Want>,
    skipped: BTreeSet<String>,
    students: BTreeSet<String>,
}

fn zip_file(path: &Path, entries: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default();
    for (name, bytes) in entries {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// A `.tar.gz` of a folder's contents, under `prefix/`.
fn tar_gz_dir(path: &Path, dir: &Path, prefix: &str) {
    let gz =
        flate2::write::GzEncoder::new(fs::File::create(path).unwrap(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    tar.append_dir_all(prefix, dir).unwrap();
    tar.into_inner().unwrap().finish().unwrap();
}

/// A zip of a folder's contents, under `prefix` (may be empty).
fn zip_dir(path: &Path, dir: &Path, prefix: &str) {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, Vec<u8>)>) {
        for e in fs::read_dir(dir).unwrap().flatten() {
            let name = format!("{rel}{}", e.file_name().to_string_lossy());
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &format!("{name}/"), out);
            } else {
                out.push((name, fs::read(e.path()).unwrap()));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, prefix, &mut files);
    let entries: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    zip_file(path, &entries);
}

/// The class: every layout of SPEC §4, archives, skips and hostile-lite
/// submissions; at least 30 submissions.
fn build_class(course: &Course) -> Class {
    let dir = course.path("class");
    let staging = course.path("staging");
    let sol = |id: &str| repo().join("solutions").join(id);
    let starter = |id: &str| repo().join("exercises").join(id);
    let mut want = BTreeMap::new();
    let mut skipped = BTreeSet::new();
    let mut w = |s: &str, id: &str, v: Want| {
        want.insert((s.to_string(), id.to_string()), v);
    };
    let all = ids();

    // alice: <student>/<id>/, every solution.
    for id in &all {
        copy_dir(&sol(id), &dir.join("alice").join(id), Some("alice"));
        w("alice", id, Want::Pass);
    }
    // bob: a clone of the course (exercises/ plus the course's own files),
    // handing in the starters whose output is the same on every run.
    // (04's starter is left out: whether its threads are still running
    // when `main` returns is a race, so its category is too.)
    for id in [
        "01-sequential",
        "02-hello-thread",
        "03-many-threads",
        "06-channel-sum",
        "08-parallel-primes",
    ] {
        copy_dir(
            &starter(id),
            &dir.join("bob/exercises").join(id),
            Some("bob"),
        );
        let v = match id {
            "01-sequential" | "06-channel-sum" => Want::FailAny,
            _ => Want::Graded,
        };
        w("bob", id, v);
    }
    write(&dir.join("bob/exercises/notes/todo.txt"), "later");
    skipped.insert("bob/exercises/notes".to_string());
    copy_dir(
        &repo().join("graders/01-sequential"),
        &dir.join("bob/graders/01-sequential"),
        None,
    );
    write(
        &dir.join("bob/Cargo.toml"),
        "[package]\nname = \"course\"\n",
    );
    write(&dir.join("bob/README.md"), "my copy");
    write(&dir.join("bob/.git/HEAD"), "ref: refs/heads/main");
    // carol.zip: a clone layout in a zip.
    for id in &all[..4] {
        copy_dir(
            &sol(id),
            &staging.join("carol/exercises").join(id),
            Some("carol"),
        );
        w("carol", id, Want::Pass);
    }
    // A folder of notes in the zip: listed as skipped, as it is unzipped.
    write(&staging.join("carol/exercises/notes/todo.txt"), "later");
    skipped.insert("carol.zip:exercises/notes".to_string());
    zip_dir(&dir.join("carol.zip"), &staging.join("carol"), "");
    // dave.tar.gz: per-exercise folders inside one wrapping folder.
    write(&staging.join("dave/01-sequential/src/main.rs"), WRONG_01);
    write(
        &staging.join("dave/02-hello-thread/src/main.rs"),
        COMPILE_ERROR_02,
    );
    write(&staging.join("dave/03-many-threads/src/main.rs"), PANIC_03);
    copy_dir(
        &sol("04-early-exit"),
        &staging.join("dave/04-early-exit"),
        Some("dave"),
    );
    tar_gz_dir(&dir.join("dave.tar.gz"), &staging.join("dave"), "dave-main");
    w("dave", "01-sequential", Want::Fail("wrong-answer".into()));
    w(
        "dave",
        "02-hello-thread",
        Want::Fail("compile-error".into()),
    );
    w("dave", "03-many-threads", Want::Fail("crash".into()));
    w("dave", "04-early-exit", Want::Pass);
    // erin: an infinite loop, a solution, a stray folder, an empty submission.
    write(&dir.join("erin/01-sequential/src/main.rs"), LOOP_01);
    w("erin", "01-sequential", Want::Fail("timeout".into()));
    copy_dir(
        &sol("02-hello-thread"),
        &dir.join("erin/02-hello-thread"),
        Some("erin"),
    );
    w("erin", "02-hello-thread", Want::Pass);
    write(&dir.join("erin/homework/src/main.rs"), "fn main() {}\n");
    skipped.insert("erin/homework".to_string());
    write(
        &dir.join("erin/05-shared-counter/README.md"),
        "I ran out of time",
    );
    skipped.insert("erin/05-shared-counter".to_string());
    // frank: a clone with two library exercises.
    for id in &all[6..] {
        copy_dir(
            &sol(id),
            &dir.join("frank/exercises").join(id),
            Some("frank"),
        );
        w("frank", id, Want::Pass);
    }
    // grace.tgz: per-exercise folders, two library exercises.
    for id in &all[4..6] {
        copy_dir(&sol(id), &staging.join("grace").join(id), Some("grace"));
        w("grace", id, Want::Pass);
    }
    tar_gz_dir(&dir.join("grace.tgz"), &staging.join("grace"), ".");
    // heidi: a folder and an archive; the archive's second copy of 01 is a
    // duplicate, its 02 counts.
    copy_dir(
        &sol("01-sequential"),
        &dir.join("heidi/01-sequential"),
        Some("heidi"),
    );
    copy_dir(
        &sol("01-sequential"),
        &staging.join("heidi/01-sequential"),
        Some("heidi-zip"),
    );
    copy_dir(
        &sol("02-hello-thread"),
        &staging.join("heidi/02-hello-thread"),
        Some("heidi"),
    );
    zip_dir(&dir.join("heidi.zip"), &staging.join("heidi"), "");
    w("heidi", "01-sequential", Want::Pass);
    w("heidi", "02-hello-thread", Want::Pass);
    skipped.insert("heidi.zip:01-sequential".to_string());
    // Known-wrong fixtures of the bin exercises, each as a student: per
    // exercise the first whose category does not hang on timing (those are
    // `verify`'s to prove), a category not picked yet when there is one.
    let stable = ["wrong-answer", "compile-error", "forbidden", "crash"];
    let mut picked = BTreeSet::new();
    for id in &all[..4] {
        let wrong = repo().join("graders").join(id).join("wrong");
        let Ok(entries) = fs::read_dir(&wrong) else {
            continue;
        };
        let mut fixtures: Vec<(PathBuf, String)> = entries
            .flatten()
            .filter_map(|e| {
                let text = fs::read_to_string(e.path().join("expect.toml")).ok()?;
                let expect: toml::Table = text.parse().ok()?;
                Some((e.path(), expect.get("category")?.as_str()?.to_string()))
            })
            .filter(|(_, c)| stable.contains(&c.as_str()))
            .collect();
        fixtures.sort();
        let choice = fixtures
            .iter()
            .find(|(_, c)| !picked.contains(c))
            .or(fixtures.first());
        if let Some((path, category)) = choice {
            picked.insert(category.clone());
            let student = format!("fixture-{}", &id[..2]);
            copy_dir(path, &dir.join(&student).join(id), None);
            fs::remove_file(dir.join(&student).join(id).join("expect.toml")).unwrap();
            w(&student, id, Want::Fail(category.clone()));
        }
    }
    // Hostile archives: refused whole, nothing written outside.
    let main = fs::read(sol("01-sequential").join("src/main.rs")).unwrap();
    zip_file(
        &dir.join("mallory.zip"),
        &[
            ("01-sequential/src/main.rs", &main),
            ("../evil.rs", b"fn main() {}"),
        ],
    );
    skipped.insert("mallory.zip".to_string());
    {
        let gz = flate2::write::GzEncoder::new(
            fs::File::create(dir.join("trudy.tar.gz")).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        tar.append_link(&mut h, "01-sequential/src/main.rs", "/etc/passwd")
            .unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    skipped.insert("trudy.tar.gz".to_string());
    // Not students, or nothing in them.
    write(&dir.join("notes.txt"), "grading notes");
    skipped.insert("notes.txt".to_string());
    fs::create_dir_all(dir.join("zed")).unwrap();
    skipped.insert("zed".to_string());
    write(&dir.join(".DS_Store"), "");

    let mut students: BTreeSet<String> = want.keys().map(|(s, _)| s.clone()).collect();
    students.extend(["mallory", "trudy", "zed"].map(String::from));
    assert!(want.len() >= 30, "the class has {} submissions", want.len());
    Class {
        dir,
        want,
        skipped,
        students,
    }
}

/// Validates JUnit XML against the Ant and Jenkins schemas with xmllint.
#[track_caller]
fn validate_junit(xml: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junit.xml");
    fs::write(&file, xml).unwrap();
    for schema in ["ant-junit.xsd", "jenkins-junit-10.xsd"] {
        let out = std::process::Command::new("xmllint")
            .args(["--noout", "--schema"])
            .arg(repo().join("tests/schemas").join(schema))
            .arg(&file)
            .output()
            .expect("xmllint (Debian's libxml2-utils; .ci/run installs it)");
        assert!(
            out.status.success(),
            "junit.xml is not valid against {schema}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Checks every report of a batch against what the class should give.
#[track_caller]
fn check_reports(out: &Path, class: &Class) {
    let results = read_json(&out.join("results.json"));
    assert_eq!(results["schema"], 1);
    let exercises: Vec<String> = results["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(exercises, ids());
    let max: BTreeMap<String, u64> = results["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_string(),
                e["max_score"].as_u64().unwrap(),
            )
        })
        .collect();
    let students: BTreeSet<String> = results["students"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    assert_eq!(students, class.students);

    // results.json: one result a submission, as expected, sorted.
    let list = results["results"].as_array().unwrap();
    let got: BTreeMap<(String, String), &Value> = list
        .iter()
        .map(|r| {
            (
                (
                    r["student"].as_str().unwrap().to_string(),
                    r["exercise"].as_str().unwrap().to_string(),
                ),
                r,
            )
        })
        .collect();
    assert_eq!(got.len(), list.len(), "a submission appears twice");
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        class.want.keys().collect::<Vec<_>>(),
        "the graded submissions"
    );
    let order: Vec<_> = list
        .iter()
        .map(|r| {
            (
                r["student"].as_str().unwrap(),
                r["exercise"].as_str().unwrap(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(
        order, sorted,
        "results are sorted by student, then exercise"
    );
    for (key, want) in &class.want {
        let r = got[key];
        let cats: Vec<&str> = r["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        match want {
            Want::Pass => {
                assert_eq!(r["status"], "pass", "{key:?}: {r:#}");
                assert_eq!(r["score"].as_u64(), Some(max[&key.1]), "{key:?}");
            }
            Want::Fail(c) => {
                assert_eq!(r["status"], "fail", "{key:?}: {r:#}");
                assert!(
                    cats.contains(&c.as_str()),
                    "{key:?} should fail with {c}: {r:#}"
                );
                assert!(r["score"].as_u64().unwrap() < max[&key.1]);
            }
            Want::FailAny => assert_eq!(r["status"], "fail", "{key:?}: {r:#}"),
            Want::Graded => assert_ne!(r["status"], "error", "{key:?}: {r:#}"),
        }
        assert!(
            r["checks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["name"].is_string())
        );
    }

    // The skip list, with reasons.
    let skipped: BTreeMap<String, String> = results["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        skipped.keys().cloned().collect::<BTreeSet<_>>(),
        class.skipped
    );
    assert_eq!(skipped["bob/exercises/notes"], "not an exercise id");
    assert_eq!(skipped["erin/homework"], "not an exercise id");
    assert!(skipped["erin/05-shared-counter"].starts_with("empty submission"));
    assert!(skipped["heidi.zip:01-sequential"].contains("second copy"));
    assert!(
        skipped["mallory.zip"].contains("outside"),
        "{}",
        skipped["mallory.zip"]
    );
    assert!(
        skipped["trudy.tar.gz"].contains("link"),
        "{}",
        skipped["trudy.tar.gz"]
    );
    assert!(skipped["zed"].contains("no exercise folder"));
    assert!(skipped["notes.txt"].contains("not a folder"));

    // grades.csv: a row a student, a column an exercise, the total.
    let csv = fs::read_to_string(out.join("grades.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let mut header = vec!["student"];
    header.extend(exercises.iter().map(String::as_str));
    header.push("total");
    assert_eq!(rows[0], header);
    assert_eq!(rows.len(), 1 + class.students.len());
    for (row, student) in rows[1..].iter().zip(&class.students) {
        assert_eq!(row[0], student);
        let mut total = 0;
        for (i, id) in exercises.iter().enumerate() {
            match got.get(&(student.clone(), id.clone())) {
                Some(r) => {
                    assert_eq!(row[i + 1], r["score"].to_string(), "{student} {id}");
                    total += r["score"].as_u64().unwrap();
                }
                None => assert_eq!(row[i + 1], "", "{student} {id}"),
            }
        }
        assert_eq!(
            row[exercises.len() + 1],
            total.to_string(),
            "{student}'s total"
        );
    }

    // junit.xml: valid against both published schemas; a suite a student,
    // a case a check, a case for each exercise not handed in, an error for
    // a student with nothing gradable.
    let xml = fs::read_to_string(out.join("junit.xml")).unwrap();
    validate_junit(&xml);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suites: Vec<_> = doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(
        suites
            .iter()
            .map(|s| s.attribute("name").unwrap().to_string())
            .collect::<BTreeSet<_>>(),
        class.students
    );
    for suite in &suites {
        let student = suite.attribute("name").unwrap();
        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let mine: Vec<&Value> = list.iter().filter(|r| r["student"] == student).collect();
        let checks: usize = mine
            .iter()
            .map(|r| r["checks"].as_array().unwrap().len())
            .sum();
        let expected = if mine.is_empty() {
            1
        } else {
            checks + exercises.len() - mine.len()
        };
        assert_eq!(cases.len(), expected, "{student}'s cases");
        assert_eq!(suite.attribute("tests").unwrap(), expected.to_string());
        for case in cases {
            let kind = case
                .children()
                .find(|n| n.has_tag_name("failure") || n.has_tag_name("error"))
                .and_then(|n| n.attribute("type"));
            if mine.is_empty() {
                assert_eq!(kind, Some("ungradable"), "{student}");
                continue;
            }
            let Some(r) = got.get(&(
                student.to_string(),
                case.attribute("classname").unwrap().to_string(),
            )) else {
                assert_eq!(kind, Some("not-handed-in"), "{student}");
                continue;
            };
            let check = r["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == case.attribute("name").unwrap())
                .unwrap();
            let failure = case.children().find(|n| n.has_tag_name("failure"));
            assert_eq!(
                failure.is_some(),
                check["status"] != "pass",
                "a check not run lost its points: {student}: {check:#}"
            );
            if let Some(f) = failure {
                assert_eq!(
                    Some(f.attribute("type").unwrap()),
                    check["category"].as_str().or(Some("not-run"))
                );
                assert_eq!(
                    Some(f.attribute("message").unwrap()),
                    check["message"].as_str()
                );
            }
        }
    }

    // feedback/<student>.md: one a student, with what failed and why.
    let mut files: Vec<String> = fs::read_dir(out.join("feedback"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let want_files: Vec<String> = class.students.iter().map(|s| format!("{s}.md")).collect();
    assert_eq!(files, want_files);
    let dave = fs::read_to_string(out.join("feedback/dave.md")).unwrap();
    assert!(dave.starts_with("# Feedback for dave"), "{dave}");
    assert!(
        dave.contains("| 02-hello-thread | failed: compile-error | 0/10 |"),
        "{dave}"
    );
    assert!(
        dave.contains("| 04-early-exit | passed | 10/10 |"),
        "{dave}"
    );
    assert!(
        dave.contains("| 05-shared-counter | not handed in | 0/10 |"),
        "{dave}"
    );
    let section = |text: &str, id: &str| -> String {
        let start = text
            .find(&format!("\n## {id}"))
            .unwrap_or_else(|| panic!("{text}"));
        let rest = &text[start + 3..];
        rest[..rest.find("\n## ").unwrap_or(rest.len())].to_string()
    };
    let wrong = section(&dave, "01-sequential");
    assert!(
        wrong.contains("**Hint.**"),
        "a failing exercise shows its hint: {dave}"
    );
    assert!(wrong.contains("**What happened:**") && wrong.contains("**What to do:**"));
    let broken = section(&dave, "02-hello-thread");
    assert!(
        !broken.contains("**Hint.**"),
        "a compile error gets no hint about the exercise: {broken}"
    );
    assert!(broken.contains("### [compile-error]"), "{broken}");
    assert!(
        broken.contains("mismatched types"),
        "rustc's report: {broken}"
    );
    let erin = fs::read_to_string(out.join("feedback/erin.md")).unwrap();
    assert!(erin.contains("[timeout]"), "{erin}");
    assert!(
        erin.contains("## Not graded") && erin.contains("`erin/homework`: not an exercise id"),
        "{erin}"
    );
    let alice = fs::read_to_string(out.join("feedback/alice.md")).unwrap();
    assert!(
        alice.contains(&format!("Total: **{0} / {0}**", max.values().sum::<u64>())),
        "{alice}"
    );
    assert!(!alice.contains("**Hint.**"), "no hint when all passed");

    // report.html: self-contained, with the run's numbers.
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Content-Security-Policy"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
    assert!(html.contains(&format!(r#"id="students">{}<"#, class.students.len())));
    let graded = list.iter().filter(|r| r["status"] != "error").count();
    assert!(html.contains(&format!(r#"id="submissions">{graded}<"#)));
    assert!(html.contains(&format!(r#"id="skipped">{}<"#, class.skipped.len())));
    assert!(
        html.contains("of the students who handed in 02-hello-thread did not compile"),
        "a finding per category"
    );
}

/// Reports with what may differ between two gradings of the same class
/// taken out: times, and the wording of check messages (the figures a
/// check measures, which perturbed run exposed a failure first). Verdicts,
/// scores, categories and the checks themselves are compared as they are;
/// `grades.csv` holds nothing else and is compared whole.
fn redacted(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut results = read_json(&dir.join("results.json"));
    for r in results["results"].as_array_mut().unwrap() {
        r["duration_ms"] = Value::Null;
        r["graded_at"] = Value::Null;
        for c in r["checks"].as_array_mut().unwrap() {
            c["message"] = Value::Null;
            c["details"] = Value::Null;
        }
    }
    out.insert(
        "results.json".to_string(),
        serde_json::to_string_pretty(&results).unwrap(),
    );
    out.insert(
        "grades.csv".to_string(),
        fs::read_to_string(dir.join("grades.csv")).unwrap(),
    );
    // The page's student sections quote check messages and details, as
    // the feedback does: each check's mark, name and category stay.
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    let html = Regex::new(r#"(data-status="[a-z]+">[^<]*<code>[^<]*</code>(?: <strong>\[[a-z-]+\]</strong>)?): .*</li>"#)
        .unwrap()
        .replace_all(&html, "$1: _</li>");
    let html = Regex::new(r"(?s)<pre>.*?</pre>|<p>→ .*?</p>")
        .unwrap()
        .replace_all(&html, "_");
    out.insert("report.html".to_string(), html.into_owned());
    let junit = fs::read_to_string(dir.join("junit.xml")).unwrap();
    let junit = Regex::new(r#"(message|time|timestamp)="[^"]*""#)
        .unwrap()
        .replace_all(&junit, "$1=_");
    let junit = Regex::new(r">[^<]*</failure>")
        .unwrap()
        .replace_all(&junit, ">_</failure>");
    out.insert("junit.xml".to_string(), junit.into_owned());
    for e in fs::read_dir(dir.join("feedback")).unwrap().flatten() {
        let text = fs::read_to_string(e.path()).unwrap();
        // Headings, the score table, each check's mark, name, points and
        // category; not its message or details.
        let kept: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with('#') || l.starts_with('|') || l.starts_with("Total"))
            .chain(
                text.lines()
                    .filter(|l| ["- ✓", "- ✗", "- –"].iter().any(|m| l.starts_with(m)))
                    .map(|l| l.split(": ").next().unwrap()),
            )
            .collect();
        out.insert(
            format!("feedback/{}", e.file_name().to_string_lossy()),
            kept.join("\n"),
        );
    }
    out
}

#[track_caller]
fn assert_same_reports(a: &Path, b: &Path) {
    // Name the submission first when a verdict differs.
    let verdicts = |dir: &Path| -> BTreeMap<String, String> {
        read_json(&dir.join("results.json"))["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let key = format!("{}/{}", r["student"], r["exercise"]);
                (
                    key,
                    format!("{} {} {}", r["status"], r["score"], r["categories"]),
                )
            })
            .collect()
    };
    let (va, vb) = (verdicts(a), verdicts(b));
    for (key, v) in &va {
        assert_eq!(Some(v), vb.get(key), "the verdict on {key}");
    }
    let (ra, rb) = (redacted(a), redacted(b));
    assert_eq!(ra.keys().collect::<Vec<_>>(), rb.keys().collect::<Vec<_>>());
    for (name, text) in &ra {
        assert!(
            *text == rb[name],
            "{name} differs between {} and {}:\n{}",
            a.display(),
            b.display(),
            similar_diff(text, &rb[name])
        );
    }
}

fn similar_diff(a: &str, b: &str) -> String {
    a.lines()
        .zip(b.lines())
        .filter(|(x, y)| x != y)
        .take(10)
        .map(|(x, y)| format!("- {x}\n+ {y}\n"))
        .collect()
}

fn contains_file(dir: &Path, name: &str) -> bool {
    fs::read_dir(dir).into_iter().flatten().flatten().any(|e| {
        e.file_name() == name
            || (e.file_type().is_ok_and(|t| t.is_dir()) && contains_file(&e.path(), name))
    })
}

fn stored_results(cache: &Path) -> usize {
    let Ok(dirs) = fs::read_dir(cache.join("results")) else {
        return 0;
    };
    dirs.flatten()
        .flat_map(|d| fs::read_dir(d.path()).into_iter().flatten().flatten())
        .filter(|f| {
            f.file_name().to_string_lossy().ends_with(".json")
                && !f.file_name().to_string_lossy().starts_with('.')
        })
        .count()
}

#[test]
fn a_class_in_every_layout_is_graded_resumed_sharded_and_merged() {
    let course = Course::new();
    let class = build_class(&course);
    let total = class.want.len();
    let t0 = Instant::now();
    let step = |what: &str| eprintln!("{:>6.1} s  {what}", t0.elapsed().as_secs_f64());

    // One uninterrupted run: every report checked.
    let mut cmd = course.grader("cache-a");
    cmd.args(["batch", "--jobs", "2", "--out"])
        .arg(course.path("out-a"))
        .arg(&class.dir);
    let first = run(cmd).expect(0);
    assert_eq!(first.counts(), (total, 0), "{}", first.stdout);
    assert!(
        first
            .stdout
            .contains(&format!("skipped {}", class.skipped.len()))
    );
    assert!(
        first
            .stdout
            .contains("skipped mallory.zip: archive refused"),
        "{}",
        first.stdout
    );
    assert!(
        first.stderr.contains(&format!("[{total}/{total}]")),
        "plain progress lines: {}",
        first.stderr
    );
    check_reports(&course.path("out-a"), &class);
    step("reference run checked");
    assert!(
        !contains_file(course.root(), "evil.rs"),
        "an archive wrote outside its folder"
    );

    // Everything stored: nothing graded again, the same bytes.
    let mut cmd = course.grader("cache-a");
    cmd.args(["batch", "--out"])
        .arg(course.path("out-a2"))
        .arg(&class.dir);
    let again = run(cmd).expect(0);
    assert_eq!(again.counts(), (0, total));
    for (name, _) in redacted(&course.path("out-a")) {
        assert_eq!(
            fs::read(course.path("out-a").join(&name)).unwrap(),
            fs::read(course.path("out-a2").join(&name)).unwrap(),
            "{name}"
        );
    }

    // Two shards at once, sharing the store of the first run (as array
    // jobs on one file system do), then merged: the same reports as one
    // run, byte for byte.
    let shards: Vec<_> = (1..=2)
        .map(|k| {
            let mut c = course.std_grader("cache-a");
            c.args([
                "batch",
                "--jobs",
                "1",
                "--shard",
                &format!("{k}/2"),
                "--out",
            ])
            .arg(course.path(&format!("out-s{k}")))
            .arg(&class.dir);
            c.spawn().unwrap()
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut reused = 0;
    for (k, child) in shards.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "shard {}: {stdout}\n{}",
            k + 1,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(&format!("(shard {}/2)", k + 1)), "{stdout}");
        let counts = Run {
            code: 0,
            stdout,
            stderr: String::new(),
        }
        .counts();
        assert_eq!(counts.0, 0);
        reused += counts.1;
        let part = read_json(&course.path(&format!("out-s{}", k + 1)).join("results.json"));
        assert_eq!(part["shard"]["index"], k + 1);
        let students = part["students"].as_array().unwrap();
        assert!(
            students.len() >= class.students.len() / 2,
            "balanced shards"
        );
        for s in students {
            assert!(
                seen.insert(s.as_str().unwrap().to_string()),
                "{s} in two shards"
            );
        }
    }
    assert_eq!(reused, total);
    assert_eq!(seen, class.students, "the shards cover the class");
    step("shards");
    let mut cmd = course.grader("cache-a");
    cmd.args(["merge", "--out"])
        .arg(course.path("out-merged"))
        .arg(course.path("out-s2"))
        .arg(course.path("out-s1"));
    run(cmd).expect(0);
    for (name, _) in redacted(&course.path("out-a")) {
        assert_eq!(
            fs::read_to_string(course.path("out-a").join(&name)).unwrap(),
            fs::read_to_string(course.path("out-merged").join(&name)).unwrap(),
            "{name}"
        );
    }
    // A merge that lacks a shard is refused.
    let mut cmd = course.grader("cache-a");
    cmd.args(["merge", "--out"])
        .arg(course.path("out-bad"))
        .arg(course.path("out-s1"));
    let lacking = run(cmd).expect(2);
    assert!(
        lacking.stderr.contains("missing shard 2/2"),
        "{}",
        lacking.stderr
    );

    // Killed mid-way (SIGKILL), then run again: only the rest is graded,
    // and the reports equal the uninterrupted run's. The store is emptied
    // first; the rest of the cache (the model checker's prebuilt
    // dependencies) stays, as it would on an instructor's machine.
    let cache_b = course.path("cache-a");
    fs::remove_dir_all(cache_b.join("results")).unwrap();
    let mut child = course.std_grader("cache-a");
    child
        .args(["batch", "--jobs", "2", "--out"])
        .arg(course.path("out-b"))
        .arg(&class.dir);
    let mut child = child.spawn().unwrap();
    let started = Instant::now();
    while stored_results(&cache_b) < 6 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no results stored"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let stored = stored_results(&cache_b);
    step("killed");
    assert!(
        stored < total,
        "killed too late: {stored} of {total} stored"
    );
    let mut cmd = course.grader("cache-a");
    cmd.args(["batch", "--jobs", "2", "--out"])
        .arg(course.path("out-b"))
        .arg(&class.dir);
    let resumed = run(cmd).expect(0);
    assert_eq!(
        resumed.counts(),
        (total - stored, stored),
        "nothing graded twice"
    );
    assert_eq!(stored_results(&cache_b), total);
    assert_same_reports(&course.path("out-a"), &course.path("out-b"));
    step("resumed");

    // A changed submission is graded again, nothing else.
    let main = class.dir.join("alice/01-sequential/src/main.rs");
    let mut text = fs::read_to_string(&main).unwrap();
    text.push_str("// one more comment\n");
    fs::write(&main, text).unwrap();
    let mut cmd = course.grader("cache-a");
    cmd.args(["batch", "--out"])
        .arg(course.path("out-a3"))
        .arg(&class.dir);
    assert_eq!(run(cmd).expect(0).counts(), (1, total - 1));
}

#[test]
fn a_packed_solution_round_trips_through_batch() {
    let course = Course::new();
    for id in ids() {
        copy_dir(
            &repo().join("solutions").join(&id),
            &course.path("exercises").join(&id),
            None,
        );
    }
    // Not sources: must stay out of the archive.
    write(
        &course.path("exercises/01-sequential/target/debug/junk.rs"),
        "x",
    );
    write(&course.path("exercises/01-sequential/notes.txt"), "private");
    let class = course.path("class");
    fs::create_dir_all(&class).unwrap();

    let packed = run(course.grader("cache").arg("pack")).expect(0);
    assert!(
        packed
            .stdout
            .contains(&format!("packed {} exercises", ids().len())),
        "{}",
        packed.stdout
    );
    fs::rename(course.path("submission.tar.gz"), class.join("amy.tar.gz")).unwrap();
    let mut cmd = course.grader("cache");
    cmd.args(["pack", "--out"]).arg(class.join("ben.zip"));
    run(cmd).expect(0);
    // The zip holds the sources of exercises/ and nothing else.
    let mut zip = zip::ZipArchive::new(fs::File::open(class.join("ben.zip")).unwrap()).unwrap();
    let names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("exercises/") && n.contains("/src/") && n.ends_with(".rs")),
        "{names:?}"
    );
    assert!(names.contains(&"exercises/01-sequential/src/main.rs".to_string()));
    // Packing twice gives the same bytes.
    let mut cmd = course.grader("cache");
    cmd.args(["pack", "--out"]).arg(course.path("again.zip"));
    run(cmd).expect(0);
    assert_eq!(
        fs::read(class.join("ben.zip")).unwrap(),
        fs::read(course.path("again.zip")).unwrap()
    );

    let mut cmd = course.grader("cache");
    cmd.args(["batch", "--out"])
        .arg(course.path("out"))
        .arg(&class);
    let batch = run(cmd).expect(0);
    let n = ids().len();
    assert_eq!(batch.counts(), (2 * n, 0));
    let results = read_json(&course.path("out/results.json"));
    let list = results["results"].as_array().unwrap();
    assert_eq!(list.len(), 2 * n);
    assert!(list.iter().all(|r| r["status"] == "pass"), "{results:#}");
    assert_eq!(
        results["skipped"].as_array().unwrap().len(),
        0,
        "{results:#}"
    );
}

#[test]
fn check_writes_junit_github_and_gradescope() {
    let course = Course::new();
    let sol = repo().join("solutions/01-sequential");
    let wrong = course.path("wrong");
    write(&wrong.join("src/main.rs"), WRONG_01);
    let broken = course.path("broken");
    write(&broken.join("src/main.rs"), COMPILE_ERROR_02);
    let check = |path: &Path, format: &str| {
        let mut cmd = course.grader("cache");
        cmd.args(["check", "01-sequential", "--format", format, "--path"])
            .arg(path);
        cmd.current_dir(course.root());
        run(cmd)
    };

    // JUnit: well-formed, a case a check, the failure typed by category.
    let junit = check(&wrong, "junit").expect(1);
    let doc = roxmltree::Document::parse(&junit.stdout).unwrap();
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("name"), Some("01-sequential"));
    let failures: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(failures.len(), 1, "{}", junit.stdout);
    assert_eq!(failures[0].attribute("type"), Some("wrong-answer"));
    let junit = check(&sol, "junit").expect(0);
    let doc = roxmltree::Document::parse(&junit.stdout).unwrap();
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(suite.attribute("failures"), Some("0"));
    assert!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count()
            >= 2
    );

    // GitHub: the compile error annotated on its line, relative to the
    // working folder (the checkout).
    let gh = check(&broken, "github").expect(1);
    let line = gh
        .stdout
        .lines()
        .find(|l| l.starts_with("::error "))
        .unwrap_or_else(|| panic!("{}", gh.stdout));
    assert!(
        line.starts_with(
            "::error file=broken/src/main.rs,line=2,title=01-sequential%3A build [compile-error]::"
        ),
        "{line}"
    );
    assert!(!line["::error ".len()..].contains('\n'));
    assert!(
        gh.stdout.contains(
            "::error title=01-sequential%3A output not run::not run: the submission did not build"
        ),
        "{}",
        gh.stdout
    );
    assert!(
        gh.stdout
            .contains("::notice title=Autograding complete::Points 0/10")
    );
    let gh = check(&sol, "github").expect(0);
    assert!(
        gh.stdout
            .contains("::notice title=Autograding complete::Points 10/10\n"),
        "{}",
        gh.stdout
    );

    // Gradescope: the fields of its results.json.
    let gs = check(&wrong, "gradescope").expect(1);
    let v: Value = serde_json::from_str(&gs.stdout).unwrap();
    assert_eq!(v["score"], 0);
    assert!(v["execution_time"].as_f64().unwrap() > 0.0);
    assert_eq!(v["output_format"], "md");
    assert!(v["output"].as_str().unwrap().contains("**Hint.**"));
    let tests = v["tests"].as_array().unwrap();
    let output = tests
        .iter()
        .find(|t| t["name"] == "01-sequential: output")
        .unwrap();
    assert_eq!(output["status"], "failed");
    assert_eq!(output["max_score"], 10);
    assert_eq!(output["tags"], serde_json::json!(["wrong-answer"]));
    assert!(
        tests
            .iter()
            .all(|t| t["visibility"] == "visible" && t["number"].is_string())
    );
    let gs = check(&sol, "gradescope").expect(0);
    let v: Value = serde_json::from_str(&gs.stdout).unwrap();
    assert_eq!(v["score"], 10);
    let sum: u64 = v["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["score"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, 10);
    assert!(
        v["tests"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["status"] == "passed")
    );
}

#[test]
fn a_grader_fault_on_one_exercise_does_not_stop_the_batch() {
    let course = Course::new();
    // Exercise 02's spec no longer loads.
    fs::write(
        course.path("graders/02-hello-thread/spec.toml"),
        "format_version = 1\ntitle = ",
    )
    .unwrap();
    let class = course.path("class");
    for id in ["01-sequential", "02-hello-thread"] {
        copy_dir(
            &repo().join("solutions").join(id),
            &class.join("alice").join(id),
            None,
        );
    }
    let mut cmd = course.grader("cache");
    cmd.args(["batch", "--out"])
        .arg(course.path("out"))
        .arg(&class);
    let r = run(cmd).expect(1);
    assert!(r.stdout.contains("errors 1"), "{}", r.stdout);
    assert!(
        r.stdout.contains("error: alice/02-hello-thread:"),
        "{}",
        r.stdout
    );
    let results = read_json(&course.path("out/results.json"));
    let list = results["results"].as_array().unwrap();
    assert_eq!(list[0]["status"], "pass");
    assert_eq!(list[1]["status"], "error");
    let csv = fs::read_to_string(course.path("out/grades.csv")).unwrap();
    assert!(csv.contains("alice,10,,"), "{csv}");
    let junit = fs::read_to_string(course.path("out/junit.xml")).unwrap();
    assert!(
        roxmltree::Document::parse(&junit)
            .unwrap()
            .descendants()
            .any(|n| n.has_tag_name("error"))
    );

    // --exercise picks; an unknown id and a bad shard are usage errors.
    let mut cmd = course.grader("cache");
    cmd.args(["batch", "--exercise", "01-sequential", "--out"])
        .arg(course.path("out1"))
        .arg(&class);
    let one = run(cmd).expect(0);
    assert_eq!(one.counts(), (0, 1), "01 was stored by the first run");
    let csv = fs::read_to_string(course.path("out1/grades.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some("student,01-sequential,total"));

    // A gradebook for Canvas from a roster, identifiers exact; an `--out`
    // inside the class folder is never graded as a student, on this run
    // or the next.
    let roster = course.path("roster.csv");
    fs::write(
        &roster,
        "Student,ID,SIS User ID,SIS Login ID,Section,folder\n\"=Smith, Al\",42,-0017,al@u.edu,A1,alice\n",
    )
    .unwrap();
    for _ in 0..2 {
        let mut cmd = course.grader("cache");
        cmd.args([
            "batch",
            "--exercise",
            "01-sequential",
            "--gradebook",
            "canvas",
        ])
        .arg("--roster")
        .arg(&roster)
        .arg("--out")
        .arg(class.join("reports"))
        .arg(&class);
        let r = run(cmd).expect(0);
        assert!(!r.stdout.contains("skipped reports"), "{}", r.stdout);
    }
    let results = read_json(&class.join("reports/results.json"));
    assert_eq!(results["students"], serde_json::json!(["alice"]));
    assert_eq!(results["skipped"], serde_json::json!([]));
    let rows = |file: &str| -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(class.join("reports").join(file))
            .unwrap()
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    };
    assert_eq!(
        rows("gradebook.csv"),
        vec![
            vec![
                "Student",
                "ID",
                "SIS User ID",
                "SIS Login ID",
                "Section",
                "01-sequential"
            ],
            vec!["    Points Possible", "", "", "", "", "10"],
            vec!["'=Smith, Al", "42", "-0017", "al@u.edu", "A1", "10"],
        ]
    );
    assert_eq!(
        rows("grades.csv")[1],
        vec![
            "alice",
            "'=Smith, Al",
            "42",
            "-0017",
            "al@u.edu",
            "A1",
            "10",
            "10"
        ]
    );
    let mut cmd = course.grader("cache");
    cmd.args(["batch", "--gradebook", "moodle", "--roster"])
        .arg(&roster)
        .arg(&class);
    assert!(
        run(cmd)
            .expect(2)
            .stderr
            .contains("email, idnumber or username")
    );
    let mut cmd = course.grader("cache");
    cmd.args(["batch", "--exercise", "99-nope"]).arg(&class);
    assert!(
        run(cmd)
            .expect(2)
            .stderr
            .contains("unknown exercise `99-nope`")
    );
    let mut cmd = course.grader("cache");
    cmd.args(["batch", "--shard", "3/2"]).arg(&class);
    run(cmd).expect(2);
}

#[test]
fn the_class_report_opens_in_headless_chromium_and_its_links_lead_to_each_student() {
    let course = Course::new();
    let class = course.path("class");
    copy_dir(
        &repo().join("solutions/01-sequential"),
        &class.join("alice/01-sequential"),
        Some("alice"),
    );
    copy_dir(
        &repo().join("solutions/02-hello-thread"),
        &class.join("alice/02-hello-thread"),
        Some("alice"),
    );
    write(&class.join("bob/01-sequential/src/main.rs"), WRONG_01);
    copy_dir(
        &repo().join("solutions/01-sequential"),
        &class.join("carol/01-sequential"),
        Some("carol"),
    );
    fs::create_dir_all(class.join("dan")).unwrap();
    let out = course.path("out");
    let mut cmd = course.grader("cache");
    cmd.args([
        "batch",
        "--exercise",
        "01-sequential",
        "--exercise",
        "02-hello-thread",
        "--out",
    ])
    .arg(&out)
    .arg(&class);
    run(cmd).expect(0);

    let mut browser = browser::Browser::launch();
    let page = browser.open(&out.join("report.html"));
    let html = browser.eval(&page, "document.documentElement.outerHTML");
    let html = html.as_str().unwrap();
    let text = browser.eval(&page, "document.body.innerText");
    let text = Regex::new(r"\s+")
        .unwrap()
        .replace_all(text.as_str().unwrap(), " ")
        .into_owned();
    // 4 students, dan handed in nothing; 4 submissions, 3 passed; the
    // totals of those who handed in: 20/20, 0/20, 10/20.
    assert!(html.contains(r#"id="students">4</span>"#), "{html}");
    assert!(html.contains(r#"id="nothing">1 of 4</span>"#), "{html}");
    assert!(html.contains(r#"id="submissions">4</span>"#));
    assert!(html.contains(r#"id="passed">3 of 4 (75%)</span>"#));
    assert!(html.contains(r#"id="mean">50%</span>"#), "(100+0+50)/3");
    assert!(html.contains(r#"id="median">50%</span>"#));
    assert!(
        html.contains(r#"data-bucket="0–9%" data-count="1""#),
        "bob, not dan"
    );
    assert!(html.contains(r#"data-bucket="50–59%" data-count="1""#));
    assert!(html.contains(r#"data-bucket="100%" data-count="1""#));
    assert!(html.contains(r#"data-bucket="nothing" data-count="1""#));
    assert!(
        text.contains(
            "33% of the students who handed in 01-sequential gave a wrong answer (1 of 3 students)"
        ),
        "{text}"
    );
    assert!(
        text.contains("Lowest totals (2 of the 3 students who handed in something)"),
        "{text}"
    );
    assert!(
        text.contains("Handed in nothing (1 of 4 students)"),
        "{text}"
    );
    assert!(text.contains("nothing handed in"), "dan's row: {text}");
    assert!(
        text.contains("no exercise folder in it"),
        "the skip list: {text}"
    );

    // Bob's row links to his feedback: a click on it (a real mouse event)
    // brings his section into view, and it holds his failing check.
    let at = browser.eval(
        &page,
        r#"(() => {
            const a = document.querySelector('tr[data-student="bob"] a');
            a.scrollIntoView({block: "center"});
            const r = a.getBoundingClientRect();
            return {x: r.x + r.width / 2, y: r.y + r.height / 2, href: a.getAttribute("href")};
        })()"#,
    );
    let href = at["href"].as_str().unwrap().to_string();
    assert!(href.starts_with('#'), "{href}");
    browser.click(&page, at["x"].as_f64().unwrap(), at["y"].as_f64().unwrap());
    let started = Instant::now();
    while browser.eval(&page, "location.hash") != href.as_str() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the click on bob's row did not follow its link"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let target = browser.eval(
        &page,
        r#"(() => {
            const t = document.querySelector(":target");
            const r = t.getBoundingClientRect();
            return {
                student: t.dataset.student,
                top: r.top,
                height: innerHeight,
                failing: [...t.querySelectorAll('li[data-status="fail"]')].map(l => l.innerText),
                text: t.innerText,
            };
        })()"#,
    );
    assert_eq!(target["student"], "bob", "{target:#}");
    let top = target["top"].as_f64().unwrap();
    assert!(
        (-1.0..target["height"].as_f64().unwrap()).contains(&top),
        "bob's section is in view: {target:#}"
    );
    let failing = target["failing"].as_array().unwrap();
    assert!(
        failing.iter().any(|f| {
            let f = f.as_str().unwrap();
            f.contains("output") && f.contains("[wrong-answer]")
        }),
        "bob's failing check: {target:#}"
    );
    assert!(
        target["text"].as_str().unwrap().contains("Task 1 finished"),
        "what the check saw: {target:#}"
    );
    assert!(
        browser.complaints().is_empty(),
        "the page complained: {:#?}",
        browser.complaints()
    );
}
