//! Per-submission builds of the two harnesses, with `rustc` called directly
//! against prebuilt rlibs (research/speed.md §3: two direct calls take about
//! 0.35 s where warm cargo takes 0.4–0.5 s).
//!
//! - The model harness: the student's library, rewritten onto the facade,
//!   as an rlib; then the grader's scenarios (rewritten the same way, so
//!   they are written with plain `std` paths) and a `main` that runs one of
//!   them under loom, linked against it.
//! - The unit harness: the grader's functional tests linked against the
//!   library exactly as the build stage compiled it for `std`.
//!
//! Paths are remapped so that locations read `lib.rs:12` and
//! `scenario/two_threads.rs:5`: the explanations quote them as they are.
//! The student's library keeps `-F unsafe-code`, debug assertions and
//! overflow checks; it is not given `--cfg loom`, so `cfg(loom)` tricks in
//! a submission change nothing between the real build and the model.

use super::bypass;
use super::explain::Verdict;
use super::rewrite::{self, Rejection};
use super::workspace::Prebuilt;
use super::{ModelContext, ModelError};
use crate::checks::Category;
use crate::compiled;
use crate::run::{self, Termination};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A harness ready to run, or why the submission cannot get one.
#[derive(Debug, Clone)]
pub enum Harness {
    Ready { exe: PathBuf },
    Rejected(Verdict),
}

