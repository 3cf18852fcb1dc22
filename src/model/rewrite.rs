//! Makes a submission's library model-checkable: rewrites its `std::sync`,
//! `std::thread` and `std::hint` paths to the grader's loom facade
//! (`grader_conc`), in place, and rejects what the model cannot represent.
//!
//! Only the root segment changes (`std` → `grader_conc`, also for `core`,
//! `alloc`, `::std`, `use std::{..}` trees and `std::*` globs); the facade
//! re-exports the rest of `std`, so a rewritten `use std::{collections::
//! HashMap, sync::Mutex}` still finds `HashMap`. Spans come from
//! `proc-macro2` (span-locations) over the raw tokens, which also reaches
//! paths inside macro bodies (`vec![Mutex::new(0)]`), and the replacement
//! stays on its line, so the model's explanations point at the student's
//! own line numbers.
//!
//! Rejected, with the construct and its line, because a model of them would
//! be wrong or silently incomplete (research/loom.md: a bypass passes
//! silently): items of `std::sync`/`std::thread` the facade does not model
//! (`OnceLock`, `LazyLock`, `Weak`, `AtomicPtr`, ...), `static` items holding
//! synchronisation types (they keep their value from one explored
//! interleaving to the next, and loom's atomics have no `const fn new`),
//! `thread_local!`, a renamed `std`/`core` (`use std as s`), and the clock
//! (`Instant`, `SystemTime`), which makes the replay of an interleaving
//! non-deterministic.
//!
//! The parts: `rewrite/rules.rs` (what is modelled, and the rejections),
//! `rewrite/tokens.rs` (path roots in the tokens), `rewrite/items.rs`
//! (`use` trees and statics in the syntax tree), `rewrite/modules.rs`
//! (which files are the library).

mod items;
mod modules;
mod rules;
mod tokens;

pub use modules::library_files;
pub(crate) use rules::INTROSPECT_WHY;
pub use rules::Rejection;

use items::ItemScan;
use proc_macro2::{LineColumn, TokenStream};
use std::collections::BTreeSet;
use std::str::FromStr;
use syn::visit::Visit;
use tokens::TokenScan;

/// The crate the rewritten paths point to.
pub const FACADE: &str = "grader_conc";

/// What one file needs: its rewritten text, or why it cannot be checked.
#[derive(Debug, Default)]
pub struct FileRewrite {
    pub text: String,
    pub rejections: Vec<Rejection>,
}

/// Rewrites one source file. `file` is its name relative to `src/`, for the
/// messages. A file that does not tokenize is returned unchanged: rustc
/// reports it better.
pub fn rewrite_source(file: &str, text: &str) -> FileRewrite {
    let Ok(tokens) = TokenStream::from_str(text) else {
        return FileRewrite {
            text: text.to_string(),
            ..FileRewrite::default()
        };
    };
    let mut scan = TokenScan {
        file,
        roots: BTreeSet::new(),
        rejections: Vec::new(),
    };
    scan.walk(tokens);
    let mut rejections = scan.rejections;
    if let Ok(ast) = syn::parse_file(text) {
        let mut items = ItemScan {
            file,
            rejections: Vec::new(),
        };
        items.visit_file(&ast);
        rejections.extend(items.rejections);
    }
    rejections.sort();
    rejections.dedup_by(|a, b| a.line == b.line && a.what == b.what);

    let offsets = LineOffsets::new(text);
    let mut out = String::with_capacity(text.len() + 16 * scan.roots.len());
    let mut at = 0;
    for (start, end) in scan
        .roots
        .iter()
        .filter_map(|&(s, e)| Some((offsets.byte(text, s)?, offsets.byte(text, e)?)))
    {
        out.push_str(&text[at..start]);
        out.push_str(FACADE);
        at = end;
    }
    out.push_str(&text[at..]);
    FileRewrite {
        text: out,
        rejections,
    }
}

/// Byte offsets of line starts, to turn a span's line/column into a byte
/// index (columns count characters, not bytes).
struct LineOffsets(Vec<usize>);

impl LineOffsets {
    fn new(text: &str) -> LineOffsets {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineOffsets(starts)
    }

