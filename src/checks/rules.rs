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
mod tests;
