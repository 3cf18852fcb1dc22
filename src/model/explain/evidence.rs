//! Where in the student's code a model verdict happened: the reads and
//! writes of a lost update, the locks and waits of a deadlock, the line
//! that panicked. They become the check's `locations`, which the human
//! report underlines and `--format github` annotates.
//!
//! Also [`Report::relocate`]: a lock or atomic made by a function the
//! student passed by name (`.map(Mutex::new)`) is created inside the
//! standard library (`/rustc/.../function.rs`), where `#[track_caller]`
//! stops; its place is then found in the student's own files, at the line
//! that names the constructor.

use super::races::{Access, StaleWrite, access};
use super::report::{Event, Report, ThreadState};
use super::steps::{is_foreign, thread_name};
use crate::checks::{Category, SourceRef};
use std::path::Path;

/// What a model verdict points at in the submission.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    pub locations: Vec<SourceRef>,
    /// The library itself spawned threads in the failing interleaving: a
    /// run of the library on real threads (a unit test, the program) is
    /// then at the mercy of the same interleavings.
    pub library_threads: bool,
}

/// `lib.rs:12` → (`src/lib.rs`, 12) for a line of the student's library;
/// `None` for the grader's scenarios and the standard library.
pub fn student_line(loc: &str) -> Option<(String, usize)> {
    if loc.is_empty() || loc.starts_with("scenario/") || is_foreign(loc) {
        return None;
    }
    let (file, line) = loc.rsplit_once(':')?;
    let line = line.parse().ok()?;
    Some((format!("src/{file}"), line))
}

impl Report {
    /// The places of the failing interleaving that make the verdict.
    pub fn evidence(&self, category: Category) -> Evidence {
        let mut places: Vec<(String, String)> = Vec::new();
        match category {
            Category::DataRace => self.race_places(&mut places),
            Category::Deadlock => self.deadlock_places(&mut places),
            _ => {}
        }
        if places.is_empty()
            && let Some(f) = &self.failure
            && matches!(f.kind.as_str(), "panic" | "assert")
        {
            let what = if f.kind == "panic" {
                "panics here"
            } else {
                "fails here"
            };
            places.push((f.loc.clone(), what.into()));
        }
        let mut locations: Vec<SourceRef> = Vec::new();
        for (loc, label) in places {
            if let Some((file, line)) = student_line(&loc)
                && !locations
                    .iter()
                    .any(|l| l.file == file && l.line == line && l.label == label)
            {
                locations.push(SourceRef { file, line, label });
            }
        }
        let library_threads = self
            .events
            .iter()
            .any(|e| e.verb == "spawn" && student_line(&e.loc).is_some())
            || self
                .threads
                .iter()
                .any(|t| student_line(&t.spawned_at).is_some());
        Evidence {
            locations,
            library_threads,
        }
    }

    /// An event's line; a release has none, so it is the line where its
    /// section was locked.
    fn line_of(&self, i: usize) -> String {
        let e = &self.events[i];
        if !e.loc.is_empty() {
            return e.loc.clone();
        }
        self.events[..i]
            .iter()
            .rev()
            .find(|p| {
                p.thread == e.thread
                    && p.obj == e.obj
                    && matches!(p.verb.as_str(), "lock" | "relock" | "write-lock")
            })
            .map(|p| p.loc.clone())
            .unwrap_or_default()
    }

