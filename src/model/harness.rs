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
//!
//! The files a harness is made of are written by `harness/sources.rs`;
//! rustc is called, and its output held to the compiled-code checks, by
//! `harness/compile.rs`.

mod compile;
mod sources;

pub use sources::grader_files;

use super::context::{Harness, ModelContext};
use super::error::{ModelError, io};
use super::explain::Verdict;
use super::observe::scenarios as calls;
use super::workspace::{Prebuilt, prepare};
use crate::checks::Category;
use compile::{
    Checked, Failed, api_mismatch, base_args, compile_checked, first_error, link_args, remap, rustc,
};
use sources::{harness_main, rejected, rewrite_library, write_scenarios};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;

/// The harness half of [`ModelContext`]: which harnesses the spec's checks
/// need, built on first use (the two in parallel) and kept.
impl ModelContext<'_> {
    /// Builds whichever harnesses the spec's checks need, the two in
    /// parallel (two rustc calls on two cores).
    fn harnesses(&self, want_model: bool, want_unit: bool) -> Result<(), ModelError> {
        let need_model = want_model && self.model.get().is_none();
        let need_unit = want_unit && self.unit.get().is_none();
        let (m, u) = std::thread::scope(|s| {
            let unit = need_unit.then(|| s.spawn(|| self.build_unit()));
            let model = need_model.then(|| self.build_model());
            let unit = unit.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            (model, unit)
        });
        if let Some(m) = m {
            let _ = self.model.set(m?);
        }
        if let Some(u) = u {
            let _ = self.unit.set(u?);
        }
        Ok(())
    }

    /// Builds the model harness alone: it needs the submission's sources,
    /// not the build stage's library, so it can be built beside that.
    pub(crate) fn build_model_harness(&self) -> Result<Harness, ModelError> {
        self.build_model()
    }

    /// Builds the unit harness alone (against the library this context
    /// was made with).
    pub(crate) fn build_unit_harness(&self) -> Result<Harness, ModelError> {
        self.build_unit()
    }

    /// Takes harnesses built beforehand ([`Self::build_model_harness`],
    /// [`Self::build_unit_harness`]).
    pub(crate) fn adopt_harnesses(&self, model: Option<Harness>, unit: Option<Harness>) {
        if let Some(h) = model {
            let _ = self.model.set(h);
        }
        if let Some(h) = unit {
            let _ = self.unit.set(h);
        }
    }

    fn build_model(&self) -> Result<Harness, ModelError> {
        let pre = prepare(self.cache, self.toolchain)?;
        build_model(self, &pre)
    }

    fn build_unit(&self) -> Result<Harness, ModelError> {
        match self.std_rlib {
            Some(rlib) => {
                let pre = prepare(self.cache, self.toolchain)?;
                build_unit(self, rlib, &pre)
            }
            None => Ok(Harness::Rejected(Verdict {
                category: crate::checks::Category::CompileError,
                message: "the library was not built, so its functions cannot be tested".into(),
                details: String::new(),
            })),
        }
    }

    fn wants(&self) -> (bool, bool) {
        use crate::spec::CheckSpec;
        let model = self
            .spec
            .checks
            .iter()
            .any(|c| matches!(c, CheckSpec::Model { .. }))
            || calls::wanted(self.spec);
        let unit = self
            .spec
            .checks
            .iter()
            .any(|c| matches!(c, CheckSpec::Unit { .. }));
        (model, unit)
    }

    pub(crate) fn model_harness(&self) -> Result<&Harness, ModelError> {
        if self.model.get().is_none() {
            let (_, unit) = self.wants();
            self.harnesses(true, unit)?;
        }
        Ok(self.model.get().expect("built above"))
    }

    pub(crate) fn unit_harness(&self) -> Result<&Harness, ModelError> {
        if self.unit.get().is_none() {
            let (model, _) = self.wants();
            self.harnesses(model, true)?;
        }
        Ok(self.unit.get().expect("built above"))
    }
}

const UNIT_SUPPORT: &str = include_str!("unit_support.rs");

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
    let mut scenarios = write_scenarios(ctx, &scen_dir)?;
    scenarios.extend(calls::write_calls(ctx.spec, &scen_dir)?);
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
