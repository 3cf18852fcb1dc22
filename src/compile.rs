//! Build stage: the student's sources → an executable, with `rustc` called
//! directly.
//!
//! Measured on a machine like ours (research/speed.md): rustc on a 40-line
//! program takes ~145 ms; cargo adds ~40 ms and, with its dev defaults
//! (incremental, full debuginfo), doubles the compile. So the grader calls the
//! toolchain's own `rustc` binary (not the rustup proxy, ~5 ms a call) with
//! flags of its own: edition 2021, no optimisation, line tables only (enough
//! to map a sleep back to its line), debug assertions and overflow checks on,
//! `unsafe` code forbidden. A library exercise is two calls: the library as
//! an rlib, then `main.rs` linked against it under the library's crate name.
//!
//! rustc runs as a child like any student program (cleared environment, own
//! process group, limits): a build is an attack surface too.

use crate::checks::{Category, SourceRef};
use crate::run::{self, Termination};
use crate::submission::Sources;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("cannot find the Rust toolchain: {0}")]
    Toolchain(String),
    #[error("could not run rustc: {0}")]
    Run(#[from] run::RunError),
    #[error("cannot create {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The toolchain the grader builds with.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub rustc: PathBuf,
    pub sysroot: PathBuf,
}

impl Toolchain {
    /// `$RUSTC` when set; otherwise the toolchain that built the grader,
    /// when it is still installed; otherwise `rustc` from `PATH`. Resolved
    /// once to the toolchain's own binary so each call skips the rustup
    /// proxy.
    pub fn detect() -> Result<&'static Toolchain, CompileError> {
        static TC: OnceLock<Result<Toolchain, String>> = OnceLock::new();
        TC.get_or_init(|| {
            let built_with = PathBuf::from(env!("GRADER_BUILD_SYSROOT"));
            if std::env::var_os("RUSTC").is_none()
                && !built_with.as_os_str().is_empty()
                && built_with.join("bin").join("rustc").is_file()
            {
                return Ok(Toolchain {
                    rustc: built_with.join("bin").join("rustc"),
                    sysroot: built_with,
                });
            }
            let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
            let out = std::process::Command::new(&rustc)
                .args(["--print", "sysroot"])
                .output()
                .map_err(|e| format!("`{} --print sysroot`: {e}", rustc.to_string_lossy()))?;
            if !out.status.success() {
                return Err(format!(
                    "`{} --print sysroot` failed: {}",
                    rustc.to_string_lossy(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            let direct = sysroot.join("bin").join("rustc");
            let rustc = if direct.is_file() {
                direct
            } else {
                PathBuf::from(rustc)
            };
            Ok(Toolchain { rustc, sysroot })
        })
        .as_ref()
        .map_err(|e| CompileError::Toolchain(e.clone()))
    }
}

/// What the build produced.
#[derive(Debug, Clone)]
pub enum Build {
    Built {
        /// The program, when the submission has a `main.rs`.
        exe: Option<PathBuf>,
        /// The library rlib, when it has a `lib.rs`.
        lib: Option<PathBuf>,
        /// Wall time of the rustc calls.
        time: Duration,
    },
    /// The student's code did not build: `compile-error`, or `forbidden`
    /// when the only errors were uses of `unsafe`.
    Failed {
        category: Category,
        message: String,
        /// The compiler's own report, as rustc prints it.
        details: String,
        /// Where the errors are (primary spans), first error first.
        locations: Vec<SourceRef>,
    },
}

/// Settings of one build.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    pub crate_name: &'a str,
    pub package_name: &'a str,
    /// Extra `--cfg` flags (the model checker builds with `--cfg loom`).
    pub extra_args: Vec<OsString>,
    /// Each rustc call's limits.
    pub limits: crate::build_limits::BuildLimits,
}

/// Compiles the sources in `sources.dir` into `sources.dir/out/`.
pub fn build(tc: &Toolchain, sources: &Sources, opts: &Options) -> Result<Build, CompileError> {
    let out = sources.dir.join("out");
    std::fs::create_dir_all(&out).map_err(|source| CompileError::Io {
        path: out.clone(),
        source,
    })?;
    let started = std::time::Instant::now();
    let mut lib = None;
    if sources.has_lib {
        let rlib = out.join(format!("lib{}.rlib", opts.crate_name));
        let mut args = common_args(opts.crate_name);
        args.extend(["--crate-type".into(), "rlib".into(), "src/lib.rs".into()]);
        args.extend(opts.extra_args.iter().cloned());
        if let Some(failed) = rustc_checked(
            tc,
            &sources.dir,
            args,
            &rlib,
            &[opts.crate_name],
            &opts.limits,
        )? {
            return Ok(failed);
        }
        lib = Some(rlib);
    }
    let mut exe = None;
    if sources.has_main {
        let bin_name = opts.package_name.replace('-', "_");
        let path = out.join(opts.package_name);
        let mut args = common_args(&bin_name);
        args.extend(["--crate-type".into(), "bin".into(), "src/main.rs".into()]);
        if let Some(rlib) = &lib {
            let mut ext = OsString::from(format!("{}=", opts.crate_name));
            ext.push(rlib);
            args.extend(["--extern".into(), ext]);
            let mut dep = OsString::from("dependency=");
            dep.push(&out);
            args.extend(["-L".into(), dep]);
        }
        args.extend(opts.extra_args.iter().cloned());
        // The library's generic functions are compiled here, where `main`
        // instantiates them: they are held to the same rules.
        let crates = [bin_name.as_str(), opts.crate_name];
        if let Some(failed) = rustc_checked(tc, &sources.dir, args, &path, &crates, &opts.limits)? {
            return Ok(failed);
        }
        exe = Some(path);
    }
    Ok(Build::Built {
        exe,
        lib,
        time: started.elapsed(),
    })
}

fn common_args(crate_name: &str) -> Vec<OsString> {
    [
        "--edition",
        "2021",
        "--crate-name",
        crate_name,
        "-C",
        "opt-level=0",
        "-C",
        "debuginfo=line-tables-only",
        "-C",
        "debug-assertions=on",
        "-C",
        "overflow-checks=on",
        "-F",
        "unsafe-code",
        "--error-format=json",
    ]
    .into_iter()
    .map(OsString::from)
    .collect()
}

/// One rustc call into `out`, with the checks of what it really compiled
/// ([`crate::compiled`]): rustc writes its LLVM IR and dep-info beside
/// `out`; a function of `crates` that reaches a forbidden construct
/// (however the source spelled it), or a compile that read a file outside
/// the submission's `src/`, is `forbidden`. `Some(failure)` when the
/// submission did not build or is forbidden.
fn rustc_checked(
    tc: &Toolchain,
    dir: &Path,
    mut args: Vec<OsString>,
    out: &Path,
    crates: &[&str],
    limits: &crate::build_limits::BuildLimits,
) -> Result<Option<Build>, CompileError> {
    let ir_path = out.with_extension("ll");
    let deps = out.with_extension("d");
    args.extend(crate::compiled::emit_args(out, &ir_path, &deps));
    let failed = rustc(tc, dir, args, limits)?;
    // Read even when the build failed: an error message can quote what an
    // `include!` read.
    if let Some(stray) = stray_read(dir, &deps, failed.as_ref()) {
        return Ok(Some(stray));
    }
    if failed.is_some() {
        return Ok(failed);
    }
    let ir = crate::compiled::read_ir(&ir_path).map_err(|source| CompileError::Io {
        path: ir_path.clone(),
        source,
    })?;
    let findings = crate::scan::compiled_findings(&ir, crates);
    let Some(first) = findings.first() else {
        return Ok(None);
    };
    let details: String = findings.iter().map(|f| format!("  {f}\n")).collect();
    Ok(Some(Build::Failed {
        category: Category::Forbidden,
        message: format!(
            "{} is not allowed in this course ({})",
            first.what,
            first.at()
        ),
        details,
        locations: findings
            .iter()
            .filter(|f| f.line > 0)
            .map(|f| SourceRef {
                file: f.file.clone(),
                line: f.line,
                label: f.what.clone(),
            })
            .collect(),
    }))
}

/// A file outside `src/` that the compile read (its dep-info, written once
/// macros are expanded; an error located in it) or tried to read (rustc's
/// "couldn't read" error, where the sandbox refused it): `forbidden`, whatever spelling got there
/// (`include_str!` of a `concat!`, a macro argument, `#[cfg_attr(.., path =
/// ..)]`). rustc's own report is left out: it may quote the file.
fn stray_read(dir: &Path, deps: &Path, failed: Option<&Build>) -> Option<Build> {
    let mut read = crate::compiled::files_read(deps, dir).unwrap_or_default();
    if let Some(Build::Failed {
        details, locations, ..
    }) = failed
    {
        // An error inside a file the compile should never have read.
        read.extend(locations.iter().map(|l| dir.join(&l.file)));
        for line in details.lines() {
            if let Some(rest) = line.split("couldn't read `").nth(1)
                && let Some(end) = rest.find('`')
            {
                read.push(dir.join(&rest[..end]));
            }
        }
    }
    let strays = crate::compiled::outside(&read, &[dir.join("src")]);
    let first = strays.first()?;
    Some(Build::Failed {
        category: Category::Forbidden,
        message: format!(
            "reading a file outside the submission (`{}`, through `include!`, `include_str!`, \
             `include_bytes!` or a module `path`) is not allowed in this course",
            first.display()
        ),
        details: strays
            .iter()
            .map(|p| format!("  {}\n", p.display()))
            .collect(),
        locations: Vec::new(),
    })
}

/// Runs one rustc call; `Some(failure)` when the student's code did not
/// build, or the compile reached one of its limits.
fn rustc(
    tc: &Toolchain,
    dir: &Path,
    args: Vec<OsString>,
    limits: &crate::build_limits::BuildLimits,
) -> Result<Option<Build>, CompileError> {
    // The sandbox lets rustc read the toolchain and write the scratch crate
    // only: `include_str!` of a file outside it fails to build. The linker's
    // temporary files go to the scratch crate too, not to /tmp.
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|source| CompileError::Io {
        path: tmp.clone(),
        source,
    })?;
    let mut req = run::Request::new(&tc.rustc, dir, limits.run_limits())
        .env("TMPDIR", &tmp)
        .read(&tc.sysroot);
    if let Some(bin) = tc.rustc.parent() {
        req = req.read(bin);
    }
    req.args = args;
    let outcome = run::run(&req)?;
    let stderr = outcome.stderr_text();
    if let Some((category, message)) = limits.verdict(outcome.termination, &stderr) {
        return Ok(Some(Build::Failed {
            category,
            message,
            details: String::new(),
            locations: Vec::new(),
        }));
    }
    match outcome.termination {
        Termination::Exited(0) => Ok(None),
        _ => Ok(Some(diagnose(&stderr))),
    }
}

/// One compiler message, from `--error-format=json`.
#[derive(serde::Deserialize)]
struct Diagnostic {
    level: String,
    message: String,
    code: Option<Code>,
    #[serde(default)]
    spans: Vec<Span>,
    rendered: Option<String>,
}

#[derive(serde::Deserialize)]
struct Code {
    code: String,
}

#[derive(serde::Deserialize)]
struct Span {
    file_name: String,
    line_start: usize,
    is_primary: bool,
}

/// Turns rustc's JSON diagnostics into a failed build.
fn diagnose(stderr: &str) -> Build {
    let mut errors = Vec::new();
    let mut rendered = String::new();
    for line in stderr.lines() {
        let Ok(d) = serde_json::from_str::<Diagnostic>(line) else {
            continue;
        };
        if d.level != "error" {
            continue;
        }
        if let Some(r) = &d.rendered {
            rendered.push_str(r);
        }
        if d.message.starts_with("aborting due to") {
            continue;
        }
        errors.push(d);
    }
    let unsafe_uses: Vec<&Diagnostic> = errors
        .iter()
        .filter(|d| d.code.as_ref().is_some_and(|c| c.code == "unsafe_code"))
        .collect();
    let spans = |ds: &[&Diagnostic]| -> Vec<SourceRef> {
        ds.iter()
            .filter_map(|d| {
                let s = d.spans.iter().find(|s| s.is_primary)?;
                Some(SourceRef {
                    file: s.file_name.clone(),
                    line: s.line_start,
                    label: d.message.clone(),
                })
            })
            .collect()
    };
    let located = |d: &Diagnostic| {
        d.spans
            .iter()
            .find(|s| s.is_primary)
            .map(|s| format!(" at {}:{}", s.file_name, s.line_start))
            .unwrap_or_default()
    };
    if let Some(first) = unsafe_uses.first() {
        return Build::Failed {
            category: Category::Forbidden,
            message: format!(
                "`unsafe` code is not allowed in this course: {}{}",
                first.message,
                located(first)
            ),
            details: rendered,
            locations: spans(&unsafe_uses),
        };
    }
    let message = match errors.first() {
        Some(first) => {
            let more = match errors.len() {
                1 => String::new(),
                n => format!(
                    " (and {} more error{})",
                    n - 1,
                    if n == 2 { "" } else { "s" }
                ),
            };
            format!(
                "does not compile: {}{}{more}",
                first.message,
                located(first)
            )
        }
        None => "does not compile".to_string(),
    };
    let all: Vec<&Diagnostic> = errors.iter().collect();
    Build::Failed {
        category: Category::CompileError,
        message,
        details: rendered,
        locations: spans(&all),
    }
}
