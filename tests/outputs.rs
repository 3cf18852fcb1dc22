//! The machine outputs against what reads them: JUnit validated against
//! the Ant and Jenkins schemas (tests/schemas/) with `xmllint`, GitHub
//! workflow commands parsed as the runner parses them, Gradescope's
//! results.json checked field by field; each for a passing, a failing, a
//! model-check-failing and an ungradable submission, through `check` and
//! through `handin` (a whole upload in one call).
//!
//! The course is the repository's own; submissions are its solutions and
//! known-wrong fixtures, graded in place (nothing is written to the
//! repository: `--path` never records progress).

mod common;

use common::repo;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `grader --root <repo>` with a cache of its own whose prebuilt model
/// dependencies are the ones every test shares.
fn grader(cache: &Path) -> assert_cmd::Command {
    let shared = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("grader-model-cache");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::create_dir_all(cache).unwrap();
    let link = cache.join("model");
    if std::fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink(&shared, &link).unwrap();
    }
    let mut c = common::grader();
    c.arg("--root").arg(repo());
    c.env("GRADER_CACHE_DIR", cache);
    c.timeout(std::time::Duration::from_secs(240));
    c
}

struct Out {
    code: i32,
    stdout: String,
}

#[track_caller]
fn run(mut cmd: assert_cmd::Command) -> Out {
    let o = cmd.output().unwrap();
    let stdout = String::from_utf8(o.stdout).expect("UTF-8 output");
    let code = o.status.code().unwrap_or(-1);
    if code == 2 && stdout.is_empty() {
        panic!("{}", String::from_utf8_lossy(&o.stderr));
    }
    Out { code, stdout }
}

/// Validates `xml` against both published JUnit schemas with xmllint.
#[track_caller]
fn validate(xml: &str, what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junit.xml");
    std::fs::write(&file, xml).unwrap();
    for schema in ["ant-junit.xsd", "jenkins-junit-10.xsd"] {
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(repo().join("tests/schemas").join(schema))
            .arg(&file)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "xmllint could not be run ({e}): install Debian's libxml2-utils \
                     (.ci/run does); the JUnit schemas were not checked"
                )
            });
        assert!(
            out.status.success(),
            "{what} is not valid against {schema}:\n{}\n{xml}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// One workflow command line, as the Actions runner splits it:
/// `::name key=value,key=value::message`, values percent-decoded.
#[derive(Debug)]
struct Workflow {
    name: String,
    props: Vec<(String, String)>,
    message: String,
}

fn decode(s: &str) -> String {
    s.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

fn commands(stdout: &str) -> Vec<Workflow> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("::"))
        .map(|l| {
            let (head, message) = l.split_once("::").expect("a command has `::` twice");
            let (name, props) = head.split_once(' ').unwrap_or((head, ""));
            let props = props
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').expect("key=value");
                    (k.to_string(), decode(v))
                })
                .collect();
            Workflow {
                name: name.to_string(),
                props,
                message: decode(message),
            }
        })
        .collect()
}