    fn race_places(&self, places: &mut Vec<(String, String)>) {
        let ev = &self.events;
        if let Some(StaleWrite {
            read,
            others,
            write,
        }) = self.stale_writes().into_iter().next()
        {
            let r = &ev[read];
            places.push((
                self.line_of(read),
                format!("{} reads {} here", thread_name(r.thread), value(r)),
            ));
            for &k in &others {
                places.push((
                    self.line_of(k),
                    format!("{} changes it here", thread_name(ev[k].thread)),
                ));
            }
            places.push((
                self.line_of(write),
                format!(
                    "{} writes here, from its old read: an update is lost",
                    thread_name(ev[write].thread)
                ),
            ));
        } else if let Some(t) = self.torn_read() {
            for (k, what) in [
                (t.first, "reads one part here"),
                (t.other_first, "changes it here"),
                (t.other_second, "changes the other part here"),
                (t.second, "reads the other part here, after the change"),
            ] {
                places.push((
                    self.line_of(k),
                    format!("{} {what}", thread_name(ev[k].thread)),
                ));
            }
        } else if let Some(k) = ev.iter().position(|e| e.verb == "cas-failed") {
            places.push((
                self.line_of(k),
                "this compare_exchange fails and nothing retries it".into(),
            ));
        } else if let Some(f) = &self.failure {
            // A causality violation names its accesses as `@ lib.rs:10:38`.
            for part in f.message.split("@ ").skip(1) {
                let loc: String = part
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != ')' && *c != ',')
                    .collect();
                let mut pieces = loc.rsplitn(3, ':');
                let (_col, line, file) = (pieces.next(), pieces.next(), pieces.next());
                if let (Some(file), Some(line)) = (file, line) {
                    places.push((
                        format!("{file}:{line}"),
                        "accessed here by two threads at once".into(),
                    ));
                }
            }
        }
    }

    fn deadlock_places(&self, places: &mut Vec<(String, String)>) {
        for (t, info) in self.threads.iter().enumerate() {
            let ThreadState::Blocked { loc, .. } = &info.state else {
                continue;
            };
            let who = thread_name(t);
            for h in self.held.iter().filter(|h| h.thread == t) {
                places.push((h.loc.clone(), format!("{who} holds this lock")));
            }
            places.push((loc.clone(), format!("{who} waits here, for ever")));
        }
    }

    /// Moves places outside the submission (a constructor passed by name,
    /// `.map(Mutex::new)`) to the student's line that names the function.
    pub fn relocate(&mut self, src: &Path) {
        let files = library_files(src);
        for o in &mut self.objects {
            if !is_foreign(&o.loc) {
                continue;
            }
            let ty = o.kind.split('<').next().unwrap_or("").to_string();
            let names = ["new", "from", "default"].map(|m| format!("{ty}::{m}"));
            let found = named_without_call(&files, &names)
                .or_else(|| named_without_call(&files, &["Default::default".to_string()]));
            if let Some(at) = found {
                o.loc = at;
            }
        }
        let fixed: Vec<(usize, String)> = self
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| is_foreign(&e.loc))
            .filter_map(|(i, e)| {
                let method = match e.verb.as_str() {
                    "join" => "join",
                    "lock" => "lock",
                    "load" => "load",
                    "recv" => "recv",
                    "send" => "send",
                    _ => return None,
                };
                named_without_call(&files, &[format!("::{method}")]).map(|at| (i, at))
            })
            .collect();
        for (i, at) in fixed {
            self.events[i].loc = at;
        }
    }
}

fn value(e: &Event) -> String {
    if e.values[0].is_empty() || access(e) != Access::Read {
        "the value".into()
    } else {
        e.values[0].clone()
    }
}

/// The library's `.rs` files under `src` (not `main.rs` or `bin/`), as
/// (name relative to `src`, text).
fn library_files(src: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file()
                && path.extension().is_some_and(|e| e == "rs")
                && let Ok(rel) = path.strip_prefix(src)
            {
                let rel = rel.to_string_lossy().replace('\\', "/");
                if rel == "main.rs" || rel.starts_with("bin/") {
                    continue;
                }
                if let Ok(text) = std::fs::read_to_string(&path) {
                    out.push((rel, text));
                }
            }
        }
    }
    out.sort();
    out
}

