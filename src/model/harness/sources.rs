//! The source files a harness is built from: the grader's scenario and
//! test files (named as Rust identifiers), the submission's library
//! rewritten onto the facade (with what cannot be model-checked turned
//! into a verdict), and the generated `main` that runs one scenario.

use crate::checks::Category;
use crate::model::bypass;
use crate::model::context::ModelContext;
use crate::model::error::{ModelError, io};
use crate::model::explain::Verdict;
use crate::model::observe::scenarios as calls;
use crate::model::rewrite::{self, Rejection};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The `.rs` files of a grader folder (`model/` or `unit/`), by name.
pub fn grader_files(dir: &Path) -> Result<Vec<(String, PathBuf)>, ModelError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ModelError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "rs") {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !is_ident(&name) {
                return Err(ModelError::Scenario {
                    path,
                    message: "file names must be Rust identifiers".into(),
                });
            }
            files.push((name, path));
        }
    }
    files.sort();
    Ok(files)
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Every `.rs` file under `dir`, relative to it.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(ft) = entry.file_type() else { continue };
            let path = entry.path();
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file()
                && path.extension().is_some_and(|e| e == "rs")
                && let Ok(rel) = path.strip_prefix(dir)
            {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// The submission's library, rewritten onto the facade, in `out/src/`.
/// Returns the rejections found in the library's own files.
pub(super) fn rewrite_library(src: &Path, out: &Path) -> Result<Vec<Rejection>, ModelError> {
    let library = rewrite::library_files(src);
    let mut rejections = Vec::new();
    for rel in rust_files(src) {
        if rel == Path::new("main.rs") || rel.starts_with("bin") {
            continue;
        }
        let from = src.join(&rel);
        let text = std::fs::read_to_string(&from).map_err(io(&from))?;
        let name = rel.to_string_lossy().replace('\\', "/");
        let result = rewrite::rewrite_source(&name, &text);
        if library.contains(&from) {
            rejections.extend(result.rejections);
        }
        let to = out.join(&rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&to, result.text).map_err(io(&to))?;
    }
    rejections.sort();
    Ok(rejections)
}

pub(super) fn rejected(rejections: &[Rejection]) -> Verdict {
    let first = &rejections[0];
    let mut details = String::from(
        "The model checker runs your library under every interleaving of its threads. \
         It cannot do that with:\n",
    );
    for r in rejections {
        let _ = writeln!(details, "  - {r}");
    }
    Verdict {
        category: Category::Forbidden,
        message: format!(
            "cannot be model-checked: {} at {} — {}",
            first.what,
            first.at(),
            first.why
        ),
        details,
    }
}

/// The grader's scenarios, rewritten onto the facade like the library (so
/// they are written with plain `std` paths), copied into `dir`: `(name,
/// copy)`.
pub(super) fn write_scenarios(
    ctx: &ModelContext,
    dir: &Path,
) -> Result<Vec<(String, PathBuf)>, ModelError> {
    let mut out = Vec::new();
    let folder = ctx.spec.dir.join("model");
    // A spec with `lib-threads` checks and no scenario has no folder.
    if !folder.exists() && calls::wanted(ctx.spec) {
        return Ok(out);
    }
    for (name, path) in grader_files(&folder)? {
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let file = format!("{name}.rs");
        let copy = dir.join(&file);
        let rewritten = rewrite::rewrite_source(&file, &text);
        let qualified = bypass::qualify_macros(&rewritten.text);
        std::fs::write(&copy, qualified).map_err(io(&copy))?;
        out.push((name, copy));
    }
    Ok(out)
}

/// The scenario modules and a `main` that runs the one named on the
/// command line.
pub(super) fn harness_main(scenarios: &[(String, PathBuf)]) -> String {
    let mut main = String::new();
    for (i, (_, path)) in scenarios.iter().enumerate() {
        let _ = writeln!(
            main,
            "#[path = {:?}]\nmod grader_scenario_{i};",
            path.display().to_string()
        );
    }
    main.push_str("fn main() {\n    grader_conc::model::main(&[\n");
    for (i, (name, _)) in scenarios.iter().enumerate() {
        let _ = writeln!(main, "        ({name:?}, grader_scenario_{i}::scenario),");
    }
    main.push_str("    ]);\n}\n");
    main
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grader_file_names_must_be_identifiers() {
        assert!(is_ident("two_threads"));
        assert!(is_ident("t2"));
        assert!(!is_ident("Two"));
        assert!(!is_ident("2threads"));
        assert!(!is_ident("two-threads"));
    }
}
