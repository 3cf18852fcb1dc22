//! The checks that need a file's syntax tree rather than its tokens:
//! nested `use` trees (an unmodelled item or a renamed `std` inside
//! braces) and `static` items that hold synchronisation types.

use super::rules::{Rejection, STATEFUL, unsupported};
use syn::visit::Visit;

/// Item-level checks that need the syntax tree: nested `use` trees,
/// `static` items.
pub(super) struct ItemScan<'a> {
    pub(super) file: &'a str,
    pub(super) rejections: Vec<Rejection>,
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