    fn byte(&self, text: &str, lc: LineColumn) -> Option<usize> {
        let start = *self.0.get(lc.line.checked_sub(1)?)?;
        let line = &text[start..];
        let offset = line
            .char_indices()
            .nth(lc.column)
            .map(|(i, _)| i)
            .unwrap_or(line.len());
        Some(start + offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(text: &str) -> FileRewrite {
        rewrite_source("lib.rs", text)
    }

    #[test]
    fn plain_paths_are_rewritten_in_place() {
        let src = "use std::sync::atomic::{AtomicUsize, Ordering};\nuse std::sync::Arc;\nuse std::thread;\nuse std::collections::HashMap;\n";
        let out = rw(src);
        assert_eq!(
            out.text,
            "use grader_conc::sync::atomic::{AtomicUsize, Ordering};\nuse grader_conc::sync::Arc;\nuse grader_conc::thread;\nuse std::collections::HashMap;\n"
        );
        assert!(out.rejections.is_empty(), "{:?}", out.rejections);
    }

    #[test]
    fn nested_trees_leading_colons_core_and_macro_bodies() {
        let src = "use std::{sync::{Arc, Mutex}, thread, time::Duration};\n\
                   fn f() { let v = vec![::std::sync::Mutex::new(0)]; core::hint::spin_loop(); \
                   let x = core::sync::atomic::AtomicU8::new(0); let _ = (v, x); }\n";
        let out = rw(src);
        assert!(
            out.text
                .starts_with("use grader_conc::{sync::{Arc, Mutex}, thread, time::Duration};\n")
        );
        assert!(
            out.text
                .contains("vec![::grader_conc::sync::Mutex::new(0)]"),
            "{}",
            out.text
        );
        assert!(out.text.contains("grader_conc::hint::spin_loop()"));
        assert!(
            out.text
                .contains("grader_conc::sync::atomic::AtomicU8::new(0)")
        );
        assert_eq!(out.text.lines().count(), src.lines().count());
        assert!(out.rejections.is_empty(), "{:?}", out.rejections);
    }

    #[test]
    fn unicode_before_a_path_keeps_the_right_offsets() {
        let out = rw("// é ü\nfn f() { let s = \"ünï\"; std::thread::yield_now(); let _ = s; }\n");
        assert!(
            out.text
                .contains("\"ünï\"; grader_conc::thread::yield_now()"),
            "{}",
            out.text
        );
    }

    #[test]
    fn other_std_paths_are_left_alone() {
        let src =
            "use std::time::Duration;\nfn f() -> std::vec::Vec<u8> { std::vec::Vec::new() }\n";
        assert_eq!(rw(src).text, src);
    }

    #[test]
    fn unmodelled_items_are_rejected_with_their_line() {
        let out = rw(
            "use std::sync::Mutex;\nuse std::sync::{Arc, OnceLock};\nfn f() { let _ = std::sync::Weak::<u8>::new(); }\n",
        );
        let found: Vec<(usize, &str)> = out
            .rejections
            .iter()
            .map(|r| (r.line, r.what.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![(2, "`std::sync::OnceLock`"), (3, "`std::sync::Weak`")]
        );
    }

    #[test]
    fn statics_renames_thread_locals_and_clocks_are_rejected() {
        let src = "use std::sync::atomic::AtomicUsize;\n\
                   static COUNT: AtomicUsize = AtomicUsize::new(0);\n\
                   use std as s;\n\
                   thread_local! { static X: u8 = 0; }\n\
                   fn f() { let t = std::time::Instant::now(); let _ = t; }\n\
                   static NAME: &str = \"ok\";\n";
        let out = rw(src);
        let lines: Vec<usize> = out.rejections.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5], "{:?}", out.rejections);
        assert!(out.rejections[0].what.contains("static COUNT"));
    }

    #[test]
    fn a_leading_colon_path_after_a_keyword_is_a_root() {
        let out = rw("use ::std::sync::Arc;\nfn f(x: &mut ::std::sync::Mutex<u8>) {}\n");
        assert_eq!(
            out.text,
            "use ::grader_conc::sync::Arc;\nfn f(x: &mut ::grader_conc::sync::Mutex<u8>) {}\n"
        );
    }

    #[test]
    fn a_local_module_named_std_is_not_a_root() {
        let src = "mod m { pub mod std { pub mod sync {} } }\nuse m::std::sync;\n";
        assert_eq!(rw(src).text, src);
    }
}
