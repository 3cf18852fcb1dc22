//! Walks around the model checker, and what stops them (issue 10).
//!
//! [`super::rewrite`] points the paths a library writes at the grader's
//! facade; it reads source text, so a spelling it does not recognise (`std`
//! passed to a macro as an argument, `crate::std` after `extern crate std`,
//! `self::std`, `r#std`, a renamed extern crate) would reach the real
//! `std::sync` or `std::thread` unseen, and the model would pass code whose
//! races it never saw. So the harness's own compile is checked as well
//! ([`crate::compiled`]): a function of the student's crate that still
//! references a real synchronisation or thread item, or other state the
//! model cannot see (files, environment variables, pipes, the clock), or
//! the harness's own machinery, makes the library `forbidden`, with the
//! item and, where the line tables give it, the line. The rewrite stays
//! the first line of defence, for its faster and better-worded messages;
//! this is the guarantee behind it.
//!
//! Also here: the grader's scenarios share a crate with the student's
//! library in the one-call harness build, and a `macro_rules! ensure` (or
//! `vec`) defined in the library would be in textual scope of the scenario
//! modules that follow it and silently replace their assertions. Scenario
//! copies therefore call every macro by its absolute path.

use super::rewrite::Rejection;
use crate::compiled::{Ir, Reach, Rule};
use proc_macro2::{Delimiter, TokenStream, TokenTree};
use std::collections::HashSet;
use std::str::FromStr;

/// Data types of `std::sync` and `std::thread` that hold no shared state:
/// the facade re-exports std's own, so they appear in correct code.
const PLAIN: &[&str] = &[
    "Ordering",
    "PoisonError",
    "TryLockError",
    "RecvError",
    "SendError",
    "TryRecvError",
    "TrySendError",
    "RecvTimeoutError",
    "SendTimeoutError",
    "panicking",
];

/// What a library under the model checker may not reach, with why.
const RULES: &[(Rule, &str)] = &[
    (
        Rule {
            prefix: "std::sync",
            except: PLAIN,
        },
        SIGHT,
    ),
    (
        Rule {
            prefix: "core::sync",
            except: PLAIN,
        },
        SIGHT,
    ),
    (
        Rule {
            prefix: "alloc::sync",
            except: PLAIN,
        },
        SIGHT,
    ),
    (
        Rule {
            prefix: "std::thread",
            except: PLAIN,
        },
        SIGHT,
    ),
    (
        Rule {
            prefix: "std::panicking::set_hook",
            except: &[],
        },
        HOOK,
    ),
    (
        Rule {
            prefix: "std::panicking::take_hook",
            except: &[],
        },
        HOOK,
    ),
    (
        Rule {
            prefix: "std::panicking::update_hook",
            except: &[],
        },
        HOOK,
    ),
    (
        Rule {
            prefix: "std::fs",
            except: &[],
        },
        STATE,
    ),
    (
        Rule {
            prefix: "std::env::set_var",
            except: &[],
        },
        STATE,
    ),
    (
        Rule {
            prefix: "std::env::remove_var",
            except: &[],
        },
        STATE,
    ),
    (
        Rule {
            prefix: "std::env::set_current_dir",
            except: &[],
        },
        STATE,
    ),
    (
        Rule {
            prefix: "std::io::pipe",
            except: &[],
        },
        STATE,
    ),
    (
        Rule {
            prefix: "std::time::Instant",
            except: &[],
        },
        CLOCK,
    ),
    (
        Rule {
            prefix: "std::time::SystemTime",
            except: &[],
        },
        CLOCK,
    ),
    (
        Rule {
            prefix: "grader_conc::model",
            except: &[],
        },
        HARNESS,
    ),
    (
        Rule {
            prefix: "grader_conc::trace",
            except: &[],
        },
        HARNESS,
    ),
];

const SIGHT: &str = "is the real standard library's, out of the model checker's sight: the grader \
     points `std::sync` and `std::thread` paths at its model, and this one is spelled so that \
     it was not (a macro argument, `crate::std`, `self::std`, `r#std`, a renamed crate...); \
     write plain `std::sync::...` and `std::thread::...` paths";
const HOOK: &str = "replacing the panic hook would hide the model checker's reports of failed \
     interleavings; let panics reach the harness";
const STATE: &str = "keeps shared state (a file, an environment variable, a pipe) that the model \
     checker cannot see, so a race through it would go unnoticed; keep shared data in `Arc`, \
     `Mutex`, atomics or channels";
const CLOCK: &str = "the model checker replays every interleaving and cannot model the clock; \
     wait for threads with `join`, a channel or a `Condvar`, not for time to pass";
const HARNESS: &str = "is the model harness's own machinery, not for the library to call";

