//! Spec errors that point at the offending key.
//!
//! `toml` reports a wrong value inside an internally tagged table (a rule, a
//! check) at the table's header, because serde reads such tables whole. This
//! module narrows the span to the key or value the message names, renders the
//! real lines around it, and adds the likely cause where one is known.

use std::fmt::Write as _;
use std::ops::Range;

/// Top-level keys of a spec: written after a `[table]` header, TOML reads
/// them as part of that table.
const TOP_LEVEL: &[&str] = &[
    "format_version",
    "title",
    "lesson",
    "kind",
    "hint",
    "starter",
];

/// `path:line:col: message`, a snippet of the real lines, and a note.
pub fn render(path: &str, text: &str, err: &toml::de::Error) -> String {
    // Some messages span lines ("invalid string\nexpected `\"`"): keep one.
    let message = err
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(": ");
    let span = err
        .span()
        .map(|s| narrow(text, s, &message))
        .unwrap_or(0..0);
    let (line, col) = line_col(text, span.start);
    let mut out = format!("{path}:{line}:{col}: {message}");
    if err.span().is_some() {
        out.push('\n');
        out.push_str(&snippet(text, &span));
    }
    if let Some(note) = likely_cause(text, &span, &message) {
        let _ = write!(out, "\n  = note: {note}");
    }
    out
}

/// The name in "unknown variant `x`" / "unknown field `x`".
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split('`').next()
}

/// The part of `span` that holds the key or value the message is about.
fn narrow(text: &str, span: Range<usize>, message: &str) -> Range<usize> {
    let span = span.start.min(text.len())..span.end.min(text.len());
    let within = &text[span.clone()];
    let found = if let Some(v) = quoted_after(message, "unknown variant ") {
        ["\"", "'"].iter().find_map(|q| {
            let needle = format!("{q}{v}{q}");
            within.find(&needle).map(|i| i..i + needle.len())
        })
    } else if let Some(k) = quoted_after(message, "unknown field ") {
        find_key(within, k)
    } else {
        None
    };
    match found {
        Some(r) => span.start + r.start..span.start + r.end,
        None => span,
    }
}

/// Where `key` is written as a key (`key =`) in `text`, outside comments.
fn find_key(text: &str, key: &str) -> Option<Range<usize>> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let code = line.split('#').next().unwrap_or("");
        let mut from = 0;
        while let Some(i) = code[from..].find(key) {
            let at = from + i;
            let before = code[..at].trim_end().chars().last();
            let after = code[at + key.len()..].trim_start();
            let starts = matches!(before, None | Some('{') | Some(','));
            if starts && after.starts_with('=') {
                return Some(offset + at..offset + at + key.len());
            }
            from = at + key.len();
        }
        offset += line.len();
    }
    None
}

fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// The lines of `span` (at most three), numbered, with the span underlined.
fn snippet(text: &str, span: &Range<usize>) -> String {
    let (first, _) = line_col(text, span.start);
    let (last, _) = line_col(text, span.end.saturating_sub(1).max(span.start));
    let last = last.min(first + 2);
    let width = last.to_string().len();
    let mut out = format!("{:width$} |\n", "");
    let mut start = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let n = i + 1;
        let end = start + line.len();
        if (first..=last).contains(&n) {
            let body = line.trim_end_matches(['\n', '\r']);
            let _ = writeln!(out, "{n:>width$} | {body}");
            let from = span.start.max(start) - start;
            let to = span.end.min(start + body.len()).max(span.start.max(start)) - start;
            // An empty span (an error at the end of a line) still gets a caret.
            let to = if to == from && n == first {
                from + 1
            } else {
                to
            };
            if to > from {
                let pad: String = body[..from]
                    .chars()
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                let _ = writeln!(
                    out,
                    "{:width$} | {pad}{}",
                    "",
                    "^".repeat(body.get(from..to).map_or(1, |t| t.chars().count().max(1)))
                );
            }
        }
        start = end;
    }
    out.trim_end_matches('\n').to_string()
}

fn likely_cause(text: &str, span: &Range<usize>, message: &str) -> Option<String> {
    if let Some(key) = quoted_after(message, "unknown field ")
        && TOP_LEVEL.contains(&key)
    {
        let header = text[..span.start.min(text.len())]
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('['))?;
        return Some(format!(
            "`{key}` belongs at the top of the spec, but it is written after the table header \
             `{header}`, so TOML reads it as part of that table: in TOML every key after a \
             header belongs to that table. Move `{key}` above the first `[...]` header."
        ));
    }
    if let Some(got) =
        quoted_after(message, "unknown variant ").or(quoted_after(message, "unknown field "))
    {
        let expected = message.split_once("expected ")?.1;
        let best = expected
            .split('`')
            .skip(1)
            .step_by(2)
            .map(|c| (strsim::levenshtein(got, c), c))
            .min()?;
        if best.0 <= 2 {
            return Some(format!("did you mean `{}`?", best.1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        let err = toml::from_str::<crate::spec::ExerciseSpec>(text).unwrap_err();
        render("spec.toml", text, &err)
    }

    const HEAD: &str =
        "format_version = 1\ntitle = \"t\"\nlesson = \"l\"\nkind = \"bin\"\nhint = \"h\"\n";

    #[test]
    fn a_misspelt_rule_is_shown_at_its_own_line() {
        let text = format!(
            "{HEAD}\n[[check]]\nkind = \"output\"\nname = \"output\"\npoints = 1\nrules = [\n    {{ rule = \"lines\", lines = [\"a\"] }},\n    {{ rule = \"regexp\", pattern = \"x\" }},\n]\n"
        );
        let e = error_of(&text);
        assert!(
            e.starts_with("spec.toml:13:14: unknown variant `regexp`"),
            "{e}"
        );
        assert!(
            e.contains(
                "13 |     { rule = \"regexp\", pattern = \"x\" },\n   |              ^^^^^^^^"
            ),
            "{e}"
        );
        assert!(e.contains("did you mean `regex`?"), "{e}");
    }

    #[test]
    fn a_key_after_a_table_header_is_explained() {
        let text = "format_version = 1\ntitle = \"t\"\nlesson = \"l\"\nkind = \"bin\"\n[limits]\nwall_ms = 5000\nhint = \"h\"\n";
        let e = error_of(text);
        assert!(e.starts_with("spec.toml:7:1: unknown field `hint`"), "{e}");
        assert!(e.contains("7 | hint = \"h\""), "{e}");
        assert!(e.contains("after the table header `[limits]`"), "{e}");
    }

    #[test]
    fn an_unknown_check_field_points_at_the_key() {
        let text = format!(
            "{HEAD}[[check]]\nkind = \"output\"\nname = \"o\"\npoints = 1\nrules = [{{ rule = \"last\", line = \"x\" }}]\npionts = 2\n"
        );
        let e = error_of(&text);
        assert!(
            e.starts_with("spec.toml:11:1: unknown field `pionts`"),
            "{e}"
        );
        assert!(e.contains("did you mean `points`?"), "{e}");
    }
}
