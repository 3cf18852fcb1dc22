//! The output rules, judged against the lines a program printed.
//!
//! Threads print in an order nobody controls, so most rules say nothing of
//! order: a set of lines in any order, "exactly once", "this line is last",
//! "A before B", a number within bounds. Each broken rule is named in words a
//! student can act on ("`Main function finished` must be the last line; it
//! was line 1 of 3").

use crate::spec::{Apply, LineMatch, Rule};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A rule the output broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// One line, naming the rule and what was seen.
    pub message: String,
    /// Optional extra lines (a diff).
    pub details: String,
}

impl Broken {
    fn new(message: String) -> Broken {
        Broken {
            message,
            details: String::new(),
        }
    }
}

/// Checks every rule against the program's stdout; returns the broken ones.
pub fn evaluate(rules: &[Rule], stdout: &str) -> Vec<Broken> {
    let mut broken = Vec::new();
    let lines = split_lines(stdout);
    if !stdout.is_empty() && !stdout.ends_with('\n') {
        broken.push(Broken::new(format!(
            "the last line `{}` does not end with a newline (use `println!`)",
            lines.last().copied().unwrap_or_default()
        )));
    }
    broken.extend(rules.iter().filter_map(|rule| check_rule(rule, &lines)));
    broken
}

fn split_lines(stdout: &str) -> Vec<&str> {
    let body = stdout.strip_suffix('\n').unwrap_or(stdout);
    if stdout.is_empty() {
        Vec::new()
    } else {
        body.split('\n').collect()
    }
}

/// 1-based numbers of the lines `m` matches.
fn positions(lines: &[&str], m: &LineMatch) -> Vec<usize> {
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| m.matches(l))
        .map(|(i, _)| i + 1)
        .collect()
}

fn list(ns: &[usize]) -> String {
    let s: Vec<String> = ns.iter().map(|n| n.to_string()).collect();
    match s.len() {
        0 => String::new(),
        1 => s[0].clone(),
        _ => format!("{} and {}", s[..s.len() - 1].join(", "), s[s.len() - 1]),
    }
}

fn of(lines: &[&str]) -> String {
    match lines.len() {
        0 => "the output is empty".to_string(),
        1 => "the output has 1 line".to_string(),
        n => format!("the output has {n} lines"),
    }
}

