//! Finds the roots of `std`, `core` and `alloc` paths in a file's raw
//! tokens, macro bodies included, for the rewrite to replace; and refuses,
//! with their line, what the tokens alone show cannot be modelled
//! (`thread_local!`, the clock, introspection, a renamed `std`, an
//! unmodelled item of a modelled module).

use super::rules::{CLOCK, INTROSPECT, INTROSPECT_WHY, Rejection, unsupported};
use proc_macro2::{Delimiter, LineColumn, Spacing, TokenStream, TokenTree};
use std::collections::BTreeSet;

/// Finds path roots in the raw tokens (macro bodies included).
pub(super) struct TokenScan<'a> {
    pub(super) file: &'a str,
    /// Spans (start, end) of `std`/`core`/`alloc` roots to replace.
    pub(super) roots: BTreeSet<(LineColumn, LineColumn)>,
    pub(super) rejections: Vec<Rejection>,
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
    pub(super) fn walk(&mut self, stream: TokenStream) {
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
        if INTROSPECT.contains(&name) {
            self.reject(line, format!("`{name}`"), INTROSPECT_WHY.into());
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
