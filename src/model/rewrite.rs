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

use proc_macro2::{Delimiter, LineColumn, Spacing, TokenStream, TokenTree};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use syn::visit::Visit;

/// The crate the rewritten paths point to.
pub const FACADE: &str = "grader_conc";

/// Something the model checker cannot check, at a line of a file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rejection {
    /// Path relative to the submission's `src/`, e.g. `lib.rs`.
    pub file: String,
    pub line: usize,
    /// What was found, in the student's words (`std::sync::OnceLock`).
    pub what: String,
    /// Why it cannot be model-checked, and what to use instead.
    pub why: String,
}

impl Rejection {
    /// `lib.rs:12`; or only the file (or function) when the line is not
    /// known (line 0).
    pub fn at(&self) -> String {
        match self.line {
            0 => self.file.clone(),
            n => format!("{}:{n}", self.file),
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {}: {}", self.what, self.at(), self.why)
    }
}

const SYNC: &[&str] = &[
    "Arc",
    "Mutex",
    "MutexGuard",
    "RwLock",
    "RwLockReadGuard",
    "RwLockWriteGuard",
    "Condvar",
    "WaitTimeoutResult",
    "Barrier",
    "BarrierWaitResult",
    "LockResult",
    "PoisonError",
    "TryLockError",
    "TryLockResult",
    "atomic",
    "mpsc",
];
const ATOMIC: &[&str] = &[
    "AtomicBool",
    "AtomicUsize",
    "AtomicIsize",
    "AtomicU8",
    "AtomicU16",
    "AtomicU32",
    "AtomicU64",
    "AtomicI8",
    "AtomicI16",
    "AtomicI32",
    "AtomicI64",
    "Ordering",
    "fence",
    "compiler_fence",
    "spin_loop_hint",
];
const MPSC: &[&str] = &[
    "channel",
    "sync_channel",
    "Sender",
    "SyncSender",
    "Receiver",
    "SendError",
    "RecvError",
    "TryRecvError",
    "RecvTimeoutError",
    "TrySendError",
    "Iter",
    "TryIter",
    "IntoIter",
];
const THREAD: &[&str] = &[
    "spawn",
    "scope",
    "Scope",
    "ScopedJoinHandle",
    "JoinHandle",
    "Builder",
    "sleep",
    "yield_now",
    "current",
    "Thread",
    "ThreadId",
    "park",
    "park_timeout",
    "available_parallelism",
    "panicking",
    "Result",
];
const HINT: &[&str] = &["spin_loop", "black_box"];

/// Type names that make a `static` a shared, stateful object.
const STATEFUL: &[&str] = &[
    "Mutex", "RwLock", "Condvar", "Barrier", "OnceLock", "LazyLock", "Once", "OnceCell",
];

const CLOCK: &[&str] = &["Instant", "SystemTime"];

/// Why an item of a modelled module is not available, or `None` when it is.
fn unsupported(segments: &[String]) -> Option<String> {
    let seg = |i: usize| segments.get(i).map(String::as_str);
    let (allowed, item): (&[&str], Option<&str>) = match (seg(1), seg(2), seg(3)) {
        (Some("sync"), Some("atomic"), item) => (ATOMIC, item),
        (Some("sync"), Some("mpsc"), item) => (MPSC, item),
        (Some("sync"), item, _) => (SYNC, item),
        (Some("thread"), item, _) => (THREAD, item),
        (Some("hint"), item, _) => (HINT, item),
        _ => return None,
    };
    let item = item?;
    if item == "self" || allowed.contains(&item) {
        return None;
    }
    Some(match item {
        "OnceLock" | "LazyLock" | "Once" | "OnceState" => {
            "one-time initialisation is not modelled by the model checker; \
             create the value before spawning the threads and share it"
                .to_string()
        }
        "Weak" => "weak references are not modelled; use `Arc`".to_string(),
        _ => format!(
            "the model checker does not model `{item}`; the course's exercises need only \
             threads, `Arc`, `Mutex`, `RwLock`, `Condvar`, atomics and channels"
        ),
    })
}

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

/// Finds path roots in the raw tokens (macro bodies included).
struct TokenScan<'a> {
    file: &'a str,
    /// Spans (start, end) of `std`/`core`/`alloc` roots to replace.
    roots: BTreeSet<(LineColumn, LineColumn)>,
    rejections: Vec<Rejection>,
}

