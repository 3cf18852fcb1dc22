//! Output rules ([`Rule`]), made for concurrent programs: what a spec may
//! say of the lines a program prints, and how each is checked when the
//! spec is loaded. Judging them against a run is `checks::rules`' job.

use serde::Deserialize;

/// An output rule, made for concurrent programs: most rules say nothing of
/// the order of lines that threads print at the same time.
///
/// A rule that names one line takes it either exactly (`line`) or as a
/// regular expression (`pattern`); exactly one of the two is given.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Rule {
    /// The output is exactly these lines, in this order.
    Lines { lines: Vec<String> },
    /// The output is exactly these lines, in any order (no line missing,
    /// none extra, each as often as listed).
    Unordered { lines: Vec<String> },
    /// This line appears exactly once.
    Once {
        #[serde(default)]
        line: Option<String>,
        #[serde(default)]
        pattern: Option<String>,
    },
    /// This line is the last line.
    Last {
        #[serde(default)]
        line: Option<String>,
        #[serde(default)]
        pattern: Option<String>,
    },
    /// This line is the first line.
    First {
        #[serde(default)]
        line: Option<String>,
        #[serde(default)]
        pattern: Option<String>,
    },
    /// Every occurrence of `first` comes before every occurrence of `then`
    /// (both must appear). Either side may be a pattern instead
    /// (`first_pattern`, `then_pattern`).
    Before {
        #[serde(default)]
        first: Option<String>,
        #[serde(default)]
        first_pattern: Option<String>,
        #[serde(default)]
        then: Option<String>,
        #[serde(default)]
        then_pattern: Option<String>,
    },
    /// Exactly `count` lines (default: at least one) match the pattern.
    /// With `min`, `max` or `equals`, the pattern's first capture group (or
    /// the group named `value`) is read as a number and compared, on every
    /// matching line or only on the last (`apply = "last"`).
    Regex {
        pattern: String,
        #[serde(default)]
        count: Option<usize>,
        #[serde(default)]
        min: Option<f64>,
        #[serde(default)]
        max: Option<f64>,
        #[serde(default)]
        equals: Option<f64>,
        #[serde(default)]
        apply: Apply,
        /// `false` keeps this rule out of the perturbed runs of a `timing`
        /// check (for values that depend on timing itself).
        #[serde(default = "yes")]
        perturbed: bool,
    },
    /// At least one of these lists of rules holds (say, two wordings of the
    /// same line).
    AnyOf { of: Vec<Vec<Rule>> },
    /// Every line of the output is one that `rules` name. Added by the spec
    /// loader for an `output` check with `exact = true`; not written in specs.
    #[serde(skip)]
    Exact { rules: Vec<Rule> },
}

/// Which matching lines a numeric bound applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Apply {
    /// Every matching line.
    #[default]
    Every,
    /// The last matching line only.
    Last,
}

pub(super) fn yes() -> bool {
    true
}

/// One line a rule names: exactly, or by a pattern.
#[derive(Debug, Clone)]
pub enum LineMatch {
    Exact(String),
    Pattern(regex::Regex),
}

impl LineMatch {
    fn new(line: &Option<String>, pattern: &Option<String>) -> Result<LineMatch, String> {
        match (line, pattern) {
            (Some(l), None) => Ok(LineMatch::Exact(l.clone())),
            (None, Some(p)) => regex::Regex::new(p)
                .map(LineMatch::Pattern)
                .map_err(|e| format!("bad regex: {}", one_line(&e.to_string()))),
            (Some(_), Some(_)) => Err("give either a line or a pattern, not both".into()),
            (None, None) => Err("needs a line or a pattern".into()),
        }
    }

    pub fn matches(&self, text: &str) -> bool {
        match self {
            LineMatch::Exact(l) => l == text,
            LineMatch::Pattern(re) => re.is_match(text),
        }
    }
}

impl std::fmt::Display for LineMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineMatch::Exact(l) => write!(f, "`{l}`"),
            LineMatch::Pattern(re) => write!(f, "a line matching /{}/", re.as_str()),
        }
    }
}

impl Rule {
    /// The one line of `once`, `first` and `last` (validated at load time).
    pub fn line_match(&self) -> Option<Result<LineMatch, String>> {
        match self {
            Rule::Once { line, pattern }
            | Rule::Last { line, pattern }
            | Rule::First { line, pattern } => Some(LineMatch::new(line, pattern)),
            _ => None,
        }
    }

    /// The two sides of `before`.
    pub fn before_sides(&self) -> Option<Result<(LineMatch, LineMatch), String>> {
        match self {
            Rule::Before {
                first,
                first_pattern,
                then,
                then_pattern,
            } => Some(
                LineMatch::new(first, first_pattern)
                    .map_err(|e| format!("`first`: {e}"))
                    .and_then(|a| {
                        LineMatch::new(then, then_pattern)
                            .map(|b| (a, b))
                            .map_err(|e| format!("`then`: {e}"))
                    }),
            ),
            _ => None,
        }
    }

    /// This rule as it applies in a perturbed run: rules marked
    /// `perturbed = false` drop out (inside `any-of` too).
    pub fn for_perturbed(&self) -> Option<Rule> {
        match self {
            Rule::Regex {
                perturbed: false, ..
            } => None,
            Rule::AnyOf { of } => {
                let of: Vec<Vec<Rule>> = of
                    .iter()
                    .map(|alt| alt.iter().filter_map(Rule::for_perturbed).collect())
                    .collect();
                // An alternative emptied by the filter holds trivially.
                if of.iter().any(Vec::is_empty) {
                    None
                } else {
                    Some(Rule::AnyOf { of })
                }
            }
            other => Some(other.clone()),
        }
    }

    pub(super) fn validate(&self) -> Result<(), String> {
        let regex = |p: &str| {
            regex::Regex::new(p).map_err(|e| format!("bad regex: {}", one_line(&e.to_string())))
        };
        match self {
            Rule::Lines { lines } | Rule::Unordered { lines } if lines.is_empty() => {
                Err("lists no lines".into())
            }
            Rule::Lines { .. } | Rule::Unordered { .. } => Ok(()),
            Rule::Once { .. } | Rule::Last { .. } | Rule::First { .. } => {
                self.line_match().expect("a one-line rule").map(|_| ())
            }
            Rule::Before { .. } => self.before_sides().expect("a before rule").map(|_| ()),
            Rule::Regex {
                pattern,
                min,
                max,
                equals,
                ..
            } => {
                let re = regex(pattern)?;
                let bounded = min.is_some() || max.is_some() || equals.is_some();
                if bounded && re.captures_len() < 2 {
                    return Err(format!(
                        "`min`, `max` and `equals` compare a number the pattern captures, \
                         but /{pattern}/ has no capture group: write it as `(\\d+)`"
                    ));
                }
                if let (Some(lo), Some(hi)) = (min, max)
                    && lo > hi
                {
                    return Err(format!("`min` ({lo}) is above `max` ({hi})"));
                }
                Ok(())
            }
            Rule::AnyOf { of } => {
                if of.len() < 2 {
                    return Err("`any-of` needs at least two lists of rules in `of`".into());
                }
                for (i, alt) in of.iter().enumerate() {
                    if alt.is_empty() {
                        return Err(format!("`any-of`: alternative {} has no rules", i + 1));
                    }
                    for r in alt {
                        r.validate()
                            .map_err(|e| format!("`any-of`, alternative {}: {e}", i + 1))?;
                    }
                }
                Ok(())
            }
            Rule::Exact { .. } => Ok(()),
        }
    }
}

/// toml errors span several lines with a source excerpt; keep one line.
pub(super) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
