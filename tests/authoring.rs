//! Writing exercises: `grader new`, the expressive output rules on real
//! programs, verify's claim about starters, and spec errors that point at
//! the offending line.

mod common;

use common::{Course, check_json};

fn spec_with(rules: &str, extra: &str) -> String {
    format!(
        r#"format_version = 1
title = "test"
lesson = "a lesson part"
kind = "bin"
hint = "a hint"
{extra}
[limits]
wall_ms = 5000
cpu_ms = 5000
[[check]]
kind = "output"
name = "output"
points = 10
rules = [{rules}]
"#
    )
}

#[track_caller]
fn grade(c: &Course, id: &str, main_rs: &str) -> (i32, serde_json::Value) {
    let sub = c.main(
        &format!(
            "subs/{}",
            c.root().join("subs").read_dir().map_or(0, |d| d.count())
        ),
        main_rs,
    );
    check_json(c, id, &sub)
}

#[track_caller]
fn message(v: &serde_json::Value, check: &str) -> String {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == check)
        .unwrap_or_else(|| panic!("no check {check}: {v:#}"))["message"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn any_of_accepts_either_wording_and_nothing_else() {
    let c = Course::new();
    c.spec(
        "01-words",
        &spec_with(
            r#"{ rule = "any-of", of = [
                [{ rule = "lines", lines = ["Hello, world"] }],
                [{ rule = "lines", lines = ["Hello world!"] }],
            ] }"#,
            "",
        ),
    );
    for ok in ["Hello, world", "Hello world!"] {
        let (code, v) = grade(
            &c,
            "01-words",
            &format!("fn main() {{ println!({ok:?}); }}"),
        );
        assert_eq!(code, 0, "{ok}: {v:#}");
    }
    let (code, v) = grade(&c, "01-words", "fn main() { println!(\"hello world\"); }");
    assert_eq!(code, 1, "{v:#}");
    assert!(
        message(&v, "output").starts_with("none of the 2 accepted forms"),
        "{v:#}"
    );
}

#[test]
fn line_rules_take_patterns() {
    let c = Course::new();
    c.spec(
        "01-pattern",
        &spec_with(
            r#"{ rule = "regex", pattern = "^worker \\d done$", count = 3 },
               { rule = "last", pattern = "^(all|every) workers? (done|finished)$" }"#,
            "",
        ),
    );
    let main = |last: &str| {
        format!(
            "fn main() {{ let hs: Vec<_> = (0..3).map(|i| std::thread::spawn(move || println!(\"worker {{i}} done\"))).collect(); \
             for h in hs {{ h.join().unwrap(); }} println!({last:?}); }}"
        )
    };
    let (code, v) = grade(&c, "01-pattern", &main("every worker finished"));
    assert_eq!(code, 0, "{v:#}");
    let (code, v) = grade(&c, "01-pattern", &main("bye"));
    assert_eq!(code, 1, "{v:#}");
    assert!(
        message(&v, "output").contains(
            "a line matching /^(all|every) workers? (done|finished)$/ must be the last line"
        ),
        "{v:#}"
    );
}

#[test]
fn output_is_exact_unless_the_check_says_otherwise() {
    let c = Course::new();
    let rules = r#"{ rule = "once", line = "result: 42" }, { rule = "last", line = "bye" }"#;
    c.spec("01-exact", &spec_with(rules, ""));
    let debug =
        "fn main() { println!(\"result: 42\"); println!(\"debug: x = 3\"); println!(\"bye\"); }";
    let (code, v) = grade(&c, "01-exact", debug);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(
        v["categories"],
        serde_json::json!(["wrong-answer"]),
        "{v:#}"
    );
    assert_eq!(
        message(&v, "output"),
        "line 2 `debug: x = 3` is not a line the exercise asks for"
    );
    let (code, v) = grade(
        &c,
        "01-exact",
        "fn main() { println!(\"result: 42\"); println!(\"bye\"); }",
    );
    assert_eq!(code, 0, "{v:#}");
    let lenient = spec_with(rules, "").replace("rules = [", "exact = false\nrules = [");
    c.spec("02-lenient", &lenient);
    let (code, v) = grade(&c, "02-lenient", debug);
    assert_eq!(code, 0, "{v:#}");
}

