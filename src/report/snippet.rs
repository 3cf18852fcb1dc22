//! The student's own code under a failure: the lines a check's
//! [`SourceRef`]s name, read from the submission and underlined, in the
//! compiler's layout (annotate-snippets, the renderer rustc and cargo use),
//! so that a sleep, the two reads of a lost update or the locks of a
//! deadlock look like the errors the student already knows how to read.
//!
//! A location whose file cannot be read (gone, outside the submission, not
//! UTF-8) or whose line does not exist is left out: a snippet is help, never
//! a reason to fail a report.

use crate::checks::SourceRef;
use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use std::collections::BTreeMap;
use std::path::{Component, Path};

/// How many places one failure shows; the rest are counted.
const MAX_LOCATIONS: usize = 6;

/// Renders `locations` against the files under `submission`; empty when
/// none could be shown.
pub fn render(submission: &Path, locations: &[SourceRef], color: bool) -> String {
    // One snippet a file, its places in line order; files in the order the
    // check named them, so the first place stays first.
    let mut files: Vec<(String, String)> = Vec::new();
    let mut places: BTreeMap<String, Vec<&SourceRef>> = BTreeMap::new();
    for loc in locations.iter().take(MAX_LOCATIONS) {
        // A detector may name a file by its name under `src/` alone
        // (`lib.rs`, as the model checker's traces do); find it there too.
        let Some(file) = [loc.file.clone(), format!("src/{}", loc.file)]
            .into_iter()
            .find(|f| files.iter().any(|(known, _)| known == f) || submission.join(f).is_file())
        else {
            continue;
        };
        if !files.iter().any(|(known, _)| *known == file) {
            let Some(text) = read(submission, &file) else {
                continue;
            };
            files.push((file.clone(), text));
        }
        places.entry(file).or_default().push(loc);
    }
    let mut groups = Vec::new();
    for (file, text) in &files {
        let mut snippet = Snippet::source(text.as_str()).path(file.as_str());
        let mut any = false;
        for loc in &places[file] {
            if let Some(span) = line_span(text, loc.line) {
                let label = (!loc.label.is_empty()).then_some(loc.label.as_str());
                snippet = snippet.annotation(AnnotationKind::Primary.span(span).label(label));
                any = true;
            }
        }
        if any {
            groups.push(Group::with_level(Level::ERROR).element(snippet));
        }
    }
    if groups.is_empty() {
        return String::new();
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = renderer.render(&groups);
    let more = locations.len().saturating_sub(MAX_LOCATIONS);
    if more > 0 {
        out.push_str(&format!(
            "\n(and {more} more place{})",
            if more == 1 { "" } else { "s" }
        ));
    }
    out
}

/// The text of `file` under `root`, when `file` is a plain relative path
/// inside it.
fn read(root: &Path, file: &str) -> Option<String> {
    let rel = Path::new(file);
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let text = std::fs::read_to_string(root.join(rel)).ok()?;
    // rustc counts lines after `\r\n` → `\n`; so do the spans below. A
    // source may hold an escape sequence in a string literal: shown, not
    // obeyed.
    Some(super::safe::text(&text.replace("\r\n", "\n")).into_owned())
}

/// The byte range of line `line` (1-based) without its indentation and
/// line break.
fn line_span(text: &str, line: usize) -> Option<std::ops::Range<usize>> {
    let mut start = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let body = l.trim_end();
            let indent = body.len() - body.trim_start().len();
            if body.trim().is_empty() {
                return None;
            }
            return Some(start + indent..start + body.len());
        }
        start += l.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str, line: usize, label: &str) -> SourceRef {
        SourceRef {
            file: file.into(),
            line,
            label: label.into(),
        }
    }

    fn submission() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("src")).unwrap();
        std::fs::write(
            d.path().join("src/main.rs"),
            "use std::thread;\n\nfn main() {\n    thread::spawn(|| println!(\"hi\"));\n    \
             thread::sleep(std::time::Duration::from_millis(100));\n}\n",
        )
        .unwrap();
        d
    }

    #[test]
    fn the_line_is_shown_and_underlined_with_its_label() {
        let d = submission();
        let out = render(d.path(), &[at("src/main.rs", 5, "main sleeps here")], false);
        assert!(out.contains("src/main.rs:5:5"), "{out}");
        assert!(
            out.contains("5 |     thread::sleep(std::time::Duration::from_millis(100));"),
            "{out}"
        );
        assert!(out.contains("^^^^^ main sleeps here"), "{out}");
    }

    #[test]
    fn places_that_cannot_be_read_are_left_out() {
        let d = submission();
        assert_eq!(render(d.path(), &[at("../etc/passwd", 1, "")], false), "");
        assert_eq!(render(d.path(), &[at("/etc/passwd", 1, "")], false), "");
        assert_eq!(render(d.path(), &[at("src/gone.rs", 1, "")], false), "");
        assert_eq!(render(d.path(), &[at("src/main.rs", 99, "")], false), "");
        let out = render(
            d.path(),
            &[
                at("src/gone.rs", 1, ""),
                at("src/main.rs", 4, "spawned here"),
            ],
            false,
        );
        assert!(out.contains("spawned here"), "{out}");
    }

    #[test]
    fn a_file_named_by_its_name_under_src_is_found() {
        let d = submission();
        let out = render(d.path(), &[at("main.rs", 4, "spawned here")], false);
        assert!(out.contains("src/main.rs:4:5"), "{out}");
    }

    #[test]
    fn many_places_are_counted() {
        let d = submission();
        let locs: Vec<SourceRef> = (0..8).map(|_| at("src/main.rs", 4, "here")).collect();
        let out = render(d.path(), &locs, false);
        assert!(out.ends_with("(and 2 more places)"), "{out}");
    }
}
