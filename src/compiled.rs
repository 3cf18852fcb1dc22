//! What rustc really compiled, as opposed to what the source text seems to
//! say (issue 10): the functions a crate defines, every symbol each of them
//! references, and the files the compile read.
//!
//! A source scan can be walked around: `std` passed to a macro as an
//! argument, `crate::std` after `extern crate std`, `r#std`, a renamed
//! extern crate, `include_str!` of a path built by `concat!`. rustc resolves
//! all of that, so the guarantee behind the scans is read from its own
//! output, written beside the build at the cost of a few milliseconds:
//!
//! - `--emit=llvm-ir` with `-C symbol-mangling-version=v0` and
//!   `-C no-prepopulate-passes`: every function the crate defines, with its
//!   real path, and every symbol it references, before LLVM inlines
//!   anything. v0 names carry generic arguments, so a real
//!   `std::sync::Mutex` passed as a type or a function item to a generic
//!   (`Option::map(.., Mutex::new)`) is in the name of what is called.
//!   Where the build has line tables, each reference has its line.
//! - `--emit=dep-info`: every source file the compile read, whatever
//!   spelling of `mod`, `#[path]`, `include!` or `include_str!` got there.
//!
//! This module only reads; what a crate may not reach is its callers'
//! business ([`crate::scan`] for the course's forbidden constructs,
//! [`crate::model::bypass`] for what the model checker cannot see).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Flags that make rustc write what this module reads, beside the normal
/// output. `ir` and `deps` are the files to write. Line tables (where the
/// build has them) put code expanded from a macro at the macro's call, the
/// line the student wrote the walk-around on.
pub fn emit_args(link: &Path, ir: &Path, deps: &Path) -> Vec<std::ffi::OsString> {
    let mut emit = std::ffi::OsString::from("--emit=link=");
    emit.push(link);
    emit.push(",llvm-ir=");
    emit.push(ir);
    emit.push(",dep-info=");
    emit.push(deps);
    vec![
        emit,
        "-C".into(),
        "symbol-mangling-version=v0".into(),
        "-C".into(),
        "no-prepopulate-passes".into(),
        "-C".into(),
        "collapse-macro-debuginfo=yes".into(),
    ]
}

/// A line of source, from the build's line tables.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Line {
    pub file: String,
    pub line: u32,
}

/// One function the crate defines.
#[derive(Debug, Clone)]
struct Function {
    /// Demangled, without hashes.
    name: String,
    /// Symbols referenced in its body, each with the debug location of the
    /// instruction, if any.
    refs: Vec<(String, Option<u32>)>,
}

/// The compiled crate, as far as these checks need it.
#[derive(Debug, Default)]
pub struct Ir {
    functions: Vec<Function>,
    /// Global variables and constants (vtables, statics): the symbols
    /// their initialisers reference.
    globals: HashMap<String, Vec<String>>,
    /// `!N = !DILocation(line: L, scope: !S)`.
    locations: HashMap<u32, (u32, u32)>,
    /// Scope → the file it is in.
    scopes: HashMap<u32, u32>,
    files: HashMap<u32, String>,
}

/// A reference from one of the crate's own functions to an item a rule
/// names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// Where, when the build has line tables.
    pub line: Option<Line>,
    /// The item, as a student would write it (`std::thread::spawn`).
    pub item: String,
    /// The function it is reached from (`count_concurrently::{closure#0}`).
    pub from: String,
    /// Which rule matched (index into the rules given).
    pub rule: usize,
}

/// Items under `prefix` (`std::sync`, `std::process::Command`), except
/// those whose last path segment is listed (`Ordering`, `PoisonError`:
/// plain data, harmless wherever it comes from).
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub prefix: &'static str,
    pub except: &'static [&'static str],
}

impl Rule {
    fn matches<'p>(&self, path: &'p str) -> Option<&'p str> {
        let rest = path.strip_prefix(self.prefix)?;
        if !(rest.is_empty() || rest.starts_with("::")) {
            return None;
        }
        let last = path.rsplit("::").next().unwrap_or(path);
        (!self.except.contains(&last)).then_some(path)
    }

    /// The item as the student would name it: the rule's prefix, a public
    /// submodule (`atomic`, `mpsc`), and the first type below it (std's
    /// internal modules, `std::sync::poison::mutex::Mutex`, left out), or
    /// the function.
    fn shown(&self, path: &str) -> String {
        let rest: Vec<&str> = path[self.prefix.len()..]
            .split("::")
            .filter(|s| !s.is_empty())
            .collect();
        let mut out = self.prefix.to_string();
        let mut tail = rest.as_slice();
        if let Some((first, more)) = tail.split_first()
            && matches!(*first, "atomic" | "mpsc")
            && !more.is_empty()
        {
            out.push_str("::");
            out.push_str(first);
            tail = more;
        }
        let item = tail
            .iter()
            .find(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))
            .or(tail.last());
        if let Some(item) = item {
            out.push_str("::");
            out.push_str(item);
        }
        out
    }
}

