//! The rules of a `lib-threads` check: the function, its calls, and the
//! bounds on the threads each call spawns, as expressions over its
//! arguments ([`crate::spec_expr`]).

use crate::spec_expr::{Arg, Expr, parse_signature};

/// The rules of a `lib-threads` check, parsed.
#[derive(Debug, Clone)]
pub struct CallRules {
    /// The function's path in the library (`parallel_sum`).
    pub function: String,
    pub params: Vec<String>,
    pub calls: Vec<Vec<Arg>>,
    pub min_threads: Expr,
    pub max_threads: Expr,
    pub min_share: f64,
}

/// The share a working thread must reach when the spec does not say.
pub const DEFAULT_MIN_SHARE: f64 = 0.5;

/// Threads a model follows besides the calling one (loom's limit).
pub const MODEL_THREADS: i64 = 4;

impl CallRules {
    /// `count_concurrently(4, 10)`: call `i` as the student reads it.
    pub fn label(&self, i: usize) -> String {
        let args: Vec<String> = self.calls[i].iter().map(|a| a.shown()).collect();
        format!("{}({})", self.function, args.join(", "))
    }
}

/// Parses and checks the keys of a `lib-threads` check.
pub(super) fn parse(
    call: &str,
    args: &[Vec<Arg>],
    threads: Option<&str>,
    min_threads: Option<&str>,
    max_threads: Option<&str>,
    min_share: Option<f64>,
) -> Result<CallRules, String> {
    let (function, params) = parse_signature(call)?;
    let (lo, hi) = match (threads, min_threads, max_threads) {
        (Some(t), None, None) => (t, t),
        (None, Some(lo), Some(hi)) => (lo, hi),
        (Some(_), _, _) => {
            return Err("give `threads`, or `min_threads` and `max_threads`, not both".into());
        }
        _ => {
            return Err(
                "say how many threads a call spawns: `threads`, or `min_threads` and `max_threads`"
                    .into(),
            );
        }
    };
    let parse =
        |key: &str, text: &str| Expr::parse(text).map_err(|e| format!("`{key}` = \"{text}\": {e}"));
    let rules = CallRules {
        function,
        params,
        calls: args.to_vec(),
        min_threads: parse("min_threads", lo)?,
        max_threads: parse("max_threads", hi)?,
        min_share: min_share.unwrap_or(DEFAULT_MIN_SHARE),
    };
    if !(0.0..=1.0).contains(&rules.min_share) {
        return Err("`min_share` must be between 0 and 1".into());
    }
    if rules.calls.is_empty() {
        return Err("`args` lists no call".into());
    }
    for (i, call_args) in rules.calls.iter().enumerate() {
        let which = format!("call {} ({})", i + 1, rules.label(i));
        if call_args.len() != rules.params.len() {
            return Err(format!(
                "{which} has {} arguments, but `{call}` names {} parameters",
                call_args.len(),
                rules.params.len()
            ));
        }
        let lo = rules
            .min_threads
            .eval(&rules.params, call_args)
            .map_err(|e| format!("{which}: {e}"))?;
        let hi = rules
            .max_threads
            .eval(&rules.params, call_args)
            .map_err(|e| format!("{which}: {e}"))?;
        if lo > hi {
            return Err(format!(
                "{which} asks for at least {lo} threads but at most {hi}"
            ));
        }
        if hi > MODEL_THREADS {
            return Err(format!(
                "{which} asks for up to {hi} threads; the model checker follows at most \
                     {MODEL_THREADS} besides the caller"
            ));
        }
    }
    Ok(rules)
}
