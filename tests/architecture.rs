//! The shape of the house (issue 16), checked on every test run: the
//! modules of `src/` import each other without a circle, no source file
//! grows past what one idea needs, every module says what it is for, and
//! `ARCHITECTURE.md` names only paths that exist.
//!
//! A module here is a file. Its imports are the `crate::` and `super::`
//! paths it names, and, for a file with submodules, the submodules it
//! names; `mod x;` alone is a declaration, not an import. Code that is
//! compiled into another crate (the model checker's facade, the harness
//! support, the scaffold templates) is not part of the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The most lines a source file may have.
const MAX_LINES: usize = 600;

/// Files compiled into other crates (their `crate::` is not the grader's).
fn foreign(rel: &str) -> bool {
    rel.starts_with("model/facade/")
        || rel.starts_with("scaffold/")
        || rel == "model/unit_support.rs"
        || rel == "model/seal.rs"
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| exts.iter().any(|e| x == *e)) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// `model/harness.rs` → `model::harness`; `model/mod.rs` → `model`;
/// `main.rs` → `` (the crate root).
fn module_of(rel: &str) -> String {
    let no_ext = rel.trim_end_matches(".rs");
    let mut parts: Vec<&str> = no_ext.split('/').collect();
    if parts.last() == Some(&"mod") || parts == ["main"] {
        parts.pop();
    }
    parts.join("::")
}

/// Source without comments and string literals, so that a path named in a
/// doc comment or a message is not an import.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            // A raw string's hashes are left in place: harmless.
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A char literal such as '"'.
            i += 3;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// `code` split into what is outside inline modules (`mod x { .. }`) and
/// what is inside them, test modules (`#[cfg(test)]`) left out: test code
/// does not shape the house, and `super::` inside an inline module is the
/// file itself, not its parent.
fn split_inline_modules(code: &str) -> (String, String) {
    let (mut outer, mut inner) = (String::new(), String::new());
    let mut rest = code;
    loop {
        let Some(k) = find_inline_mod(rest) else {
            outer.push_str(rest);
            break;
        };
        let open = k + rest[k..].find('{').unwrap();
        let close = open + 1 + matching_brace(&rest[open + 1..]);
        let head = &rest[..k];
        let is_test = head.trim_end().ends_with("#[cfg(test)]");
        outer.push_str(head);
        if !is_test {
            inner.push_str(&rest[open + 1..close.min(rest.len())]);
            inner.push('\n');
        }
        rest = &rest[(close + 1).min(rest.len())..];
    }
    (outer, inner)
}

/// Where the next `mod name {` starts (not `mod name;`).
fn find_inline_mod(code: &str) -> Option<usize> {
    let mut start = 0;
    while let Some(k) = code[start..].find("mod ") {
        let at = start + k;
        start = at + 4;
        if code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        let after = code[at + 4..].trim_start();
        let name_len = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .count();
        if name_len > 0 && after[name_len..].trim_start().starts_with('{') {
            // Back to the start of its attributes and visibility, for the
            // `#[cfg(test)]` test above.
            let line_start = code[..at].rfind('\n').map_or(0, |n| n + 1);
            return Some(line_start.min(at));
        }
    }
    None
}

/// The paths after `prefix` (`crate::a::b::c`, `super::x`), as segment
/// lists; a `use crate::{a::b, c}` group gives each of its members.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut start = 0;
    while let Some(k) = code[start..].find(prefix) {
        let at = start + k;
        start = at + prefix.len();
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = matching_brace(group);
            for member in split_top(&group[..end]) {
                out.push(segments(member.trim()));
            }
        } else {
            out.push(segments(rest));
        }
    }
    out
}

fn matching_brace(s: &str) -> usize {
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return i,
            '}' => depth -= 1,
            _ => {}
        }
    }
    s.len()
}

fn split_top(s: &str) -> Vec<&str> {
    let (mut depth, mut last, mut out) = (0, 0, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[last..i]);
                last = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[last..]);
    out
}

fn segments(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            break;
        }
        rest = &rest[ident.len()..];
        out.push(ident);
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    out
}

/// The longest prefix of `path` that is a module of the crate.
fn resolve(path: &[String], modules: &BTreeSet<String>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| modules.contains(m))
}

struct Graph {
    /// Module → the file it is.
    files: BTreeMap<String, String>,
    edges: BTreeMap<String, BTreeSet<String>>,
}

