//! Calling rustc for a harness: the arguments every harness compile
//! shares, the compile itself as a supervised child under the submission's
//! compile limits, the compiled-code checks a harness is held to
//! ([`crate::model::bypass`], [`crate::compiled`]), and the first error
//! rustc reported, for the verdict.

use crate::checks::Category;
use crate::compiled;
use crate::model::bypass;
use crate::model::context::ModelContext;
use crate::model::error::{ModelError, io};
use crate::model::explain::Verdict;
use crate::model::rewrite::Rejection;
use crate::model::workspace::Prebuilt;
use crate::run::{self, Termination};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// What one harness compile is held to (see [`bypass`]).
pub(super) struct Checked<'a> {
    /// Crates whose functions are the student's.
    pub(super) crates: &'a [&'a str],
    /// The grader's own functions among them.
    pub(super) skip: &'a dyn Fn(&str) -> bool,
    /// Where the compile may read source files.
    pub(super) allowed: Vec<PathBuf>,
}

/// Compiles `args` into `out` with the compiled-code checks: rustc writes
/// its IR and dep-info beside `out`, and the student's functions in it may
/// reach nothing the model cannot see, nor the compile read a file outside
/// `check.allowed`. `Err` when rustc reports errors or reaches a limit;
/// otherwise the
/// rejections, with lines: when something is found, the crate is compiled
/// once more with line tables to say where (the usual build has none, which
/// keeps it fast).
pub(super) fn compile_checked(
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

pub(super) fn api_mismatch(stderr: &str) -> Verdict {
    let (message, rendered) = first_error(stderr);
    Verdict {
        category: Category::CompileError,
        message: format!(
            "the library's public API does not match the exercise (the grader's tests do not compile against it): {message}"
        ),
        details: rendered,
    }
}

pub(super) fn base_args(crate_name: &str, crate_type: &str) -> Vec<OsString> {
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

pub(super) fn link_args(pre: &Prebuilt) -> Vec<OsString> {
    let mut ext = OsString::from("grader_conc=");
    ext.push(&pre.facade);
    let mut dep = OsString::from("dependency=");
    dep.push(&pre.deps);
    vec!["--extern".into(), ext, "-L".into(), dep]
}

pub(super) fn remap(dir: &Path, to: &str) -> Vec<OsString> {
    let mut arg = OsString::from("--remap-path-prefix=");
    arg.push(dir);
    arg.push(format!("{}={to}", std::path::MAIN_SEPARATOR));
    vec![arg]
}

/// Why a harness compile did not give a program.
pub(super) enum Failed {
    /// rustc reported errors (its JSON diagnostics).
    Errors(String),
    /// The compile reached one of its limits (`crate::build_limits`).
    Limit(Verdict),
}

/// Runs rustc as a supervised child under the submission's compile limits.
pub(super) fn rustc(
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