const UNIT_SUPPORT: &str = include_str!("unit_support.rs");

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

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    }
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
fn rewrite_library(src: &Path, out: &Path) -> Result<Vec<Rejection>, ModelError> {
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

fn rejected(rejections: &[Rejection]) -> Verdict {
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

/// Builds the model harness of the submission in `ctx.sources`.
///
/// One rustc call when it can: the rewritten `lib.rs` is the harness's
/// crate root, with the scenarios and `main` appended after its last line
/// (so its line numbers stay) and `extern crate self as <crate>` so the
/// scenarios name it as usual; `crate::` paths in the library still mean
/// the library. That saves the second call's start-up and metadata round
/// trip (research/speed.md §3: one call 287 ms, two 359 ms). When that
/// build fails (a library with its own `main`, or `#![deny(warnings)]`
/// meeting the unused items of a binary), the library and the harness are
/// built apart, which also tells the library's own errors from a mismatch
/// with the scenarios.
pub fn build_model(ctx: &ModelContext, pre: &Prebuilt) -> Result<Harness, ModelError> {
    let dir = ctx.scratch.join("model");
    let src = dir.join("src");
    let scen_dir = dir.join("scenario");
    std::fs::create_dir_all(&src).map_err(io(&src))?;
    std::fs::create_dir_all(&scen_dir).map_err(io(&scen_dir))?;

    // Parsed on a stack for the deepest nesting the build stage lets
    // through (see `crate::nesting`).
    let rejections =
        crate::nesting::on_big_stack(|| rewrite_library(&ctx.sources.join("src"), &src))
            .map_err(io(&src))??;
    if !rejections.is_empty() {
        return Ok(Harness::Rejected(rejected(&rejections)));
    }
    let crate_name = ctx.spec.crate_name();
    let scenarios = write_scenarios(ctx, &scen_dir)?;
    let exe = dir.join("model-harness");
    let lib_rs = src.join("lib.rs");
    let library = std::fs::read_to_string(&lib_rs).map_err(io(&lib_rs))?;

    let combined = format!(
        "{library}\n// Appended by the grader: the model harness.\n\
         extern crate self as {crate_name};\n#[macro_use]\nextern crate grader_conc;\n{}",
        harness_main(&scenarios)
    );
    std::fs::write(&lib_rs, combined).map_err(io(&lib_rs))?;
    let mut args = base_args(&crate_name, "bin");
    args.push(lib_rs.clone().into());
    args.extend(link_args(pre));
    args.extend(remap(&src, ""));
    args.extend(remap(&scen_dir, "scenario/"));
    // The appended code makes the library's public items unused in a
    // binary: no warnings, but `unsafe` stays forbidden (a forbid cannot be
    // lowered by a later allow).
    args.extend([
        "-A".into(),
        "warnings".into(),
        "-F".into(),
        "unsafe-code".into(),
    ]);
    // The grader's own functions in this crate: `main` and the scenario
    // modules appended above (a library defining either name does not
    // build this way, and is built apart, where nothing is skipped).
    let main_fn = format!("{crate_name}::main");
    let scenario_mods: Vec<String> = (0..scenarios.len())
        .map(|i| format!("{crate_name}::grader_scenario_{i}::"))
        .collect();
    let skip = |f: &str| f == main_fn || scenario_mods.iter().any(|m| f.starts_with(m.as_str()));
    let check = Checked {
        crates: &[&crate_name],
        skip: &skip,
        allowed: vec![src.clone(), scen_dir.clone()],
    };
    let reads = [pre.deps.as_path(), pre.facade.as_path()];
    if let Ok(found) = compile_checked(ctx, &dir, &reads, args, &exe, &check)? {
        return Ok(match found.is_empty() {
            true => Harness::Ready { exe },
            false => Harness::Rejected(rejected(&found)),
        });
    }

    // Apart: the library as an rlib, then the harness against it.
    std::fs::write(&lib_rs, &library).map_err(io(&lib_rs))?;
    let rlib = dir.join(format!("lib{crate_name}.rlib"));
    let mut args = base_args(&crate_name, "rlib");
    args.push(lib_rs.into());
    args.extend(link_args(pre));
    args.extend(remap(&src, ""));
    args.extend(["-F".into(), "unsafe-code".into()]);
    let nothing = |_: &str| false;
    let check = Checked {
        crates: &[&crate_name],
        skip: &nothing,
        allowed: vec![src.clone()],
    };
    match compile_checked(ctx, &dir, &reads, args, &rlib, &check)? {
        Err(Failed::Limit(v)) => return Ok(Harness::Rejected(v)),
        Err(Failed::Errors(stderr)) => {
            let (message, rendered) = first_error(&stderr);
            return Ok(Harness::Rejected(Verdict {
                category: Category::Forbidden,
                message: format!(
                    "builds with the standard library but not under the model checker, which \
                     supports threads, Arc, Mutex, RwLock, Condvar, atomics and channels: {message}"
                ),
                details: rendered,
            }));
        }
        Ok(found) if !found.is_empty() => return Ok(Harness::Rejected(rejected(&found))),
        Ok(_) => {}
    }
    let main_rs = dir.join("main.rs");
    let main = format!(
        "// Generated by the grader: runs one scenario under loom.\n#[macro_use]\nextern crate grader_conc;\n{}",
        harness_main(&scenarios)
    );
    std::fs::write(&main_rs, main).map_err(io(&main_rs))?;
    let mut args = base_args("model_harness", "bin");
    args.push(main_rs.clone().into());
    args.extend(link_args(pre));
    let mut ext = OsString::from(format!("{crate_name}="));
    ext.push(&rlib);
    args.extend(["--extern".into(), ext]);
    args.extend(remap(&scen_dir, "scenario/"));
    args.extend(["--cap-lints".into(), "allow".into()]);
    // The library's generic functions are compiled here, where the
    // scenarios instantiate them: they are held to the same rules.
    let check = Checked {
        crates: &[&crate_name],
        skip: &nothing,
        allowed: vec![main_rs, scen_dir.clone()],
    };
    match compile_checked(ctx, &dir, &reads, args, &exe, &check)? {
        Err(Failed::Limit(v)) => Ok(Harness::Rejected(v)),
        Err(Failed::Errors(stderr)) => Ok(Harness::Rejected(api_mismatch(&stderr))),
        Ok(found) if !found.is_empty() => Ok(Harness::Rejected(rejected(&found))),
        Ok(_) => Ok(Harness::Ready { exe }),
    }
}

/// What one harness compile is held to (see [`super::bypass`]).
struct Checked<'a> {
    /// Crates whose functions are the student's.
    crates: &'a [&'a str],
    /// The grader's own functions among them.
    skip: &'a dyn Fn(&str) -> bool,
    /// Where the compile may read source files.
    allowed: Vec<PathBuf>,
}

/// Compiles `args` into `out` with the compiled-code checks: rustc writes
/// its IR and dep-info beside `out`, and the student's functions in it may
/// reach nothing the model cannot see, nor the compile read a file outside
/// `check.allowed`. `Err` when rustc reports errors or reaches a limit;
/// otherwise the
/// rejections, with lines: when something is found, the crate is compiled
/// once more with line tables to say where (the usual build has none, which
/// keeps it fast).
fn compile_checked(
    ctx: &ModelContext,
    dir: &Path,
    reads: &[&Path],
    args: Vec<OsString>,
    out: &Path,
    check: &Checked,
) -> Result<Result<Vec<Rejection>, Failed>, ModelError> {
    let ir_path = out.with_extension("ll");
    let deps = out.with_extension("d");
    let mut first = args.clone();
    first.extend(compiled::emit_args(out, &ir_path, &deps));
    if let Err(failed) = rustc(ctx, dir, reads, first)? {
        return Ok(Err(failed));
    }
    let read = compiled::files_read(&deps, dir).map_err(io(&deps))?;
    let strays = compiled::outside(&read, &check.allowed);
    if !strays.is_empty() {
        return Ok(Ok(strays
            .iter()
            .map(|p| Rejection {
                file: "the library".into(),
                line: 0,
                what: format!("reading `{}`", p.display()),
                why: "the compile read a file outside the submission's `src/` \
                      (`include!`, `include_str!`, `#[path]`...)"
                    .into(),
            })
            .collect()));
    }
    let ir = compiled::read_ir(&ir_path).map_err(io(&ir_path))?;
    let found = bypass::check(&ir, check.crates, check.skip);
    if found.is_empty() {
        return Ok(Ok(found));
    }
    let located_ir = out.with_extension("lines.ll");
    let mut again = args;
    let mut emit = OsString::from("--emit=llvm-ir=");
    emit.push(&located_ir);
    again.extend([
        "-C".into(),
        "debuginfo=line-tables-only".into(),
        emit,
        "-C".into(),
        "symbol-mangling-version=v0".into(),
        "-C".into(),
        "no-prepopulate-passes".into(),
        "-C".into(),
        "collapse-macro-debuginfo=yes".into(),
    ]);
    if rustc(ctx, dir, reads, again)?.is_ok()
        && let Ok(ir) = compiled::read_ir(&located_ir)
    {
        let located = bypass::check(&ir, check.crates, check.skip);
        if !located.is_empty() {
            return Ok(Ok(located));
        }
    }
    Ok(Ok(found))
}