fn check_rule(rule: &Rule, lines: &[&str]) -> Option<Broken> {
    let fail = |message: String| Some(Broken::new(message));
    // Rules are validated when the spec is loaded; one that slipped through
    // is reported as broken rather than passed.
    let invalid = |e: String| Some(Broken::new(format!("a rule of the spec is invalid: {e}")));
    match rule {
        Rule::Lines { lines: want } => exact_lines(want, lines),
        Rule::Unordered { lines: want } => unordered(want, lines),
        Rule::Once { .. } => {
            let m = match rule.line_match()? {
                Ok(m) => m,
                Err(e) => return invalid(e),
            };
            let at = positions(lines, &m);
            match at.len() {
                1 => None,
                0 => fail(format!("{m} must appear exactly once; it is missing")),
                n => fail(format!(
                    "{m} must appear exactly once; it appeared {n} times (lines {})",
                    list(&at)
                )),
            }
        }
        Rule::Last { .. } | Rule::First { .. } => {
            let m = match rule.line_match()? {
                Ok(m) => m,
                Err(e) => return invalid(e),
            };
            let (which, held) = if matches!(rule, Rule::Last { .. }) {
                ("last", lines.last().is_some_and(|l| m.matches(l)))
            } else {
                ("first", lines.first().is_some_and(|l| m.matches(l)))
            };
            if held {
                return None;
            }
            let at = positions(lines, &m);
            if at.is_empty() {
                fail(format!("{m} must be the {which} line; it is missing"))
            } else {
                fail(format!(
                    "{m} must be the {which} line; it was line {} of {}",
                    list(&at),
                    lines.len()
                ))
            }
        }
        Rule::Before { .. } => {
            let (first, then) = match rule.before_sides()? {
                Ok(sides) => sides,
                Err(e) => return invalid(e),
            };
            let a = positions(lines, &first);
            let b = positions(lines, &then);
            if a.is_empty() {
                return fail(format!(
                    "{first} must come before {then}; {first} is missing"
                ));
            }
            if b.is_empty() {
                return fail(format!(
                    "{first} must come before {then}; {then} is missing"
                ));
            }
            let last_a = *a.last().expect("non-empty");
            let first_b = b[0];
            if last_a < first_b {
                None
            } else {
                fail(format!(
                    "{first} must come before {then}; {then} was line {first_b} and {first} line {last_a}"
                ))
            }
        }
        Rule::Regex {
            pattern,
            count,
            min,
            max,
            equals,
            apply,
            ..
        } => {
            let re = match regex::Regex::new(pattern) {
                Ok(re) => re,
                Err(e) => return invalid(e.to_string()),
            };
            let matching: Vec<(usize, &str)> = lines
                .iter()
                .enumerate()
                .filter(|(_, l)| re.is_match(l))
                .map(|(i, l)| (i + 1, *l))
                .collect();
            let n = matching.len();
            match count {
                None if n == 0 => return fail(format!("no line matches /{pattern}/")),
                Some(c) if n != *c => {
                    return fail(format!(
                        "expected {c} line{} matching /{pattern}/, found {n}",
                        if *c == 1 { "" } else { "s" }
                    ));
                }
                _ => {}
            }
            let bounds = Bounds {
                min: *min,
                max: *max,
                equals: *equals,
            };
            if bounds.is_empty() {
                return None;
            }
            let judged: &[(usize, &str)] = match apply {
                Apply::Every => &matching,
                Apply::Last => &matching[matching.len().saturating_sub(1)..],
            };
            judged
                .iter()
                .find_map(|(at, line)| bounds.judge(&re, *at, line))
                .map(Broken::new)
        }
        Rule::AnyOf { of: alternatives } => {
            let mut first_broken = Vec::new();
            for alt in alternatives {
                let broken: Vec<Broken> = alt.iter().filter_map(|r| check_rule(r, lines)).collect();
                if broken.is_empty() {
                    return None;
                }
                first_broken.push(broken.into_iter().next().expect("non-empty"));
            }
            let mut details = String::from("no alternative holds:\n");
            for (i, b) in first_broken.iter().enumerate() {
                let _ = writeln!(details, "  {}. {}", i + 1, b.message);
            }
            Some(Broken {
                message: format!(
                    "none of the {} accepted forms of the output holds; the first: {}",
                    alternatives.len(),
                    first_broken[0].message
                ),
                details,
            })
        }
        Rule::Exact { rules } => {
            let named = Named::of(rules, lines);
            let extra: Vec<usize> = (1..=lines.len()).filter(|n| !named.covers(*n)).collect();
            let first = *extra.first()?;
            fail(format!(
                "line {first} `{}` is not a line the exercise asks for{}",
                lines[first - 1],
                if extra.len() > 1 {
                    format!(" (nor are lines {})", list(&extra[1..]))
                } else {
                    String::new()
                }
            ))
        }
    }
}

/// Numeric bounds on a captured value.
struct Bounds {
    min: Option<f64>,
    max: Option<f64>,
    equals: Option<f64>,
}

impl Bounds {
    fn is_empty(&self) -> bool {
        self.min.is_none() && self.max.is_none() && self.equals.is_none()
    }

    /// Why line `at` breaks the bounds, or `None`.
    fn judge(&self, re: &regex::Regex, at: usize, line: &str) -> Option<String> {
        let caps = re.captures(line)?;
        let text = caps
            .name("value")
            .or_else(|| caps.get(1))
            .map(|m| m.as_str())
            .unwrap_or_default();
        let Ok(value) = text.trim().parse::<f64>() else {
            return Some(format!("line {at} `{line}`: `{text}` should be a number"));
        };
        let shown = |v: f64| format!("{v}");
        if let Some(e) = self.equals
            && value != e
        {
            return Some(format!(
                "line {at} `{line}`: the value should be {}, but is {}",
                shown(e),
                shown(value)
            ));
        }
        if let Some(lo) = self.min
            && value < lo
        {
            return Some(format!(
                "line {at} `{line}`: the value should be at least {}, but is {}",
                shown(lo),
                shown(value)
            ));
        }
        if let Some(hi) = self.max
            && value > hi
        {
            return Some(format!(
                "line {at} `{line}`: the value should be at most {}, but is {}",
                shown(hi),
                shown(value)
            ));
        }
        None
    }
}

/// Which output lines a list of rules names, for `exact` checks.
struct Named(Vec<bool>);

impl Named {
    fn of(rules: &[Rule], lines: &[&str]) -> Named {
        let mut named = Named(vec![false; lines.len()]);
        named.add(rules, lines);
        named
    }

    fn covers(&self, n: usize) -> bool {
        self.0.get(n - 1).copied().unwrap_or(false)
    }

    fn mark(&mut self, lines: &[&str], m: &LineMatch) {
        for (i, l) in lines.iter().enumerate() {
            if m.matches(l) {
                self.0[i] = true;
            }
        }
    }