impl Workflow {
    fn prop(&self, k: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
}

/// The submissions: (name, exercise, folder, expected exit status).
fn submissions(empty: &Path) -> Vec<(&'static str, &'static str, PathBuf, i32)> {
    vec![
        (
            "passing",
            "05-shared-counter",
            repo().join("solutions/05-shared-counter"),
            0,
        ),
        (
            "failing",
            "01-sequential",
            repo().join("graders/01-sequential/wrong/wrong-order"),
            1,
        ),
        (
            "model-check-failing",
            "05-shared-counter",
            repo().join("graders/05-shared-counter/wrong/load-then-store"),
            1,
        ),
        ("ungradable", "01-sequential", empty.to_path_buf(), 2),
    ]
}

#[test]
fn check_outputs_are_what_their_readers_accept() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let empty = tmp.path().join("empty-upload");
    std::fs::create_dir_all(empty.join("notes")).unwrap();
    for (what, id, dir, code) in submissions(&empty) {
        let check = |format: &str| {
            let mut c = grader(&cache);
            c.args(["check", id, "--format", format, "--path"])
                .arg(&dir);
            c.current_dir(repo());
            let out = run(c);
            assert_eq!(out.code, code, "{what} --format {format}:\n{}", out.stdout);
            out.stdout
        };
        // (`--format json` of an ungradable submission is an error line.)
        let json: Value = if what == "ungradable" {
            Value::Null
        } else {
            serde_json::from_str(&check("json")).unwrap()
        };

        // JUnit: valid against both schemas; what each case says.
        let xml = check("junit");
        validate(&xml, &format!("the {what} submission's JUnit"));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert!(doc.root_element().attributes().next().is_none());
        let failures: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .collect();
        let errors: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("error"))
            .collect();
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("skipped"))
                .count(),
            0,
            "no check is neutral: {xml}"
        );
        match what {
            "passing" => assert!(failures.is_empty() && errors.is_empty(), "{xml}"),
            "failing" => {
                assert_eq!(failures[0].attribute("type"), Some("wrong-answer"), "{xml}")
            }
            "model-check-failing" => assert!(
                failures
                    .iter()
                    .any(|f| f.attribute("type") == Some("data-race")),
                "{xml}"
            ),
            _ => {
                assert_eq!(errors.len(), 1, "{xml}");
                assert_eq!(errors[0].attribute("type"), Some("grader-error"));
                assert!(errors[0].attribute("message").unwrap().contains("src/"));
            }
        }

        // GitHub: every line a well-formed command or plain text; an
        // annotation a failure, placed at the check's first location, from
        // the repository root; the points notice GitHub Classroom reads.
        let gh = check("github");
        let cmds = commands(&gh);
        let points = cmds
            .iter()
            .find(|c| c.prop("title") == Some("Autograding complete"))
            .unwrap_or_else(|| panic!("no points notice: {gh}"));
        assert_eq!(points.name, "notice");
        let report = cmds
            .iter()
            .find(|c| c.prop("title") == Some("Autograding report"))
            .unwrap();
        let report: Value = serde_json::from_str(&report.message).unwrap();
        let errors: Vec<&Workflow> = cmds.iter().filter(|c| c.name == "error").collect();
        match what {
            "passing" => {
                assert_eq!(points.message, "Points 10/10");
                assert_eq!(report["totalPoints"], 10);
                assert!(errors.is_empty(), "{gh}");
            }
            "ungradable" => {
                assert_eq!(points.message, "Points 0/10");
                assert_eq!(errors.len(), 1, "{gh}");
                assert_eq!(errors[0].prop("file"), None);
            }
            _ => {
                let failed: Vec<&Value> = json["checks"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|c| c["status"] == "fail")
                    .collect();
                assert_eq!(errors.len(), failed.len(), "{gh}");
                assert_eq!(
                    points.message,
                    format!("Points {}/{}", json["score"], json["max_score"])
                );
                for (e, c) in errors.iter().zip(&failed) {
                    assert!(e.message.starts_with(c["message"].as_str().unwrap()));
                    match c["locations"].as_array().and_then(|l| l.first()) {
                        // The first location, from the repository root.
                        Some(loc) => {
                            let file = e.prop("file").unwrap_or_else(|| panic!("{gh}"));
                            assert!(repo().join(file).is_file(), "{file}");
                            let rel = dir.strip_prefix(repo()).unwrap();
                            assert!(Path::new(file).starts_with(rel), "{file}");
                            assert!(
                                file.ends_with(loc["file"].as_str().unwrap()),
                                "{file} vs {loc}"
                            );
                            assert_eq!(e.prop("line").unwrap(), loc["line"].to_string(), "{gh}");
                        }
                        None => assert_eq!(e.prop("file"), None, "{gh}"),
                    }
                }
            }
        }

        // Gradescope: the fields of its specification, no doubled text.
        let gs: Value = serde_json::from_str(&check("gradescope")).unwrap();
        let tests = gs["tests"].as_array().unwrap();
        assert!(gs["execution_time"].is_number() && gs["output"].is_string());
        let sum: u64 = tests.iter().map(|t| t["score"].as_u64().unwrap()).sum();
        assert_eq!(gs["score"].as_u64(), Some(sum));
        for t in tests {
            assert!(t["name"].as_str().unwrap().starts_with(id));
            assert!(t["number"].is_string() && t["max_score"].is_number());
            assert!(["passed", "failed"].contains(&t["status"].as_str().unwrap()));
            assert_eq!(t["visibility"], "visible");
            let out = t["output"].as_str().unwrap();
            for doubled in ["not run: not run", "could not grade: could not grade"] {
                assert!(!out.contains(doubled), "{out}");
            }
        }
        match what {
            "passing" => assert_eq!(gs["score"], 10),
            "ungradable" => {
                assert_eq!(tests.len(), 1);
                assert_eq!(tests[0]["max_score"], 10);
                assert_eq!(tests[0]["tags"], serde_json::json!(["grader-error"]));
            }
            "failing" => assert!(
                tests
                    .iter()
                    .any(|t| t["tags"] == serde_json::json!(["wrong-answer"]))
            ),
            _ => assert!(
                tests
                    .iter()
                    .any(|t| t["tags"] == serde_json::json!(["data-race"]))
            ),
        }
    }
}