/// Reads the IR rustc wrote. A file too large to be a course exercise's
/// (a generated monster) is refused rather than read.
pub fn read_ir(path: &Path) -> std::io::Result<Ir> {
    const MAX: u64 = 256 << 20;
    let len = std::fs::metadata(path)?.len();
    if len > MAX {
        return Err(std::io::Error::other(format!(
            "{} is {} MiB of LLVM IR",
            path.display(),
            len >> 20
        )));
    }
    let bytes = std::fs::read(path)?;
    Ok(parse_ir(&String::from_utf8_lossy(&bytes)))
}

/// The symbol after an `@` at the start of `s` (quoted or bare).
fn symbol(s: &str) -> Option<&str> {
    if let Some(q) = s.strip_prefix('"') {
        return q.find('"').map(|end| &q[..end]);
    }
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$' | '-')))
        .unwrap_or(s.len());
    (end > 0).then(|| &s[..end])
}

/// Every `@symbol` on a line, string constants (`c"..."`) skipped.
fn symbols(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    if !line.contains('@') {
        return out;
    }
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'c' if bytes.get(i + 1) == Some(&b'"') => {
                // A string constant: up to its closing quote (`\22` is how
                // LLVM escapes a quote inside).
                i += 2;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += 1;
                }
                i += 1;
            }
            b'@' => {
                if let Some(sym) = symbol(&line[i + 1..]) {
                    out.push(sym);
                    i += sym.len() + 1;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// `!123` at the start of `s`.
fn meta_id(s: &str) -> Option<u32> {
    let digits: &str = s.strip_prefix('!')?;
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// The value of `key: ` in a metadata node's text.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(i) = text[from..].find(key) {
        let at = from + i + key.len();
        if text[at..].starts_with(": ") {
            return Some(&text[at + 2..]);
        }
        from = at;
    }
    None
}

pub fn parse_ir(text: &str) -> Ir {
    let mut ir = Ir::default();
    let mut current: Option<Function> = None;
    // Where the references of the previous line start.
    let mut pending = 0;
    for line in text.lines() {
        if let Some(f) = current.as_mut() {
            if line == "}" {
                ir.functions.extend(current.take());
                continue;
            }
            let dbg = line.rfind("!dbg ").and_then(|at| meta_id(&line[at + 5..]));
            // An `invoke` ends on the next line (`to label %bb unwind
            // label %cleanup, !dbg !7`), which holds its location.
            if line.trim_start().starts_with("to label") {
                for r in &mut f.refs[pending..] {
                    r.1 = r.1.or(dbg);
                }
            }
            pending = f.refs.len();
            for sym in symbols(line) {
                f.refs.push((sym.to_string(), dbg));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("define ") {
            let Some(at) = rest.find('@') else { continue };
            let Some(sym) = symbol(&rest[at + 1..]) else {
                continue;
            };
            current = Some(Function {
                name: demangle(sym).unwrap_or_else(|| sym.to_string()),
                refs: Vec::new(),
            });
            pending = 0;
            continue;
        }
        if let Some(rest) = line.strip_prefix('@') {
            let Some(sym) = symbol(rest) else { continue };
            let body = &rest[sym.len()..];
            let refs = symbols(body).into_iter().map(str::to_string).collect();
            ir.globals.insert(sym.to_string(), refs);
            continue;
        }
        if line.starts_with('!') {
            parse_meta(&mut ir, line);
        }
    }
    ir
}

fn parse_meta(ir: &mut Ir, line: &str) {
    let Some(id) = meta_id(line) else { return };
    let Some(eq) = line.find(" = ") else { return };
    let node = line[eq + 3..].trim_start_matches("distinct ");
    if node.starts_with("!DILocation(") {
        let line_no = field(node, "line").and_then(|v| {
            let end = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
            v[..end].parse().ok()
        });
        let scope = field(node, "scope").and_then(meta_id);
        if let (Some(l), Some(s)) = (line_no, scope) {
            ir.locations.insert(id, (l, s));
        }
    } else if node.starts_with("!DISubprogram(") || node.starts_with("!DILexicalBlock") {
        if let Some(file) = field(node, "file").and_then(meta_id) {
            ir.scopes.insert(id, file);
        }
    } else if node.starts_with("!DIFile(")
        && let Some(v) = field(node, "filename")
        && let Some(q) = v.strip_prefix('"')
        && let Some(end) = q.find('"')
    {
        ir.files.insert(id, q[..end].to_string());
    }
}

/// The demangled name without hashes, when `sym` is a Rust symbol.
pub fn demangle(sym: &str) -> Option<String> {
    rustc_demangle::try_demangle(sym)
        .ok()
        .map(|d| format!("{d:#}"))
}

/// The paths named in a demangled symbol, generic arguments included:
/// `<core::result::Result<u8, std::sync::poison::PoisonError<u8>>>::unwrap`
/// → `core::result::Result`, `u8`, `std::sync::poison::PoisonError`, ...
fn paths(name: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if !(c.is_ascii_alphabetic() || c == b'_') {
            i += 1;
            continue;
        }
        let start = i;
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            // `::` followed by another identifier continues the path.
            if bytes.get(i) == Some(&b':')
                && bytes.get(i + 1) == Some(&b':')
                && bytes
                    .get(i + 2)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
            {
                i += 2;
                continue;
            }
            break;
        }
        out.push(&name[start..i]);
    }
    out
}

/// Whether a demangled function name is the crate's own code: a function
/// or closure under one of `crates`, a method of one of their types, or an
/// implementation of one of their traits.
fn is_own(name: &str, crates: &[&str]) -> bool {
    let trimmed = name.trim_start_matches(['<', '&', '*', '[', '(', ' ']);
    let trimmed = trimmed
        .strip_prefix("mut ")
        .or_else(|| trimmed.strip_prefix("const "))
        .or_else(|| trimmed.strip_prefix("dyn "))
        .unwrap_or(trimmed);
    crates.iter().any(|c| {
        let root = format!("{c}::");
        trimmed.starts_with(&root) || name.contains(&format!(" as {root}"))
    })
}

impl Ir {
    /// The source line of debug location `!id`.
    fn line(&self, id: u32) -> Option<Line> {
        let &(line, scope) = self.locations.get(&id)?;
        let file = self.files.get(self.scopes.get(&scope)?)?;
        Some(Line {
            file: file.clone(),
            line,
        })
    }

    /// Every function defined by one of `crates` (except those `skip`
    /// names, the grader's own code compiled into the same crate) that
    /// references, directly or through a constant (a vtable, a static's
    /// initialiser), an item a rule names.
    pub fn reaches(
        &self,
        crates: &[&str],
        skip: &dyn Fn(&str) -> bool,
        rules: &[Rule],
    ) -> Vec<Reach> {
        let mut out = Vec::new();
        for f in &self.functions {
            if !is_own(&f.name, crates) || skip(&f.name) {
                continue;
            }
            let mut seen = HashSet::new();
            let mut stack: Vec<(&str, Option<u32>)> =
                f.refs.iter().map(|(s, d)| (s.as_str(), *d)).collect();
            while let Some((sym, dbg)) = stack.pop() {
                if !seen.insert((sym, dbg)) {
                    continue;
                }
                if let Some(refs) = self.globals.get(sym) {
                    stack.extend(refs.iter().map(|s| (s.as_str(), dbg)));
                    continue;
                }
                let Some(name) = demangle(sym) else { continue };
                for path in paths(&name) {
                    for (i, rule) in rules.iter().enumerate() {
                        if let Some(p) = rule.matches(path) {
                            out.push(Reach {
                                line: dbg.and_then(|d| self.line(d)),
                                item: rule.shown(p),
                                from: f.name.clone(),
                                rule: i,
                            });
                        }
                    }
                }
            }
        }
        // Located ones first: they make the better message.
        out.sort_by(|a, b| {
            (a.line.is_none(), &a.line, &a.item, a.rule).cmp(&(
                b.line.is_none(),
                &b.line,
                &b.item,
                b.rule,
            ))
        });
        out.dedup_by(|a, b| a.item == b.item && a.line == b.line && a.rule == b.rule);
        out
    }
}

/// The files a compile read, from its dep-info file (`target: a b\ c`),
/// relative paths taken from `cwd`.
pub fn files_read(dep_info: &Path, cwd: &Path) -> std::io::Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(dep_info)?;
    let Some(first) = text.lines().find(|l| l.contains(": ")) else {
        return Ok(Vec::new());
    };
    let deps = &first[first.find(": ").map(|i| i + 2).unwrap_or(first.len())..];
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = deps.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ' ' => {
                if !cur.is_empty() {
                    out.push(cwd.join(std::mem::take(&mut cur)));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cwd.join(cur));
    }
    Ok(out)
}

/// Files in `read` that are not beneath one of `allowed`.
pub fn outside(read: &[PathBuf], allowed: &[PathBuf]) -> Vec<PathBuf> {
    let norm = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let allowed: Vec<PathBuf> = allowed.iter().map(|p| normalize(&norm(p))).collect();
    read.iter()
        .filter(|p| {
            let p = normalize(&norm(p));
            !allowed.iter().any(|a| p.starts_with(a))
        })
        .cloned()
        .collect()
}

/// `a/b/../c` → `a/c`, without touching the file system (a path that
/// escapes through `..` must not look as if it stayed inside).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests;