    fn add(&mut self, rules: &[Rule], lines: &[&str]) {
        for rule in rules {
            match rule {
                Rule::Lines { lines: want } | Rule::Unordered { lines: want } => {
                    for w in want {
                        self.mark(lines, &LineMatch::Exact(w.clone()));
                    }
                }
                Rule::Once { .. } | Rule::Last { .. } | Rule::First { .. } => {
                    if let Some(Ok(m)) = rule.line_match() {
                        self.mark(lines, &m);
                    }
                }
                Rule::Before { .. } => {
                    if let Some(Ok((a, b))) = rule.before_sides() {
                        self.mark(lines, &a);
                        self.mark(lines, &b);
                    }
                }
                Rule::Regex { pattern, .. } => {
                    if let Ok(re) = regex::Regex::new(pattern) {
                        self.mark(lines, &LineMatch::Pattern(re));
                    }
                }
                // The lines of the alternative that holds (or, when none
                // does, of every alternative: the any-of rule fails anyway).
                Rule::AnyOf { of } => {
                    let holding = of
                        .iter()
                        .find(|alt| alt.iter().all(|r| check_rule(r, lines).is_none()));
                    match holding {
                        Some(alt) => self.add(alt, lines),
                        None => of.iter().for_each(|alt| self.add(alt, lines)),
                    }
                }
                Rule::Exact { .. } => {}
            }
        }
    }
}

fn exact_lines(want: &[String], lines: &[&str]) -> Option<Broken> {
    if lines.iter().copied().eq(want.iter().map(String::as_str)) {
        return None;
    }
    let expected = want.join("\n") + "\n";
    let got = if lines.is_empty() {
        String::new()
    } else {
        lines.join("\n") + "\n"
    };
    let first = want
        .iter()
        .zip(lines)
        .position(|(w, g)| w != g)
        .unwrap_or(want.len().min(lines.len()));
    let message = match (want.get(first), lines.get(first)) {
        (Some(w), Some(g)) => format!("line {} should be `{w}` but was `{g}`", first + 1),
        (Some(w), None) => format!("line {} should be `{w}` but {}", first + 1, of(lines)),
        (None, Some(g)) => format!(
            "expected {} lines, but there is more: line {} is `{g}`",
            want.len(),
            first + 1
        ),
        (None, None) => "the output differs from the expected lines".to_string(),
    };
    Some(Broken {
        message,
        details: diff(&expected, &got),
    })
}

fn unordered(want: &[String], lines: &[&str]) -> Option<Broken> {
    let mut need: BTreeMap<&str, isize> = BTreeMap::new();
    for w in want {
        *need.entry(w.as_str()).or_default() += 1;
    }
    for g in lines {
        *need.entry(g).or_default() -= 1;
    }
    let missing: Vec<&str> = need
        .iter()
        .filter(|(_, n)| **n > 0)
        .flat_map(|(l, n)| std::iter::repeat_n(*l, *n as usize))
        .collect();
    let extra: Vec<&str> = need
        .iter()
        .filter(|(_, n)| **n < 0)
        .flat_map(|(l, n)| std::iter::repeat_n(*l, (-*n) as usize))
        .collect();
    if missing.is_empty() && extra.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing {}", quote_all(&missing)));
    }
    if !extra.is_empty() {
        parts.push(format!("unexpected {}", quote_all(&extra)));
    }
    let mut details = String::from("expected these lines, in any order:\n");
    for w in want {
        let _ = writeln!(details, "  {w}");
    }
    Some(Broken {
        message: format!(
            "the lines (in any order) are not right: {}",
            parts.join("; ")
        ),
        details,
    })
}

fn quote_all(lines: &[&str]) -> String {
    lines
        .iter()
        .map(|l| format!("`{l}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A line diff, `-` expected, `+` got.
pub fn diff(expected: &str, got: &str) -> String {
    let mut out = String::from("--- expected\n+++ got\n");
    let d = similar::TextDiff::from_lines(expected, got);
    for change in d.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => ' ',
        };
        let text = change.value().strip_suffix('\n').unwrap_or(change.value());
        let _ = writeln!(out, "{sign} {text}");
    }
    out
}

/// The output with line numbers, for failure details.
pub fn numbered(text: &str) -> String {
    let lines = split_lines(text);
    if lines.is_empty() {
        return "    (nothing)\n".to_string();
    }
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        let _ = writeln!(out, "  {:>3} | {l}", i + 1);
    }
    out
}

#[cfg(test)]
mod tests {
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
        let last =
            r#"{ rule = "last", pattern = "^(All|Every) threads? (are )?(done|finished)$" }"#;
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
        let last = r#"{ rule = "regex", pattern = "^count = (?P<value>\\d+)$", equals = 10, apply = "last" }"#;
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
}
