//! Which files are the library: `src/lib.rs` and the module files it
//! declares, found by following `mod name;` (`name.rs`, `name/mod.rs`,
//! `#[path]`), so a module only `main.rs` uses is not held to the model's
//! rules.

use std::path::{Path, PathBuf};

/// The library's module files, found from `src/lib.rs` by following
/// `mod name;` declarations (`name.rs`, `name/mod.rs`, `#[path]`), so a
/// module only `main.rs` uses is not held to the model's rules.
pub fn library_files(src: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut queue = vec![(src.join("lib.rs"), src.to_path_buf())];
    while let Some((file, dir)) = queue.pop() {
        if files.contains(&file) || files.len() > 256 {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        files.push(file.clone());
        let Ok(ast) = syn::parse_file(&text) else {
            continue;
        };
        collect_mods(&ast.items, &dir, &mut queue);
    }
    files
}

/// `dir` is where this file's child modules live.
fn collect_mods(items: &[syn::Item], dir: &Path, queue: &mut Vec<(PathBuf, PathBuf)>) {
    for item in items {
        let syn::Item::Mod(m) = item else { continue };
        let name = m.ident.to_string();
        let explicit = m.attrs.iter().find_map(|a| {
            if !a.path().is_ident("path") {
                return None;
            }
            match &a.meta {
                syn::Meta::NameValue(syn::MetaNameValue {
                    value:
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }),
                    ..
                }) => Some(s.value()),
                _ => None,
            }
        });
        match (&m.content, explicit) {
            (Some((_, inner)), _) => collect_mods(inner, &dir.join(&name), queue),
            (None, Some(path)) => {
                let file = dir.join(path);
                let child_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
                queue.push((file, child_dir));
            }
            (None, None) => {
                let flat = dir.join(format!("{name}.rs"));
                if flat.is_file() {
                    queue.push((flat, dir.join(&name)));
                } else {
                    queue.push((dir.join(&name).join("mod.rs"), dir.join(&name)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_files_follow_mod_declarations() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path();
        std::fs::write(
            src.join("lib.rs"),
            "mod a;\nmod b;\nmod inline { mod c; }\n",
        )
        .unwrap();
        std::fs::write(src.join("a.rs"), "mod deep;\n").unwrap();
        std::fs::create_dir_all(src.join("a")).unwrap();
        std::fs::write(src.join("a/deep.rs"), "").unwrap();
        std::fs::create_dir_all(src.join("b")).unwrap();
        std::fs::write(src.join("b/mod.rs"), "").unwrap();
        std::fs::create_dir_all(src.join("inline")).unwrap();
        std::fs::write(src.join("inline/c.rs"), "").unwrap();
        std::fs::write(src.join("only_main.rs"), "").unwrap();
        let mut found: Vec<String> = library_files(src)
            .iter()
            .map(|p| p.strip_prefix(src).unwrap().to_string_lossy().into_owned())
            .collect();
        found.sort();
        assert_eq!(
            found,
            vec!["a.rs", "a/deep.rs", "b/mod.rs", "inline/c.rs", "lib.rs"]
        );
    }
}
