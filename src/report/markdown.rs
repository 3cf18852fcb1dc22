//! Markdown that text from a submission cannot turn into markup: the
//! feedback files and Gradescope's `md` outputs share these.
//!
//! Inline text has Markdown and HTML characters escaped, code spans and
//! fences are longer than any run of backticks they hold, and control
//! characters are shown escaped ([`safe`](super::safe)) in all three.

use super::safe;

/// Inline text: one line, Markdown and HTML characters escaped.
pub fn text(s: &str) -> String {
    let s = safe::one_line(s);
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    out
}

/// A code span: shown literally, whatever it holds, on one line.
pub fn code(s: &str) -> String {
    let s = safe::one_line(s);
    let longest = longest_backtick_run(&s);
    let tick = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{tick}{pad}{s}{pad}{tick}")
}

/// A fenced block longer than any run of backticks inside it.
pub fn fenced(body: &str) -> String {
    let body = safe::text(body);
    let fence = "`".repeat(longest_backtick_run(&body).max(2) + 1);
    format!("{fence}text\n{body}\n{fence}")
}

fn longest_backtick_run(s: &str) -> usize {
    let (mut longest, mut run) = (0, 0);
    for ch in s.chars() {
        run = if ch == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(text("a|b <i>*x*</i>"), "a\\|b &lt;i&gt;\\*x\\*&lt;/i&gt;");
        assert_eq!(text("x\x1b[2Jy"), "x\\\\x1b\\[2Jy");
    }

    #[test]
    fn code_spans_hold_anything() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("was `done`"), "`` was `done` ``");
        assert_eq!(code("x\ny"), "`x\\ny`");
    }

    #[test]
    fn fences_outgrow_backticks() {
        assert!(fenced("a ```` b").starts_with("`````text\n"));
        assert_eq!(fenced("\x1b[2J"), "```text\n\\x1b[2J\n```");
    }
}