fn graph() -> Graph {
    let src = root().join("src");
    let mut files_of = BTreeMap::new();
    for f in files(&src, &["rs"]) {
        let rel = f
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if foreign(&rel) {
            continue;
        }
        files_of.insert(module_of(&rel), rel);
    }
    let modules: BTreeSet<String> = files_of.keys().cloned().collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, rel) in &files_of {
        let code = code_only(&fs::read_to_string(src.join(rel)).unwrap());
        let (outer, inner) = split_inline_modules(&code);
        let code = format!("{outer}\n{inner}");
        let here: Vec<String> = if module.is_empty() {
            Vec::new()
        } else {
            module.split("::").map(String::from).collect()
        };
        let is_dir_module = rel.ends_with("mod.rs") || rel == "main.rs";
        // `super` of a `mod.rs` or of a file is the parent module.
        let parent: Vec<String> = here[..here.len().saturating_sub(1)].to_vec();
        let mut targets = BTreeSet::new();
        for p in paths_after(&code, "crate::") {
            targets.extend(resolve(&p, &modules));
        }
        for p in paths_after(&outer, "super::") {
            let mut full = parent.clone();
            let mut p = p.as_slice();
            while p.first().is_some_and(|s| s == "super") {
                full.pop();
                p = &p[1..];
            }
            full.extend(p.iter().cloned());
            // `super::x` where x is an item of the parent: the parent.
            targets.extend(resolve(&full, &modules).or_else(|| {
                let m = parent.join("::");
                modules.contains(&m).then_some(m)
            }));
        }
        for p in paths_after(&code, "self::") {
            // `self` is the module itself, whether a file or a `mod.rs`.
            let mut full = here.clone();
            full.extend(p);
            targets.extend(resolve(&full, &modules));
        }
        // A submodule named by its own name (`harness::build(..)`,
        // `use harness::Harness;`) from the file that declares it.
        let base = here.clone();
        for child in modules.iter().filter(|m| {
            let prefix = if base.is_empty() {
                String::new()
            } else {
                format!("{}::", base.join("::"))
            };
            m.strip_prefix(&prefix)
                .is_some_and(|rest| !rest.is_empty() && !rest.contains("::"))
        }) {
            let name = child.rsplit("::").next().unwrap();
            let named = paths_after(&code, &format!("{name}::"))
                .into_iter()
                .next()
                .is_some();
            let declared_only = code
                .matches(&format!("mod {name};"))
                .count()
                .max(code.matches(&format!("mod {name} ;")).count());
            if named && (is_dir_module || declared_only > 0) {
                targets.insert(child.clone());
            }
        }
        targets.remove(module);
        edges.insert(module.clone(), targets);
    }
    Graph {
        files: files_of,
        edges,
    }
}

/// The strongly connected components with more than one module.
fn circles(g: &Graph) -> Vec<Vec<String>> {
    struct Tarjan<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on.insert(v);
            for w in self.g.edges.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(lw);
                } else if self.on.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low.get_mut(v).unwrap();
                    *lv = (*lv).min(iw);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    comp.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = Tarjan {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.edges.keys() {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v);
        }
    }
    t.out
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let g = graph();
    let found = circles(&g);
    let shown: Vec<String> = found
        .iter()
        .map(|c| {
            let members: Vec<String> = c
                .iter()
                .map(|m| {
                    let to: Vec<&str> = g.edges[m]
                        .iter()
                        .filter(|t| c.contains(t))
                        .map(|t| g.files[t].as_str())
                        .collect();
                    format!("  {} → {}", g.files[m], to.join(", "))
                })
                .collect();
            members.join("\n")
        })
        .collect();
    assert!(
        found.is_empty(),
        "{} import circle(s) among src/ modules:\n{}",
        found.len(),
        shown.join("\n\n")
    );
}

#[test]
fn no_source_file_is_past_the_size_of_one_idea() {
    let src = root().join("src");
    let long: Vec<String> = files(&src, &["rs", "c", "h"])
        .into_iter()
        .filter_map(|f| {
            let rel = f.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
            let n = fs::read_to_string(&f).unwrap().lines().count();
            (n > MAX_LINES).then(|| format!("  src/{rel}: {n} lines"))
        })
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn every_module_opens_by_saying_what_it_is_for() {
    let src = root().join("src");
    let silent: Vec<String> = files(&src, &["rs"])
        .into_iter()
        .filter(|f| {
            let rel = f
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            !rel.starts_with("scaffold/")
        })
        .filter(|f| {
            let text = fs::read_to_string(f).unwrap();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            !(first.starts_with("//!") || first.starts_with("/*!"))
        })
        .map(|f| format!("  {}", f.strip_prefix(root()).unwrap().display()))
        .collect();
    assert!(
        silent.is_empty(),
        "modules without a `//!` opening:\n{}",
        silent.join("\n")
    );
}

#[test]
fn the_architecture_guide_names_only_paths_that_exist() {
    let text = fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut missing = Vec::new();
    let mut named = 0;
    for (i, part) in text.split('`').enumerate() {
        // Inside backticks, a path of the repository: `src/run.rs`,
        // `graders/<id>/spec.toml` (a placeholder in <> is not checked).
        if i % 2 == 0 || part.contains(' ') || part.contains('<') {
            continue;
        }
        let looks_like_path = part.starts_with("src/")
            || part.starts_with("tests/")
            || part.starts_with("graders/")
            || part.starts_with("exercises/")
            || part.starts_with("solutions/")
            || part.starts_with("benches/")
            || part.starts_with("vendor/")
            || part.starts_with(".ci/");
        if !looks_like_path {
            continue;
        }
        named += 1;
        let path = part.split(':').next().unwrap().trim_end_matches('/');
        if !root().join(path).exists() {
            missing.push(part.to_string());
        }
    }
    assert!(named >= 20, "ARCHITECTURE.md names only {named} paths");
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}