/// A worker that measures its own sleep: the value is checked against a
/// bound at normal timing and kept out of the perturbed runs.
#[test]
fn numeric_bounds_judge_a_measured_value() {
    let c = Course::new();
    let spec = spec_with(
        r#"{ rule = "regex", pattern = "^worker took (\\d+) ms$", count = 1, min = 40, perturbed = false },
           { rule = "last", line = "done" }"#,
        "",
    ) + "[[check]]\nkind = \"timing\"\nname = \"timing\"\npoints = 5\n";
    c.spec("01-measure", &spec);
    let measured = r#"use std::time::{Duration, Instant};
fn main() {
    let h = std::thread::spawn(|| {
        let t = Instant::now();
        std::thread::sleep(Duration::from_millis(40));
        println!("worker took {} ms", t.elapsed().as_millis());
    });
    h.join().unwrap();
    println!("done");
}"#;
    let (code, v) = grade(&c, "01-measure", measured);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["score"], 15, "{v:#}");
    let made_up = "fn main() { std::thread::spawn(|| println!(\"worker took 3 ms\")).join().unwrap(); println!(\"done\"); }";
    let (code, v) = grade(&c, "01-measure", made_up);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(
        message(&v, "output"),
        "line 1 `worker took 3 ms`: the value should be at least 40, but is 3"
    );
}

#[test]
fn a_misspelt_rule_is_reported_at_its_own_line() {
    let c = Course::new();
    let text = spec_with(
        "\n    { rule = \"once\", line = \"a\" },\n    { rule = \"regexp\", pattern = \"b\" },\n",
        "",
    );
    let line = text.lines().position(|l| l.contains("regexp")).unwrap() + 1;
    c.spec("01-typo", &text);
    let out = c.grader().args(["hint", "01-typo"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let first = err.lines().next().unwrap();
    assert!(
        first.ends_with(&format!("spec.toml:{line}:14: unknown variant `regexp`, expected one of `lines`, `unordered`, `once`, `last`, `first`, `before`, `regex`, `any-of`")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{line} |     {{ rule = \"regexp\", pattern = \"b\" }},"
        )),
        "{err}"
    );
    assert!(err.contains("did you mean `regex`?"), "{err}");

    // A top-level key written below `[limits]` belongs to `[limits]`.
    let misplaced = spec_with("{ rule = \"once\", line = \"a\" }", "")
        .replace("hint = \"a hint\"\n", "")
        .replace("cpu_ms = 5000\n", "cpu_ms = 5000\nhint = \"a hint\"\n");
    c.spec("02-order", &misplaced);
    let out = c.grader().args(["hint", "02-order"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().next().unwrap().contains("unknown field `hint`"),
        "{err}"
    );
    assert!(err.contains("after the table header `[limits]`"), "{err}");
}

#[test]
fn new_exercises_verify_at_once() {
    let c = Course::new();
    std::fs::create_dir_all(c.root().join("graders")).unwrap();
    for (id, kind, claims) in [("09-hello-again", "bin", 2), ("10-total", "lib+bin", 2)] {
        let out = c
            .grader()
            .args(["new", id, "--kind", kind])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        assert!(
            c.root()
                .join("graders")
                .join(id)
                .join("spec.toml")
                .is_file()
        );
        let out = c
            .grader()
            .args(["--color", "never", "verify", "--exercise", id])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains(&format!("verify: all {claims} claims hold")),
            "{text}"
        );
    }
    assert!(
        c.root()
            .join("graders/10-total/model/two_parts.rs")
            .is_file()
    );
    assert!(
        c.root()
            .join("graders/10-total/unit/edge_cases.rs")
            .is_file()
    );
    // Never overwrites.
    let out = c.grader().args(["new", "09-hello-again"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

#[test]
fn a_starter_that_does_not_build_breaks_verify_unless_the_spec_says_so() {
    let c = Course::new();
    std::fs::create_dir_all(c.root().join("graders")).unwrap();
    let out = c.grader().args(["new", "09-blank"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    std::fs::write(
        c.root().join("exercises/09-blank/src/main.rs"),
        "fn main() { todo }\n",
    )
    .unwrap();
    let verify = |c: &Course| {
        let out = c
            .grader()
            .args(["--color", "never", "verify", "--exercise", "09-blank"])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = verify(&c);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("starter does not compile"), "{text}");
    let spec = c.root().join("graders/09-blank/spec.toml");
    let t = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        t.replace("starter = \"fails\"", "starter = \"compile-error\""),
    )
    .unwrap();
    let (code, text) = verify(&c);
    assert_eq!(code, Some(0), "{text}");
}