/// The grader's scenarios, rewritten onto the facade like the library (so
/// they are written with plain `std` paths), copied into `dir`: `(name,
/// copy)`.
fn write_scenarios(ctx: &ModelContext, dir: &Path) -> Result<Vec<(String, PathBuf)>, ModelError> {
    let mut out = Vec::new();
    for (name, path) in grader_files(&ctx.spec.dir.join("model"))? {
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
fn harness_main(scenarios: &[(String, PathBuf)]) -> String {
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

/// Builds the unit harness against the library `rlib` (built for `std`)
/// and the prebuilt `grader_seal`, which proves its last step.
pub fn build_unit(ctx: &ModelContext, rlib: &Path, pre: &Prebuilt) -> Result<Harness, ModelError> {
    let dir = ctx.scratch.join("unit");
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let tests = grader_files(&ctx.spec.dir.join("unit"))?;
    let support = dir.join("support.rs");
    std::fs::write(&support, UNIT_SUPPORT).map_err(io(&support))?;
    let mut main = String::from(
        "// Generated by the grader: runs one functional test.\n#[macro_use]\nmod support;\n",
    );
    let test_dir = dir.join("test");
    std::fs::create_dir_all(&test_dir).map_err(io(&test_dir))?;
    for (i, (name, path)) in tests.iter().enumerate() {
        // A copy inside the build folder: the sandboxed rustc reads nothing
        // of the grader's tree.
        let copy = test_dir.join(format!("{name}.rs"));
        std::fs::copy(path, &copy).map_err(io(path))?;
        let _ = writeln!(
            main,
            "#[path = {:?}]\nmod test_{i};",
            copy.display().to_string()
        );
    }
    main.push_str("fn main() {\n    support::main(&[\n");
    for (i, (name, _)) in tests.iter().enumerate() {
        let _ = writeln!(main, "        ({name:?}, test_{i}::test),");
    }
    main.push_str("    ]);\n}\n");
    let main_rs = dir.join("main.rs");
    std::fs::write(&main_rs, main).map_err(io(&main_rs))?;

    let crate_name = ctx.spec.crate_name();
    let exe = dir.join("unit-harness");
    let mut args = base_args("unit_harness", "bin");
    args.push(main_rs.into());
    args.extend(["-o".into(), exe.clone().into()]);
    let mut ext = OsString::from(format!("{crate_name}="));
    ext.push(rlib);
    args.extend(["--extern".into(), ext]);
    if let Some(parent) = rlib.parent() {
        let mut dep = OsString::from("dependency=");
        dep.push(parent);
        args.extend(["-L".into(), dep]);
    }
    let mut seal = OsString::from("grader_seal=");
    seal.push(&pre.seal);
    let mut dep = OsString::from("dependency=");
    dep.push(&pre.deps);
    args.extend(["--extern".into(), seal, "-L".into(), dep]);
    args.extend(remap(&test_dir, "test/"));
    args.extend(["--cap-lints".into(), "allow".into()]);
    let lib_dir = rlib.parent().unwrap_or(&dir);
    match rustc(ctx, &dir, &[lib_dir, &pre.deps, &pre.seal], args)? {
        Err(Failed::Errors(stderr)) => return Ok(Harness::Rejected(api_mismatch(&stderr))),
        Err(Failed::Limit(v)) => return Ok(Harness::Rejected(v)),
        Ok(()) => {}
    }
    Ok(Harness::Ready { exe })
}

fn api_mismatch(stderr: &str) -> Verdict {
    let (message, rendered) = first_error(stderr);
    Verdict {
        category: Category::CompileError,
        message: format!(
            "the library's public API does not match the exercise (the grader's tests do not compile against it): {message}"
        ),
        details: rendered,
    }
}

fn base_args(crate_name: &str, crate_type: &str) -> Vec<OsString> {
    [
        "--edition",
        "2021",
        "--crate-name",
        crate_name,
        "--crate-type",
        crate_type,
        "-C",
        "opt-level=0",
        "-C",
        "debuginfo=0",
        "-C",
        "debug-assertions=on",
        "-C",
        "overflow-checks=on",
        "--error-format=json",
    ]
    .into_iter()
    .map(OsString::from)
    .collect()
}

fn link_args(pre: &Prebuilt) -> Vec<OsString> {
    let mut ext = OsString::from("grader_conc=");
    ext.push(&pre.facade);
    let mut dep = OsString::from("dependency=");
    dep.push(&pre.deps);
    vec!["--extern".into(), ext, "-L".into(), dep]
}

fn remap(dir: &Path, to: &str) -> Vec<OsString> {
    let mut arg = OsString::from("--remap-path-prefix=");
    arg.push(dir);
    arg.push(format!("{}={to}", std::path::MAIN_SEPARATOR));
    vec![arg]
}

/// Why a harness compile did not give a program.
enum Failed {
    /// rustc reported errors (its JSON diagnostics).
    Errors(String),
    /// The compile reached one of its limits (`crate::build_limits`).
    Limit(Verdict),
}

/// Runs rustc as a supervised child under the submission's compile limits.
fn rustc(
    ctx: &ModelContext,
    cwd: &Path,
    reads: &[&Path],
    args: Vec<OsString>,
) -> Result<Result<(), Failed>, ModelError> {
    let limits = crate::build_limits::BuildLimits::from_spec(&ctx.spec.limits);
    // As for the build stage: the toolchain and the prebuilt rlibs are
    // readable, only the folder of this build is writable, and the linker's
    // temporary files go there too.
    let tmp = cwd.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let mut req = run::Request::new(&ctx.toolchain.rustc, cwd, limits.run_limits())
        .env("TMPDIR", &tmp)
        .read(&ctx.toolchain.sysroot);
    if let Some(bin) = ctx.toolchain.rustc.parent() {
        req = req.read(bin);
    }
    for path in reads {
        req = req.read(path);
    }
    req.args = args;
    let outcome = run::run(&req)?;
    let stderr = outcome.stderr_text();
    if let Some((category, message)) = limits.verdict(outcome.termination, &stderr) {
        return Ok(Err(Failed::Limit(Verdict {
            category,
            message,
            details: String::new(),
        })));
    }
    match outcome.termination {
        Termination::Exited(0) => Ok(Ok(())),
        _ => Ok(Err(Failed::Errors(stderr))),
    }
}

/// The first error of rustc's JSON diagnostics (with its primary
/// location), and every error as rustc renders it.
pub fn first_error(stderr: &str) -> (String, String) {
    #[derive(serde::Deserialize)]
    struct Span {
        file_name: String,
        line_start: usize,
        is_primary: bool,
    }
    #[derive(serde::Deserialize)]
    struct Diagnostic {
        level: String,
        message: String,
        #[serde(default)]
        spans: Vec<Span>,
        rendered: Option<String>,
    }
    let mut first = None;
    let mut rendered = String::new();
    for line in stderr.lines() {
        let Ok(d) = serde_json::from_str::<Diagnostic>(line) else {
            continue;
        };
        if d.level != "error" || d.message.starts_with("aborting due to") {
            continue;
        }
        if let Some(r) = &d.rendered {
            rendered.push_str(r);
        }
        if first.is_none() {
            let at = d
                .spans
                .iter()
                .find(|s| s.is_primary)
                .map(|s| format!(" at {}:{}", s.file_name, s.line_start))
                .unwrap_or_default();
            first = Some(format!("{}{at}", d.message));
        }
    }
    (
        first.unwrap_or_else(|| "rustc reported an error".into()),
        rendered,
    )
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

    #[test]
    fn the_first_error_keeps_its_location() {
        let stderr = r#"{"level":"warning","message":"unused","spans":[],"rendered":"w"}
{"level":"error","message":"cannot find type `OnceLock` in module `sync`","spans":[{"file_name":"lib.rs","line_start":4,"is_primary":true}],"rendered":"error: cannot find\n"}
{"level":"error","message":"aborting due to 1 previous error","spans":[],"rendered":"x"}"#;
        let (message, rendered) = first_error(stderr);
        assert_eq!(
            message,
            "cannot find type `OnceLock` in module `sync` at lib.rs:4"
        );
        assert_eq!(rendered, "error: cannot find\n");
    }
}