/// Copies a crate's `src/` under `to`.
fn copy_src(from: &Path, to: &Path) {
    for e in walk(&from.join("src")) {
        let rel = e.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&e, &dest).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn a_whole_hand_in_is_graded_in_one_call_in_every_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    // A GitHub upload: the repository wrapped in one folder, as a zip of a
    // branch is; the course's own folders beside the exercises.
    let upload = tmp.path().join("submission");
    let clone = upload.join("course-main");
    copy_src(
        &repo().join("solutions/01-sequential"),
        &clone.join("exercises/01-sequential"),
    );
    copy_src(
        &repo().join("graders/05-shared-counter/wrong/load-then-store"),
        &clone.join("exercises/05-shared-counter"),
    );
    std::fs::create_dir_all(clone.join("exercises/scratch")).unwrap();
    std::fs::create_dir_all(clone.join("graders/01-sequential")).unwrap();
    std::fs::write(clone.join("README.md"), "my course").unwrap();
    let expected = ["01-sequential", "02-hello-thread", "05-shared-counter"];
    let handin = |dir: &Path, format: &str, ids: &[&str]| {
        let mut c = grader(&cache);
        c.args(["handin", "--format", format]).arg(dir);
        for id in ids {
            c.args(["--exercise", id]);
        }
        run(c)
    };

    let gs = handin(&upload, "gradescope", &expected);
    assert_eq!(gs.code, 1, "{}", gs.stdout);
    let v: Value = serde_json::from_str(&gs.stdout).unwrap();
    let tests = v["tests"].as_array().unwrap();
    let names: Vec<&str> = tests.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"01-sequential: output"), "{names:?}");
    assert!(names.contains(&"02-hello-thread: handed in"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("05-shared-counter: ")));
    let missing = tests
        .iter()
        .find(|t| t["name"] == "02-hello-thread: handed in")
        .unwrap();
    assert_eq!(missing["status"], "failed");
    assert_eq!(missing["max_score"], 10);
    let max: u64 = tests.iter().map(|t| t["max_score"].as_u64().unwrap()).sum();
    assert_eq!(max, 30, "every expected exercise counts");
    assert!(
        v["score"].as_u64().unwrap() >= 10 && v["score"].as_u64().unwrap() < 30,
        "{v:#}"
    );
    let output = v["output"].as_str().unwrap();
    assert!(
        output.contains("exercises/scratch"),
        "the skip is said: {output}"
    );
    assert_eq!(
        v["extra_data"]["statuses"],
        serde_json::json!(["pass", "missing", "fail"])
    );

    // The same upload as JUnit (valid, one suite, the missing exercise a
    // failure) and as GitHub annotations with the hand-in's points.
    let junit = handin(&upload, "junit", &expected);
    validate(&junit.stdout, "a hand-in's JUnit");
    assert!(junit.stdout.contains(r#"type="not-handed-in""#));
    let gh = handin(&upload, "github", &expected);
    let cmds = commands(&gh.stdout);
    let points = cmds
        .iter()
        .find(|c| c.prop("title") == Some("Autograding complete"))
        .unwrap();
    assert_eq!(points.message, format!("Points {}/30", v["score"]));

    // `check --path` finds its exercise in the same upload.
    let mut c = grader(&cache);
    c.args(["check", "01-sequential", "--format", "gradescope", "--path"])
        .arg(&upload);
    let one = run(c);
    assert_eq!(one.code, 0, "{}", one.stdout);
    assert_eq!(
        serde_json::from_str::<Value>(&one.stdout).unwrap()["score"],
        10
    );

    // A bare crate, zipped, for one exercise.
    let zip_path = tmp.path().join("upload.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let main = std::fs::read(repo().join("solutions/01-sequential/src/main.rs")).unwrap();
    zip.start_file("hw/src/main.rs", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, &main).unwrap();
    zip.finish().unwrap();
    let one = handin(&zip_path, "gradescope", &["01-sequential"]);
    assert_eq!(one.code, 0, "{}", one.stdout);
    let v: Value = serde_json::from_str(&one.stdout).unwrap();
    assert_eq!(v["score"], 10);

    // Nothing in the upload: every expected exercise not handed in, and a
    // JUnit error rather than a green, empty suite.
    let nothing = tmp.path().join("nothing");
    std::fs::create_dir_all(nothing.join("notes")).unwrap();
    let junit = handin(&nothing, "junit", &["01-sequential"]);
    validate(&junit.stdout, "an empty hand-in's JUnit");
    assert!(
        junit.stdout.contains(r#"type="ungradable""#),
        "{}",
        junit.stdout
    );
    let gs = handin(&nothing, "gradescope", &["01-sequential"]);
    let v: Value = serde_json::from_str(&gs.stdout).unwrap();
    assert_eq!(v["score"], 0);
    assert_eq!(v["tests"][0]["name"], "01-sequential: handed in");
}

#[test]
fn visibility_comes_from_the_spec() {
    let c = common::Course::new();
    let spec = common::lines_spec(&["hi"], 5000).replace(
        "hint = \"a hint\"\n",
        "hint = \"a hint\"\nvisibility = \"after_due_date\"\n",
    );
    c.spec("01-x", &spec);
    let dir = c.main("sub", "fn main() { println!(\"hi\"); }\n");
    let out = c
        .grader()
        .args(["check", "01-x", "--format", "gradescope", "--path"])
        .arg(&dir)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tests = v["tests"].as_array().unwrap();
    assert!(!tests.is_empty());
    assert!(
        tests.iter().all(|t| t["visibility"] == "after_due_date"),
        "{v:#}"
    );
}
