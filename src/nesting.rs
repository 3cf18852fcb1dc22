//! Student source is parsed without risking the grader's own stack (issue
//! 10): a `main.rs` with an expression nested 50,000 deep made `syn`
//! recurse until `grader check` died of a stack overflow (exit 134), and in
//! `batch` took the whole class down with it; an overflow cannot be caught.
//!
//! Two defences. First a cheap bound, checked with no recursion at all on
//! `proc-macro2`'s tokens (its lexer and its drop are iterative): at most
//! [`MAX_DEPTH`] nested brackets and [`MAX_TOKENS`] tokens a file. A file
//! beyond either is refused as a `compile-error`-style verdict with the
//! line. Then every parse of student code (the scan, the model rewrite)
//! runs on a thread of its own whose stack holds the deepest recursion the
//! bound allows: `syn` recurses once per level of unbracketed nesting too
//! (`!!!!x`, `Vec<Vec<..>>`, `|| || ..`), and measured at 20,000 levels its
//! worst case (nested generic types) needs 256 MiB in a release build and
//! 1 GiB in a debug build, about 13 and 50 KiB a token. The stack is only
//! reserved address space until used.

use proc_macro2::{TokenStream, TokenTree};
use std::path::Path;
use std::str::FromStr;

/// Brackets nested deeper than this are refused. rustc's own limit on
/// macro recursion is 128 too; no course program comes near.
pub const MAX_DEPTH: usize = 128;

/// Tokens a file may hold: about 1,000 lines of dense code, ten times the
/// largest solution of the course.
pub const MAX_TOKENS: usize = 10_000;

/// The parsing thread's stack: room for [`MAX_TOKENS`] levels of the
/// deepest recursion measured, twice over (see the module's docs).
const STACK: usize = if cfg!(debug_assertions) {
    1 << 30
} else {
    256 << 20
};

/// A file past one of the bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooComplex {
    /// Relative path, e.g. `src/main.rs`.
    pub file: String,
    pub line: usize,
    pub what: String,
}

impl std::fmt::Display for TooComplex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}:{})", self.what, self.file, self.line)
    }
}

/// Checks one file's text against the bounds. Text that does not tokenize
/// passes: rustc reports it better.
pub fn check(file: &str, text: &str) -> Result<(), TooComplex> {
    let Ok(tokens) = TokenStream::from_str(text) else {
        return Ok(());
    };
    let mut count = 0usize;
    let mut stack = vec![(tokens.into_iter(), 0usize)];
    while let Some((mut iter, depth)) = stack.pop() {
        let Some(tree) = iter.next() else { continue };
        count += 1;
        if count > MAX_TOKENS {
            return Err(TooComplex {
                file: file.to_string(),
                line: tree.span().start().line,
                what: format!(
                    "the file is longer than the grader accepts (more than {MAX_TOKENS} tokens)"
                ),
            });
        }
        let inner = match &tree {
            TokenTree::Group(g) => Some(g.stream()),
            _ => None,
        };
        stack.push((iter, depth));
        if let Some(inner) = inner {
            if depth + 1 > MAX_DEPTH {
                return Err(TooComplex {
                    file: file.to_string(),
                    line: tree.span().start().line,
                    what: format!(
                        "brackets nest more than {MAX_DEPTH} deep, more than the grader accepts"
                    ),
                });
            }
            stack.push((inner.into_iter(), depth + 1));
        }
    }
    Ok(())
}

/// The first file of `files` (relative to `dir`) past a bound.
pub fn too_complex(dir: &Path, files: &[std::path::PathBuf]) -> Option<TooComplex> {
    files.iter().find_map(|rel| {
        let text = std::fs::read_to_string(dir.join(rel)).ok()?;
        check(&rel.to_string_lossy(), &text).err()
    })
}

/// Runs `f` (a parse of student code) on a thread with a stack for the
/// deepest recursion the bounds allow. `Err` when the thread cannot be
/// started (no address space for its stack): a grader fault, reported for
/// this submission only.
pub fn on_big_stack<R: Send>(f: impl FnOnce() -> R + Send) -> std::io::Result<R> {
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("parse".into())
            .stack_size(STACK)
            .spawn_scoped(s, f)?;
        Ok(handle
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_brackets_and_long_files_are_refused_with_the_line() {
        let deep = format!(
            "fn main() {{\n    let x = {}1{};\n}}\n",
            "(".repeat(50_000),
            ")".repeat(50_000)
        );
        let e = check("src/main.rs", &deep).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.what.contains("128 deep"), "{e}");
        let long = format!("fn main() {{ let x = 1{}; }}", " + 1".repeat(6_000));
        assert!(
            check("src/main.rs", &long)
                .unwrap_err()
                .what
                .contains("10000 tokens")
        );
        let fine = format!(
            "fn main() {{ let x = {}1{}; }}",
            "(".repeat(100),
            ")".repeat(100)
        );
        assert_eq!(check("src/main.rs", &fine), Ok(()));
    }

    #[test]
    fn the_deepest_parse_within_the_bounds_fits_the_stack() {
        // The costliest recursion measured: nested generic types, three
        // tokens a level, up to the token bound.
        let levels = MAX_TOKENS / 3 - 10;
        let src = format!(
            "type T = {}u8{};\n",
            "Vec<".repeat(levels),
            ">".repeat(levels)
        );
        assert_eq!(check("src/lib.rs", &src), Ok(()));
        let findings = on_big_stack(|| crate::scan::scan_source("src/lib.rs", &src)).unwrap();
        assert!(findings.is_empty());
        // The costliest a token in a debug build: nested references.
        let src = format!("type T = {}u8;\n", "&".repeat(MAX_TOKENS - 20));
        assert_eq!(check("src/lib.rs", &src), Ok(()));
        assert!(
            on_big_stack(|| crate::scan::scan_source("src/lib.rs", &src))
                .unwrap()
                .is_empty()
        );
        // And a unary chain as long as the bound allows.
        let src = format!("fn f() -> bool {{ {}true }}\n", "!".repeat(MAX_TOKENS - 20));
        assert_eq!(check("src/lib.rs", &src), Ok(()));
        let out = on_big_stack(|| crate::model::rewrite::rewrite_source("lib.rs", &src)).unwrap();
        assert!(out.rejections.is_empty());
    }
}