fn is_path_sep(tokens: &[TokenTree], i: usize) -> bool {
    matches!((tokens.get(i), tokens.get(i + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':')
}

/// Keywords that may stand before a path with a leading `::` (`crate`,
/// `self`, `super` and `Self` start paths of their own and are not here).
fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "break"
            | "const"
            | "continue"
            | "else"
            | "enum"
            | "extern"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "static"
            | "struct"
            | "trait"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "async"
            | "await"
            | "dyn"
            | "box"
            | "yield"
    )
}

fn ident_at(tokens: &[TokenTree], i: usize) -> Option<String> {
    match tokens.get(i) {
        Some(TokenTree::Ident(id)) => Some(id.to_string()),
        _ => None,
    }
}

impl TokenScan<'_> {
    fn walk(&mut self, stream: TokenStream) {
        let tokens: Vec<TokenTree> = stream.into_iter().collect();
        for i in 0..tokens.len() {
            match &tokens[i] {
                TokenTree::Group(g) => self.walk(g.stream()),
                TokenTree::Ident(id) => self.ident(&tokens, i, &id.to_string()),
                _ => {}
            }
        }
    }

    fn reject(&mut self, line: usize, what: String, why: String) {
        self.rejections.push(Rejection {
            file: self.file.to_string(),
            line,
            what,
            why,
        });
    }

    fn ident(&mut self, tokens: &[TokenTree], i: usize, name: &str) {
        let line = tokens[i].span().start().line;
        if name == "thread_local"
            && matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!')
        {
            self.reject(
                line,
                "`thread_local!`".into(),
                "the model runs every thread on one system thread, so thread-locals \
                 would be shared; keep per-thread values in local variables"
                    .into(),
            );
            return;
        }
        if CLOCK.contains(&name) {
            self.reject(
                line,
                format!("`{name}`"),
                "the model checker replays every interleaving and cannot model the clock; \
                 wait for threads with `join`, a channel or a `Condvar`, not for time to pass"
                    .into(),
            );
            return;
        }
        if !matches!(name, "std" | "core" | "alloc") {
            return;
        }
        // A root: not preceded by `something::` (a leading `::` is fine,
        // also after a keyword: `use ::std::sync::Arc`, `&mut ::std::..`).
        if i >= 3
            && is_path_sep(tokens, i - 2)
            && matches!(&tokens[i - 3], TokenTree::Ident(prev) if !is_keyword(&prev.to_string()))
        {
            return;
        }
        if !is_path_sep(tokens, i + 1) {
            // `use std as s;`, `extern crate std as s;`
            if matches!(tokens.get(i + 1), Some(TokenTree::Ident(a)) if a == "as") {
                self.reject(
                    line,
                    format!("renaming `{name}`"),
                    "a renamed standard library hides its threads and locks from the \
                     model checker; write `std::...` paths"
                        .into(),
                );
            }
            return;
        }
        let span = tokens[i].span();
        match tokens.get(i + 3) {
            Some(TokenTree::Ident(module))
                if matches!(module.to_string().as_str(), "sync" | "thread" | "hint") =>
            {
                let mut segments = vec![name.to_string(), module.to_string()];
                let mut j = i + 4;
                while is_path_sep(tokens, j) {
                    match ident_at(tokens, j + 2) {
                        Some(s) => segments.push(s),
                        None => break,
                    }
                    j += 3;
                }
                if let Some(why) = unsupported(&segments) {
                    let shown: Vec<&str> = segments.iter().take(4).map(String::as_str).collect();
                    self.reject(line, format!("`{}`", shown.join("::")), why);
                }
                self.roots.insert((span.start(), span.end()));
            }
            // `use std::{...}` and `use std::*`: the facade has all of std.
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                self.roots.insert((span.start(), span.end()));
            }
            Some(TokenTree::Punct(p)) if p.as_char() == '*' => {
                self.roots.insert((span.start(), span.end()));
            }
            _ => {}
        }
    }
}

/// Item-level checks that need the syntax tree: nested `use` trees,
/// `static` items.
struct ItemScan<'a> {
    file: &'a str,
    rejections: Vec<Rejection>,
}

impl ItemScan<'_> {
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.use_path(prefix, &n.ident.to_string(), n.ident.span()),
            syn::UseTree::Rename(r) => {
                if prefix.is_empty()
                    && matches!(r.ident.to_string().as_str(), "std" | "core" | "alloc")
                    || r.ident == "self" && prefix.len() == 1
                {
                    self.rejections.push(Rejection {
                        file: self.file.to_string(),
                        line: r.ident.span().start().line,
                        what: format!(
                            "renaming `{}`",
                            prefix
                                .first()
                                .cloned()
                                .unwrap_or_else(|| r.ident.to_string())
                        ),
                        why: "a renamed standard library hides its threads and locks from the \
                              model checker; write `std::...` paths"
                            .into(),
                    });
                }
                self.use_path(prefix, &r.ident.to_string(), r.ident.span())
            }
            syn::UseTree::Glob(_) => {}
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    fn use_path(&mut self, prefix: &[String], last: &str, span: proc_macro2::Span) {
        let mut segments = prefix.to_vec();
        segments.push(last.to_string());
        if !matches!(segments[0].as_str(), "std" | "core" | "alloc") {
            return;
        }
        if let Some(why) = unsupported(&segments) {
            self.rejections.push(Rejection {
                file: self.file.to_string(),
                line: span.start().line,
                what: format!("`{}`", segments.join("::")),
                why,
            });
        }
    }
}

