//! Run stage: one child process under the grader's control, inside the
//! sandbox (see [`crate::sandbox`] for the layers and why each exists).
//!
//! Every run gets its own process group (killed whole), stdin closed, a
//! cleared environment, limits on wall time, CPU, output, file size, memory
//! and tasks, and on Linux the launcher ([`crate::sandbox::launcher`]), which
//! adds the namespaces, Landlock, seccomp, cgroup and uid the machine gives
//! and kills every descendant when the program ends. stdout and stderr are
//! read concurrently in one `poll` loop with a byte cap: a pipe nobody reads
//! blocks its writer at 64 KiB (research/sandbox.md), and a flood must end
//! as a verdict, not as the grader running out of memory.
//!
//! Everything this module reports is a grader-side fact (exit status,
//! signal, bytes captured, clock and CPU time, the cgroup's counters, the
//! task count at the deadline); it never interprets what the program
//! printed.
//!
//! The files: [`request`] (what to run, with which limits), [`outcome`]
//! (what came of it), [`direct`] and [`launched`] (the two ways to start
//! it), [`supervise`] (the loop that watches it), [`collect`] (the side
//! channel read meanwhile) and [`sys`] (the system calls, each wrapped once).

mod collect;
mod direct;
#[cfg(target_os = "linux")]
mod launched;
pub mod outcome;
mod request;
mod supervise;
mod sys;
#[cfg(test)]
mod tests;

pub use outcome::{Activity, Outcome, RunError, Termination};
pub use request::{Limits, Request};

#[cfg(target_os = "linux")]
use crate::sandbox::Mechanism;
#[cfg(target_os = "linux")]
use std::path::PathBuf;

/// Runs the request to completion and reports what happened.
pub fn run(req: &Request) -> Result<Outcome, RunError> {
    #[cfg(target_os = "linux")]
    if req.selection.wants(Mechanism::Launcher)
        && let Some(exe) = launcher_exe()
    {
        return launched::run(req, &exe);
    }
    direct::run(req)
}

/// The grader binary, re-executed as the launcher. `/proc/self/exe` names
/// this very binary even if its file was replaced since it started. Unit
/// tests run in the test harness, which is not the grader: they use the
/// grader binary cargo built beside it when there is one.
#[cfg(target_os = "linux")]
fn launcher_exe() -> Option<PathBuf> {
    if cfg!(test) {
        let exe = std::env::current_exe().ok()?;
        let grader = exe.parent()?.parent()?.join("grader");
        return grader.is_file().then_some(grader);
    }
    Some(PathBuf::from("/proc/self/exe"))
}
