//! Source scan for what the course rules out before anything is built:
//! spawning processes, the network, `static mut`, and `include_str!`-style
//! macros or `#[path]` attributes that reach outside the submission.
//!
//! `unsafe` itself is left to rustc (`-F unsafe-code`), which sees through
//! macros. This scan parses each file with `syn` and follows `use` renames
//! (`use std::process as p; p::Command::new(..)`), so the usual disguises do
//! not pass, and it gives the student a clear message with the line. It
//! reads text, though, and text can be walked around (`std` passed to a
//! macro as an argument, `r#std`, a path built by `concat!`): the guarantee
//! behind it is [`compiled_findings`], which asks the same of what rustc
//! really compiled ([`crate::compiled`]), and the build's check of the files
//! the compile read. The run-time sandbox remains the last defence.

use proc_macro2::{TokenStream, TokenTree};
use std::collections::HashMap;
use std::path::Path;
use syn::visit::Visit;

/// One use of a forbidden construct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Relative path, e.g. `src/main.rs`.
    pub file: String,
    pub line: usize,
    pub what: String,
}

impl Finding {
    /// `src/main.rs:3`; only the file (or function) when the line is not
    /// known (0).
    pub fn at(&self) -> String {
        match self.line {
            0 => self.file.clone(),
            n => format!("{}:{n}", self.file),
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {}", self.what, self.at())
    }
}

/// Paths a submission may not name, with what to tell the student.
const FORBIDDEN_PATHS: &[(&[&str], &str)] = &[
    (
        &["std", "process", "Command"],
        "spawning a process (`std::process::Command`)",
    ),
    (
        &["std", "os", "unix", "process"],
        "process control (`std::os::unix::process`)",
    ),
    (&["std", "net"], "the network (`std::net`)"),
    (&["core", "net"], "the network (`core::net`)"),
    (
        &["std", "os", "unix", "net"],
        "sockets (`std::os::unix::net`)",
    ),
    (&["std", "os", "fd"], "raw file descriptors (`std::os::fd`)"),
];

/// The same constructs as [`FORBIDDEN_PATHS`], as compiled code names them
/// (`std::process::Command` is defined there; `std::net`'s sockets are
/// `std::net::tcp::TcpStream` and so on: its address types live in
/// `core::net` and are harmless).
const COMPILED: &[(crate::compiled::Rule, &str)] = &[
    (
        crate::compiled::Rule {
            prefix: "std::process::Command",
            except: &[],
        },
        "spawning a process (`std::process::Command`)",
    ),
    (
        crate::compiled::Rule {
            prefix: "std::process::Child",
            except: &[],
        },
        "spawning a process (`std::process::Command`)",
    ),
    (
        crate::compiled::Rule {
            prefix: "std::os::unix::process",
            except: &[],
        },
        "process control (`std::os::unix::process`)",
    ),
    (
        crate::compiled::Rule {
            prefix: "std::net",
            except: &[],
        },
        "the network (`std::net`)",
    ),
    (
        crate::compiled::Rule {
            prefix: "std::os::unix::net",
            except: &[],
        },
        "sockets (`std::os::unix::net`)",
    ),
    (
        crate::compiled::Rule {
            prefix: "std::os::fd",
            except: &[],
        },
        "raw file descriptors (`std::os::fd`)",
    ),
];

/// What the compiled crate's own functions (those of `crates`) reach of
/// the forbidden constructs, however the source spelled them. `file` is
/// where the build's line tables say; a reference without a line (through
/// a constant) is reported at the function.
pub fn compiled_findings(ir: &crate::compiled::Ir, crates: &[&str]) -> Vec<Finding> {
    let rules: Vec<crate::compiled::Rule> = COMPILED.iter().map(|(r, _)| *r).collect();
    let mut out: Vec<Finding> = ir
        .reaches(crates, &|_| false, &rules)
        .into_iter()
        .map(|r| {
            let (file, line) = match r.line {
                Some(l) => (l.file, l.line as usize),
                None => (format!("`{}`", r.from), 0),
            };
            Finding {
                file,
                line,
                what: COMPILED[r.rule].1.to_string(),
            }
        })
        .collect();
    out.dedup();
    out
}

/// Scans every file; returns the findings in file and line order. The
/// files must be within [`crate::nesting`]'s bounds (a file beyond them is
/// skipped); the parse runs on a thread with the stack those bounds need.
/// `Err` only when that thread cannot start.
pub fn scan(dir: &Path, files: &[std::path::PathBuf]) -> std::io::Result<Vec<Finding>> {
    crate::nesting::on_big_stack(|| {
        let mut all = Vec::new();
        for rel in files {
            let Ok(text) = std::fs::read_to_string(dir.join(rel)) else {
                continue;
            };
            let name = rel.to_string_lossy();
            if crate::nesting::check(&name, &text).is_ok() {
                all.extend(scan_source(&name, &text));
            }
        }
        all
    })
}

/// Scans one file. A file that does not parse yields nothing: rustc will
/// report it as a compile error with a better message.
pub fn scan_source(file: &str, text: &str) -> Vec<Finding> {
    let Ok(ast) = syn::parse_file(text) else {
        return Vec::new();
    };
    let mut v = Scanner {
        file: file.to_string(),
        aliases: HashMap::new(),
        globs: Vec::new(),
        findings: Vec::new(),
    };
    // Two passes: imports first (they may follow their use in the file).
    for item in &ast.items {
        v.collect_uses(item);
    }
    v.visit_file(&ast);
    v.findings.sort_by_key(|f| f.line);
    v.findings.dedup();
    v.findings
}

struct Scanner {
    file: String,
    /// Local name → the full path it stands for.
    aliases: HashMap<String, Vec<String>>,
    /// `use a::b::*` prefixes.
    globs: Vec<Vec<String>>,
    findings: Vec<Finding>,
}

impl Scanner {
    fn collect_uses(&mut self, item: &syn::Item) {
        match item {
            syn::Item::Use(u) => self.use_tree(&u.tree, Vec::new()),
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    for i in items {
                        self.collect_uses(i);
                    }
                }
            }
            syn::Item::Fn(f) => {
                for stmt in &f.block.stmts {
                    if let syn::Stmt::Item(i) = stmt {
                        self.collect_uses(i);
                    }
                }
            }
            _ => {}
        }
    }

    fn use_tree(&mut self, tree: &syn::UseTree, prefix: Vec<String>) {
        match tree {
            syn::UseTree::Path(p) => {
                let mut next = prefix;
                next.push(p.ident.to_string());
                self.use_tree(&p.tree, next);
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix;
                let name = n.ident.to_string();
                if name != "self" {
                    full.push(name.clone());
                }
                let local = full.last().cloned().unwrap_or(name);
                self.aliases.insert(local, self.expand(&full));
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix;
                if r.ident != "self" {
                    full.push(r.ident.to_string());
                }
                self.aliases
                    .insert(r.rename.to_string(), self.expand(&full));
            }
            syn::UseTree::Glob(_) => {
                let full = self.expand(&prefix);
                self.globs.push(full);
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(t, prefix.clone());
                }
            }
        }
    }

    /// Resolves the first segment through the known aliases.
    fn expand(&self, segs: &[String]) -> Vec<String> {
        let Some(first) = segs.first() else {
            return Vec::new();
        };
        let first = first.trim_start_matches("r#");
        match self.aliases.get(first) {
            Some(full) if full.len() > 1 || full.first().map(String::as_str) != Some(first) => {
                let mut out = full.clone();
                out.extend(segs[1..].iter().cloned());
                out
            }
            _ => segs.to_vec(),
        }
    }

    fn check_path(&mut self, segs: &[String], line: usize) {
        let mut candidates = vec![self.expand(segs)];
        for g in &self.globs {
            let mut c = g.clone();
            c.extend(segs.iter().cloned());
            candidates.push(c);
        }
        for full in candidates {
            for (forbidden, what) in FORBIDDEN_PATHS {
                if full.len() >= forbidden.len()
                    && full.iter().zip(forbidden.iter()).all(|(a, b)| a == b)
                {
                    self.push(line, what);
                }
            }
        }
    }

    fn push(&mut self, line: usize, what: &str) {
        self.findings.push(Finding {
            file: self.file.clone(),
            line,
            what: what.to_string(),
        });
    }

    fn tokens(&mut self, tokens: &TokenStream) {
        // Inside macro calls there is no syntax tree: look for `a :: b :: c`
        // runs of identifiers and check them as paths, and for nested
        // include macros.
        let mut run: Vec<String> = Vec::new();
        let mut run_line = 0;
        let mut last_colon = false;
        let flat: Vec<TokenTree> = tokens.clone().into_iter().collect();
        for (i, tt) in flat.iter().enumerate() {
            match tt {
                TokenTree::Ident(id) => {
                    if !last_colon && !run.is_empty() {
                        self.check_path(&run.clone(), run_line);
                        run.clear();
                    }
                    if run.is_empty() {
                        run_line = id.span().start().line;
                    }
                    run.push(id.to_string());
                    last_colon = false;
                    let name = id.to_string();
                    if matches!(name.as_str(), "include_str" | "include_bytes" | "include")
                        && let Some(TokenTree::Group(g)) = flat.get(i + 2)
                    {
                        self.include(&name, &g.stream(), id.span().start().line);
                    }
                }
                TokenTree::Punct(p) if p.as_char() == ':' => {
                    last_colon = true;
                }
                TokenTree::Group(g) => {
                    if !run.is_empty() {
                        self.check_path(&run.clone(), run_line);
                        run.clear();
                    }
                    self.tokens(&g.stream());
                    last_colon = false;
                }
                _ => {
                    if !run.is_empty() {
                        self.check_path(&run.clone(), run_line);
                        run.clear();
                    }
                    last_colon = false;
                }
            }
        }
        if !run.is_empty() {
            self.check_path(&run, run_line);
        }
    }

    fn include(&mut self, name: &str, args: &TokenStream, line: usize) {
        let arg = args.to_string();
        let literal = arg.trim().trim_matches('"');
        if !arg.trim().starts_with('"') || escapes(literal) {
            self.push(
                line,
                &format!(
                    "`{name}!` of a file outside the submission (`{}`)",
                    arg.trim()
                ),
            );
        }
    }
}