/// The first line (`lib.rs:9`) that names one of `names` as a value, not
/// a call: `.map(Mutex::new)`, never `Mutex::new(0)`.
fn named_without_call(files: &[(String, String)], names: &[String]) -> Option<String> {
    for (file, text) in files {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for name in names {
                let mut from = 0;
                while let Some(i) = code[from..].find(name.as_str()) {
                    let end = from + i + name.len();
                    let before = code[..from + i].chars().next_back();
                    let after = code[end..].trim_start().chars().next();
                    let word_before = before.is_some_and(|c| c.is_alphanumeric() || c == '_');
                    let word_after = code[end..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_');
                    if !word_before && !word_after && after != Some('(') && after != Some(':') {
                        return Some(format!("{file}:{}", n + 1));
                    }
                    from = end;
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::report::parse;
    use super::*;

    fn report(lines: &str) -> Report {
        let text: String = lines
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let fields: Vec<&str> = l.split('|').map(str::trim).collect();
                format!("@@t0 {}\n", fields.join("\t"))
            })
            .collect();
        parse(&text, "t0")
    }

    #[test]
    fn a_lost_update_points_at_the_read_and_the_writes() {
        let r = report(
            "fail | assert | count_concurrently(2, 1) returned 1 instead of 2 | scenario/two.rs:5
             object | 0 | AtomicUsize | lib.rs:6
             event | 0 |  | lib.rs:9 | spawn | 1 |
             event | 1 | 0 | lib.rs:10 | load | 0 | SeqCst
             event | 2 | 0 | lib.rs:10 | load | 0 | SeqCst
             event | 1 | 0 | lib.rs:11 | store | 1 |
             event | 2 | 0 | lib.rs:11 | store | 1 |
             counts | 2 | 1
             end",
        );
        let e = r.evidence(Category::DataRace);
        assert!(e.library_threads);
        let lines: Vec<(usize, &str)> = e
            .locations
            .iter()
            .map(|l| (l.line, l.label.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (10, "thread 2 reads 0 here"),
                (11, "thread 1 changes it here"),
                (
                    11,
                    "thread 2 writes here, from its old read: an update is lost"
                ),
            ]
        );
        assert!(e.locations.iter().all(|l| l.file == "src/lib.rs"));
    }

    #[test]
    fn a_deadlock_points_at_held_locks_and_waits() {
        let r = report(
            "fail | deadlock | deadlock; threads = [...] | /x/loom-0.7.3/src/rt/execution.rs:217
             object | 0 | Mutex<u64> | /rustc/abc/library/core/src/ops/function.rs:250
             object | 1 | Mutex<u64> | /rustc/abc/library/core/src/ops/function.rs:250
             thread | 0 |  | blocked | lib.rs:21 | lock | 1
             thread | 1 | scenario/opposite.rs:9 | blocked | lib.rs:21 | lock | 0
             held | 0 | 0 | lock | lib.rs:20
             held | 1 | 1 | lock | lib.rs:20
             end",
        );
        let e = r.evidence(Category::Deadlock);
        assert!(!e.library_threads, "the scenario spawned, not the library");
        let lines: Vec<(usize, &str)> = e
            .locations
            .iter()
            .map(|l| (l.line, l.label.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (20, "the main thread holds this lock"),
                (21, "the main thread waits here, for ever"),
                (20, "thread 1 holds this lock"),
                (21, "thread 1 waits here, for ever"),
            ]
        );
    }

    #[test]
    fn a_constructor_passed_by_name_is_found_in_the_student_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("lib.rs"),
            "use std::sync::Mutex;\n\
             pub struct Bank { a: Vec<Mutex<u64>> }\n\
             fn one() -> Mutex<u64> { Mutex::new(0) }\n\
             pub fn new(v: Vec<u64>) -> Bank {\n\
             \x20   Bank { a: v.into_iter().map(Mutex::new).collect() }\n\
             }\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("main.rs"),
            "fn main() { x.map(Mutex::new); }\n",
        )
        .unwrap();
        let mut r = report(
            "object | 0 | Mutex<u64> | /rustc/abc/library/core/src/ops/function.rs:250
             object | 1 | AtomicU64 | lib.rs:3",
        );
        r.relocate(dir.path());
        assert_eq!(r.objects[0].loc, "lib.rs:5");
        assert_eq!(r.objects[1].loc, "lib.rs:3");
    }
}
