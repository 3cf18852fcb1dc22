//! Text from a submission, made safe to show: what a student's program
//! printed, what its compile produced, the lines of its sources.
//!
//! A terminal obeys escape sequences (ESC, CSI, OSC: clear the screen, move
//! the cursor, rewrite the title, print a fake `PASS`), a carriage return
//! overwrites the line before it, and a bidirectional override reorders
//! what is shown. None of that may reach a reader as an effect: every such
//! character is shown as an escape (`\x1b`, `\r`, `\u{202e}`), so the
//! student sees what their program printed and nothing is repainted. Line
//! breaks and tabs stay, except in [`one_line`].
//!
//! This module is about characters only; each format adds its own quoting
//! (workflow-command encoding, Markdown code spans, XML escapes).

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must be shown escaped (line breaks and tabs aside).
fn unsafe_char(c: char) -> bool {
    matches!(c,
        // C0 controls (ESC, CR, BEL, backspace...), DEL and C1 controls
        // (U+009B is a CSI of its own in some terminals).
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        // Bidirectional embeddings, overrides and isolates.
        | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        // Line and paragraph separators break lines where text must not.
        | '\u{2028}' | '\u{2029}'
        // Not characters; XML 1.0 cannot hold them.
        | '\u{fffe}' | '\u{ffff}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// `s` with every character that could act on a terminal or a log shown
/// as an escape; line breaks and tabs kept.
pub fn text(s: &str) -> Cow<'_, str> {
    escape(s, unsafe_char)
}

/// [`text`] on one line: line breaks and tabs are escaped too.
pub fn one_line(s: &str) -> Cow<'_, str> {
    escape(s, |c| unsafe_char(c) || matches!(c, '\n' | '\t'))
}

fn escape(s: &str, bad: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if bad(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_acts_on_a_terminal() {
        assert_eq!(
            text("\x1b[2J\x1b]0;PASS\x07ok\r\n"),
            "\\x1b[2J\\x1b]0;PASS\\x07ok\\r\n"
        );
        assert_eq!(text("a\u{9b}31m\u{202e}b"), "a\\x9b31m\\u{202e}b");
        assert_eq!(text("tab\tline\n"), "tab\tline\n");
        assert!(matches!(text("plain ✓ text"), Cow::Borrowed(_)));
    }

    #[test]
    fn one_line_escapes_breaks() {
        assert_eq!(one_line("a\nb\tc"), "a\\nb\\tc");
    }
}