/// Whether a path given to `include_str!` or `#[path]` leaves `src/`.
fn escapes(path: &str) -> bool {
    path.starts_with('/')
        || path.starts_with('\\')
        || path.contains("..")
        || path.contains(':')
        || path.starts_with('~')
}

impl<'ast> Visit<'ast> for Scanner {
    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        let line = p
            .segments
            .first()
            .map(|s| s.ident.span().start().line)
            .unwrap_or(0);
        self.check_path(&segs, line);
        syn::visit::visit_path(self, p);
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        fn leaves(tree: &syn::UseTree, prefix: Vec<String>, out: &mut Vec<(Vec<String>, usize)>) {
            match tree {
                syn::UseTree::Path(p) => {
                    let mut next = prefix;
                    next.push(p.ident.to_string());
                    leaves(&p.tree, next, out);
                }
                syn::UseTree::Name(n) => {
                    let mut full = prefix;
                    full.push(n.ident.to_string());
                    out.push((full, n.ident.span().start().line));
                }
                syn::UseTree::Rename(r) => {
                    let mut full = prefix;
                    full.push(r.ident.to_string());
                    out.push((full, r.ident.span().start().line));
                }
                syn::UseTree::Glob(g) => {
                    out.push((prefix, g.star_token.spans[0].start().line));
                }
                syn::UseTree::Group(g) => {
                    for t in &g.items {
                        leaves(t, prefix.clone(), out);
                    }
                }
            }
        }
        let mut out = Vec::new();
        leaves(&u.tree, Vec::new(), &mut out);
        for (segs, line) in out {
            let segs: Vec<String> = segs.into_iter().filter(|s| s != "self").collect();
            // Check the literal path (an alias map would map it to itself).
            for (forbidden, what) in FORBIDDEN_PATHS {
                let full = self.expand(&segs);
                if full.len() >= forbidden.len()
                    && full.iter().zip(forbidden.iter()).all(|(a, b)| a == b)
                {
                    self.push(line, what);
                }
            }
        }
    }

    fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
        if matches!(s.mutability, syn::StaticMutability::Mut(_)) {
            self.push(
                s.static_token.span.start().line,
                "`static mut` (shared data without synchronization)",
            );
        }
        syn::visit::visit_item_static(self, s);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        let name = m
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let line = m
            .path
            .segments
            .first()
            .map(|s| s.ident.span().start().line)
            .unwrap_or(0);
        if matches!(name.as_str(), "include_str" | "include_bytes" | "include") {
            self.include(&name, &m.tokens, line);
        }
        self.tokens(&m.tokens);
        syn::visit::visit_macro(self, m);
    }

    fn visit_attribute(&mut self, a: &'ast syn::Attribute) {
        if a.path().is_ident("path")
            && let syn::Meta::NameValue(nv) = &a.meta
        {
            let value = quote_expr(&nv.value);
            if escapes(value.trim_matches('"')) {
                self.push(
                    a.pound_token.span.start().line,
                    "a `#[path]` to a file outside the submission",
                );
            }
        }
        syn::visit::visit_attribute(self, a);
    }
}