/// The harness build's rejections: what functions of `crates` reach that
/// the model cannot check. `skip` names the grader's own functions
/// compiled into the same crate.
pub fn check(ir: &Ir, crates: &[&str], skip: &dyn Fn(&str) -> bool) -> Vec<Rejection> {
    let rules: Vec<Rule> = RULES.iter().map(|(r, _)| *r).collect();
    ir.reaches(crates, skip, &rules)
        .into_iter()
        .map(|r| rejection(&r, crates))
        .collect()
}

fn rejection(r: &Reach, crates: &[&str]) -> Rejection {
    let from = crates
        .iter()
        .find_map(|c| r.from.strip_prefix(&format!("{c}::")))
        .unwrap_or(&r.from);
    let (file, line) = match &r.line {
        Some(l) => (l.file.clone(), l.line as usize),
        None => (format!("`{from}`"), 0),
    };
    Rejection {
        file,
        line,
        what: format!("`{}`", r.item),
        why: RULES[r.rule].1.to_string(),
    }
}

/// A grader scenario with every macro called by its absolute path
/// (`ensure!` → `::grader_conc::ensure!`, `vec!` → `::std::vec!`), so no
/// `macro_rules!` of the library can stand in for it. Macros the file
/// defines itself keep their names. Lines and columns of everything else
/// stay where they were.
pub fn qualify_macros(text: &str) -> String {
    let Ok(tokens) = TokenStream::from_str(text) else {
        return text.to_string();
    };
    let mut own = HashSet::new();
    let mut calls = Vec::new();
    walk(tokens, &mut own, &mut calls);
    let starts = line_starts(text);
    let mut out = String::with_capacity(text.len() + 16 * calls.len());
    let mut at = 0;
    for (name, lc) in calls {
        if own.contains(&name) {
            continue;
        }
        let Some(byte) = byte_at(text, &starts, lc) else {
            continue;
        };
        out.push_str(&text[at..byte]);
        out.push_str(if name == "ensure" {
            "::grader_conc::"
        } else {
            "::std::"
        });
        at = byte;
    }
    out.push_str(&text[at..]);
    out
}

/// Bare macro calls (`name!(..)` not preceded by `::`), and the names that
/// `macro_rules!` defines.
fn walk(
    stream: TokenStream,
    own: &mut HashSet<String>,
    calls: &mut Vec<(String, proc_macro2::LineColumn)>,
) {
    // An explicit stack: a grader file is trusted, but no input of the
    // grader's should recurse without bound.
    let mut stack = vec![stream];
    while let Some(stream) = stack.pop() {
        let tokens: Vec<TokenTree> = stream.into_iter().collect();
        for (i, t) in tokens.iter().enumerate() {
            match t {
                TokenTree::Group(g) => stack.push(g.stream()),
                TokenTree::Ident(id) => {
                    let bang = matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                    if !bang {
                        continue;
                    }
                    let name = id.to_string();
                    if name == "macro_rules" {
                        if let Some(TokenTree::Ident(def)) = tokens.get(i + 2) {
                            own.insert(def.to_string());
                        }
                        continue;
                    }
                    let called = matches!(tokens.get(i + 2), Some(TokenTree::Group(g)) if g.delimiter() != Delimiter::None);
                    let qualified = i >= 1
                        && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == ':');
                    if called && !qualified {
                        calls.push((name, id.span().start()));
                    }
                }
                _ => {}
            }
        }
    }
    calls.sort_by_key(|(_, lc)| (lc.line, lc.column));
}

fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    starts
}

/// Columns count characters, not bytes.
fn byte_at(text: &str, starts: &[usize], lc: proc_macro2::LineColumn) -> Option<usize> {
    let start = *starts.get(lc.line.checked_sub(1)?)?;
    let line = &text[start..];
    let off = line
        .char_indices()
        .nth(lc.column)
        .map(|(i, _)| i)
        .unwrap_or(line.len());
    Some(start + off)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_macros_are_called_by_their_absolute_path() {
        let src = "use x::f;\nmacro_rules! mine { () => {} }\npub fn scenario() {\n    let v = vec![1, 2];\n    mine!();\n    ensure!(f(v) == 3, \"é {}\", format!(\"{}\", 1));\n    ::std::assert!(true);\n}\n";
        let out = qualify_macros(src);
        assert_eq!(
            out,
            "use x::f;\nmacro_rules! mine { () => {} }\npub fn scenario() {\n    let v = ::std::vec![1, 2];\n    mine!();\n    ::grader_conc::ensure!(f(v) == 3, \"é {}\", ::std::format!(\"{}\", 1));\n    ::std::assert!(true);\n}\n"
        );
        assert_eq!(out.lines().count(), src.lines().count());
    }
}
