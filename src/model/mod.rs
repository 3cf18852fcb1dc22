//! The model-check stage (SPEC §1, §5, §7): a submission's library is run
//! under loom, every interleaving of a grader-owned scenario explored, and a
//! lost update, a broken invariant or a deadlock reported as the
//! interleaving that caused it. Also the functional tests of the library's
//! API on one thread.
//!
//! Students write plain `std::sync` / `std::thread` code. [`rewrite`] points
//! their library's paths at `grader_conc`, a facade over loom owned by the
//! grader ([`workspace`] builds it once per cache); [`harness`] compiles the
//! library and the scenarios with rustc directly; each scenario then runs in
//! its own process (a failure with live threads aborts the whole binary,
//! research/loom.md) under the run stage's limits, and [`explain`] turns
//! what it reported into words. A pass needs exit 0 *and* the harness's
//! "done, N iterations" line: a run cut short is never a pass (loom's own
//! time and permutation limits stop silently with success, so the harness
//! never sets them; a wall timeout is reported as `timeout`).
//!
//! Grader faults (loom does not build, a scenario file is missing) are
//! [`ModelError`]s; everything the submission causes is a verdict.
//!
//! This file only names the parts: [`context`] holds what the checks of
//! one submission share, [`launch`] runs a scenario or a test, [`observe`]
//! the calls of a `lib-threads` check.

pub mod bypass;
pub mod context;
pub mod error;
pub mod explain;
pub mod harness;
pub mod launch;
pub mod observe;
mod registry;
pub mod rewrite;
pub mod workspace;

pub use context::ModelContext;
pub use error::ModelError;
pub use launch::{DEFAULT_MODEL_TIMEOUT, DEFAULT_UNIT_TIMEOUT, RunResult, run_scenario, run_unit};
pub use workspace::prepare_shown;
