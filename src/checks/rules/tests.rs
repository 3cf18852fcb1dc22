//! Tests of the output rules: each rule as a spec writes it, against the
//! output it must accept and the output it must refuse, with the words it
//! refuses it in.

use super::*;

/// Rules as a spec writes them: `rules("{ rule = \"last\", line = \"x\" }")`.
fn rules(items: &str) -> Vec<Rule> {
    #[derive(serde::Deserialize)]
    struct R {
        rules: Vec<Rule>,
    }
    toml::from_str::<R>(&format!("rules = [{items}]"))
        .expect("valid rules")
        .rules
}

fn msgs(items: &str, out: &str) -> Vec<String> {
    evaluate(&rules(items), out)
        .into_iter()
        .map(|b| b.message)
        .collect()
}

#[test]
fn exact_lines_name_the_first_difference() {
    let r = rules(r#"{ rule = "lines", lines = ["a", "b"] }"#);
    assert!(evaluate(&r, "a\nb\n").is_empty());
    let b = evaluate(&r, "a\nc\n");
    assert_eq!(b[0].message, "line 2 should be `b` but was `c`");
    assert!(b[0].details.contains("- b"));
    assert!(b[0].details.contains("+ c"));
    assert_eq!(
        evaluate(&r, "a\n")[0].message,
        "line 2 should be `b` but the output has 1 line"
    );
    assert_eq!(
        evaluate(&r, "a\nb\nc\n")[0].message,
        "expected 2 lines, but there is more: line 3 is `c`"
    );
}

#[test]
fn the_last_line_needs_its_newline() {
    let b = msgs(r#"{ rule = "lines", lines = ["a", "b"] }"#, "a\nb");
    assert_eq!(b.len(), 1);
    assert!(b[0].contains("newline"));
}

#[test]
fn unordered_lines_accept_any_order() {
    let r = r#"{ rule = "unordered", lines = ["x", "y", "y"] }"#;
    assert!(msgs(r, "y\nx\ny\n").is_empty());
    assert_eq!(
        msgs(r, "y\nx\nz\n")[0],
        "the lines (in any order) are not right: missing `y`; unexpected `z`"
    );
}

#[test]
fn last_names_where_the_line_was() {
    let r = r#"{ rule = "last", line = "Main function finished" }"#;
    assert_eq!(
        msgs(r, "Main function finished\na\nb\n")[0],
        "`Main function finished` must be the last line; it was line 1 of 3"
    );
    assert!(msgs(r, "a\nMain function finished\n").is_empty());
}

#[test]
fn once_counts() {
    let r = r#"{ rule = "once", line = "x" }"#;
    assert!(msgs(r, "x\ny\n").is_empty());
    assert_eq!(
        msgs(r, "x\ny\nx\n")[0],
        "`x` must appear exactly once; it appeared 2 times (lines 1 and 3)"
    );
    assert!(msgs(r, "y\n")[0].ends_with("it is missing"));
}

#[test]
fn before_compares_every_occurrence() {
    let r = r#"{ rule = "before", first = "a", then = "b" }"#;
    assert!(msgs(r, "a\nb\n").is_empty());
    assert_eq!(
        msgs(r, "b\na\n")[0],
        "`a` must come before `b`; `b` was line 1 and `a` line 2"
    );
}

#[test]
fn line_rules_take_a_pattern_instead() {
    let last = r#"{ rule = "last", pattern = "^(All|Every) threads? (are )?(done|finished)$" }"#;
    assert!(msgs(last, "x\nAll threads finished\n").is_empty());
    assert!(msgs(last, "x\nEvery thread done\n").is_empty());
    assert_eq!(
        msgs(last, "All threads finished\nx\n")[0],
        "a line matching /^(All|Every) threads? (are )?(done|finished)$/ must be the last line; it was line 1 of 2"
    );
    let first = r#"{ rule = "first", pattern = "^start" }"#;
    assert!(msgs(first, "started\nx\n").is_empty());
    assert!(!msgs(first, "x\nstarted\n").is_empty());
    let once = r#"{ rule = "once", pattern = "^worker \\d$" }"#;
    assert!(msgs(once, "worker 1\nx\n").is_empty());
    assert!(msgs(once, "worker 1\nworker 2\n")[0].contains("appeared 2 times"));
    let before = r#"{ rule = "before", first_pattern = "^hello", then = "bye" }"#;
    assert!(msgs(before, "hello a\nhello b\nbye\n").is_empty());
    assert!(!msgs(before, "hello a\nbye\nhello b\n").is_empty());
}

#[test]
fn regex_counts_matching_lines() {
    let any = r#"{ rule = "regex", pattern = "^n = \\d+$" }"#;
    assert!(msgs(any, "n = 4\n").is_empty());
    assert!(!msgs(any, "n = x\n").is_empty());
    let two = r#"{ rule = "regex", pattern = "^t\\d$", count = 2 }"#;
    assert!(msgs(two, "t1\nt2\n").is_empty());
    assert_eq!(
        msgs(two, "t1\n")[0],
        "expected 2 lines matching /^t\\d$/, found 1"
    );
}

#[test]
fn numbers_are_compared_with_their_bounds() {
    let every = r#"{ rule = "regex", pattern = "^thread \\d took (\\d+) ms$", min = 250 }"#;
    assert!(msgs(every, "thread 0 took 250 ms\nthread 1 took 300 ms\n").is_empty());
    assert_eq!(
        msgs(every, "thread 0 took 300 ms\nthread 1 took 12 ms\n")[0],
        "line 2 `thread 1 took 12 ms`: the value should be at least 250, but is 12"
    );
    let last =
        r#"{ rule = "regex", pattern = "^count = (?P<value>\\d+)$", equals = 10, apply = "last" }"#;
    assert!(msgs(last, "count = 3\ncount = 10\n").is_empty());
    assert_eq!(
        msgs(last, "count = 10\ncount = 9\n")[0],
        "line 2 `count = 9`: the value should be 10, but is 9"
    );
    let max = r#"{ rule = "regex", pattern = "^(-?[0-9.]+)$", max = 1.5 }"#;
    assert!(msgs(max, "1.25\n").is_empty());
    assert!(msgs(max, "1.75\n")[0].contains("at most 1.5"));
}

#[test]
fn any_of_accepts_one_wording_or_another() {
    let r = r#"{ rule = "any-of", of = [
            [{ rule = "last", line = "Main function finished" }],
            [{ rule = "last", line = "main: done" }],
        ] }"#;
    assert!(msgs(r, "x\nMain function finished\n").is_empty());
    assert!(msgs(r, "x\nmain: done\n").is_empty());
    let b = evaluate(&rules(r), "main: done\nx\n");
    assert!(
        b[0].message.starts_with("none of the 2 accepted forms"),
        "{}",
        b[0].message
    );
    assert!(
        b[0].details
            .contains("2. `main: done` must be the last line")
    );
}

#[test]
fn exact_output_refuses_lines_no_rule_names() {
    let named = rules(
        r#"{ rule = "once", line = "a" }, { rule = "regex", pattern = "^t\\d$" },
               { rule = "any-of", of = [[{ rule = "last", line = "end" }], [{ rule = "last", line = "fin" }]] }"#,
    );
    let exact = [Rule::Exact {
        rules: named.clone(),
    }];
    assert!(evaluate(&exact, "t1\na\nt2\nend\n").is_empty());
    assert_eq!(
        evaluate(&exact, "t1\ndebug: 3\na\nfin\nend\n")[0].message,
        "line 2 `debug: 3` is not a line the exercise asks for (nor are lines 4)"
    );
}

#[test]
fn perturbed_runs_drop_timing_values() {
    let r = rules(
        r#"{ rule = "regex", pattern = "^took (\\d+) ms$", min = 250, perturbed = false },
               { rule = "last", line = "done" }"#,
    );
    let kept: Vec<Rule> = r.iter().filter_map(Rule::for_perturbed).collect();
    assert_eq!(kept.len(), 1);
    assert!(matches!(kept[0], Rule::Last { .. }));
}