impl<'ast> Visit<'ast> for ItemScan<'_> {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &u.tree);
    }

    fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
        let ty = quote_tokens(&s.ty);
        let stateful = ty
            .iter()
            .any(|t| t.starts_with("Atomic") || STATEFUL.contains(&t.as_str()));
        if stateful {
            self.rejections.push(Rejection {
                file: self.file.to_string(),
                line: s.ident.span().start().line,
                what: format!("`static {}`", s.ident),
                why: "a static keeps its value from one explored interleaving to the next, so \
                      the model checker cannot check it; create the value inside the function \
                      and share it with `Arc` (or scoped threads)"
                    .into(),
            });
        }
        syn::visit::visit_item_static(self, s);
    }
}

/// The identifiers of a type, as strings.
fn quote_tokens(ty: &syn::Type) -> Vec<String> {
    struct Idents(Vec<String>);
    impl<'ast> Visit<'ast> for Idents {
        fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
            self.0.push(i.to_string());
        }
    }
    let mut v = Idents(Vec::new());
    v.visit_type(ty);
    v.0
}

/// The library's module files, found from `src/lib.rs` by following
/// `mod name;` declarations (`name.rs`, `name/mod.rs`, `#[path]`), so a
/// module only `main.rs` uses is not held to the model's rules.
pub fn library_files(src: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut queue = vec![(src.join("lib.rs"), src.to_path_buf())];
    while let Some((file, dir)) = queue.pop() {
        if files.contains(&file) || files.len() > 256 {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        files.push(file.clone());
        let Ok(ast) = syn::parse_file(&text) else {
            continue;
        };
        collect_mods(&ast.items, &dir, &mut queue);
    }
    files
}

/// `dir` is where this file's child modules live.
fn collect_mods(items: &[syn::Item], dir: &Path, queue: &mut Vec<(PathBuf, PathBuf)>) {
    for item in items {
        let syn::Item::Mod(m) = item else { continue };
        let name = m.ident.to_string();
        let explicit = m.attrs.iter().find_map(|a| {
            if !a.path().is_ident("path") {
                return None;
            }
            match &a.meta {
                syn::Meta::NameValue(syn::MetaNameValue {
                    value:
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }),
                    ..
                }) => Some(s.value()),
                _ => None,
            }
        });
        match (&m.content, explicit) {
            (Some((_, inner)), _) => collect_mods(inner, &dir.join(&name), queue),
            (None, Some(path)) => {
                let file = dir.join(path);
                let child_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
                queue.push((file, child_dir));
            }
            (None, None) => {
                let flat = dir.join(format!("{name}.rs"));
                if flat.is_file() {
                    queue.push((flat, dir.join(&name)));
                } else {
                    queue.push((dir.join(&name).join("mod.rs"), dir.join(&name)));
                }
            }
        }
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

    #[test]
    fn library_files_follow_mod_declarations() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path();
        std::fs::write(
            src.join("lib.rs"),
            "mod a;\nmod b;\nmod inline { mod c; }\n",
        )
        .unwrap();
        std::fs::write(src.join("a.rs"), "mod deep;\n").unwrap();
        std::fs::create_dir_all(src.join("a")).unwrap();
        std::fs::write(src.join("a/deep.rs"), "").unwrap();
        std::fs::create_dir_all(src.join("b")).unwrap();
        std::fs::write(src.join("b/mod.rs"), "").unwrap();
        std::fs::create_dir_all(src.join("inline")).unwrap();
        std::fs::write(src.join("inline/c.rs"), "").unwrap();
        std::fs::write(src.join("only_main.rs"), "").unwrap();
        let mut found: Vec<String> = library_files(src)
            .iter()
            .map(|p| p.strip_prefix(src).unwrap().to_string_lossy().into_owned())
            .collect();
        found.sort();
        assert_eq!(
            found,
            vec!["a.rs", "a/deep.rs", "b/mod.rs", "inline/c.rs", "lib.rs"]
        );
    }
}