fn quote_expr(e: &syn::Expr) -> String {
    match e {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => s.value(),
        _ => "..".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whats(src: &str) -> Vec<(usize, String)> {
        scan_source("src/main.rs", src)
            .into_iter()
            .map(|f| (f.line, f.what))
            .collect()
    }

    #[test]
    fn plain_thread_code_is_clean() {
        let src = "use std::sync::{Arc, Mutex};\nuse std::thread;\nfn main() {\n let m = Arc::new(Mutex::new(0));\n thread::spawn(move || { *m.lock().unwrap() += 1; }).join().unwrap();\n std::process::exit(0);\n}\n";
        assert_eq!(whats(src), vec![]);
    }

    #[test]
    fn commands_are_found_through_renames_and_globs() {
        assert_eq!(
            whats("fn main() {\n std::process::Command::new(\"true\").status().unwrap();\n}")[0].0,
            2
        );
        assert!(!whats("use std::process as p;\nfn main() { p::Command::new(\"x\"); }").is_empty());
        assert!(!whats("use std::process::*;\nfn main() { Command::new(\"x\"); }").is_empty());
        assert!(!whats("use std::{process::{Command}};\nfn main() {}").is_empty());
    }

    #[test]
    fn network_and_static_mut_are_found() {
        assert!(
            !whats("fn main() { let _ = std::net::TcpStream::connect(\"127.0.0.1:1\"); }")
                .is_empty()
        );
        let w = whats("static mut N: u32 = 0;\nfn main() {}");
        assert_eq!(w[0].0, 1);
        assert!(w[0].1.contains("static mut"));
    }

    #[test]
    fn macros_and_includes_are_looked_into() {
        assert!(
            !whats("fn main() { println!(\"{:?}\", std::process::Command::new(\"x\")); }")
                .is_empty()
        );
        assert!(!whats("const S: &str = include_str!(\"/etc/passwd\");\nfn main() {}").is_empty());
        assert!(!whats("const S: &str = include_str!(\"../../x\");\nfn main() {}").is_empty());
        assert!(whats("const S: &str = include_str!(\"data.txt\");\nfn main() {}").is_empty());
        assert!(!whats("#[path = \"/etc/passwd\"]\nmod m;\nfn main() {}").is_empty());
    }
}
