//! The limits of a compile of student code, and what it means when one is
//! reached (issue 10).
//!
//! A compile is an attack surface of its own: rustc evaluates constants
//! (a loop under `#![allow(long_running_const_eval)]` runs for ever), lays
//! out whatever a constant asks for (a 16 GiB array), expands macros (an
//! exponential `macro_rules!`), and writes whatever a static holds into the
//! program (700 MB). Each compile of a submission (the build stage, the
//! model and unit harnesses built from it) therefore runs under limits of
//! its own: wall and CPU time and memory from the exercise's spec
//! (`compile_ms`, `compile_memory_mb`), and fixed caps on what it may print
//! and write. Reaching one is the submission's `resource-limit`, with a
//! message that names the limit; never a grader fault.

use crate::checks::Category;
use crate::run::{self, Termination};
use std::time::Duration;

/// Most a compile may print (its diagnostics).
pub const OUTPUT_BYTES: usize = 8 << 20;

/// Largest file a compile may write (an object file, the program, its IR).
/// The largest solution of the course writes under 10 MiB.
pub const FILE_BYTES: u64 = 256 << 20;

/// The limits of each compile of one submission.
#[derive(Debug, Clone, Copy)]
pub struct BuildLimits {
    pub time: Duration,
    pub memory_mb: u64,
}

impl BuildLimits {
    pub fn from_spec(l: &crate::spec::Limits) -> BuildLimits {
        BuildLimits {
            time: Duration::from_millis(l.compile_ms),
            memory_mb: l.compile_memory_mb,
        }
    }

    /// As limits of a supervised run. The address-space cap (used where no
    /// cgroup limits memory) stays well above the memory limit: rustc and
    /// the linker reserve far more address space than they touch.
    pub fn run_limits(&self) -> run::Limits {
        run::Limits {
            wall: self.time,
            cpu: self.time,
            output_bytes: OUTPUT_BYTES,
            file_bytes: FILE_BYTES,
            address_space_bytes: (self.memory_mb << 20).max(4 << 30),
            memory_bytes: self.memory_mb << 20,
            tasks: 1100,
        }
    }

    /// What a compile that ended this way means, when it reached one of its
    /// limits (or the compiler broke on the submission): category and
    /// message. `None` for an ordinary exit.
    pub fn verdict(&self, t: Termination, stderr: &str) -> Option<(Category, String)> {
        let secs = self.time.as_secs_f64();
        let mb = self.memory_mb;
        let out_of_memory = stderr.contains("memory allocation of") && stderr.contains("failed");
        Some(match t {
            Termination::Exited(0) | Termination::Exited(1) => return None,
            Termination::WallTimeout { .. }
            | Termination::Signaled(libc::SIGXCPU)
            | Termination::Signaled(libc::SIGKILL) => (
                Category::ResourceLimit,
                format!(
                    "the compiler ran past its time limit of {secs:.0} s on this submission \
                     (a constant computed in an endless loop, or macros that expand without end?)"
                ),
            ),
            Termination::MemoryLimit => (Category::ResourceLimit, memory(mb)),
            Termination::Signaled(libc::SIGABRT) if out_of_memory => {
                (Category::ResourceLimit, memory(mb))
            }
            Termination::Signaled(libc::SIGXFSZ) => (
                Category::ResourceLimit,
                format!(
                    "the compiler's output went past the {} MiB a build may write \
                     (a huge static or constant?)",
                    FILE_BYTES >> 20
                ),
            ),
            Termination::OutputLimit => (
                Category::ResourceLimit,
                format!(
                    "the compiler printed more than the {} MiB of diagnostics a build may print",
                    OUTPUT_BYTES >> 20
                ),
            ),
            Termination::TaskLimit => (
                Category::ResourceLimit,
                "the compiler started more threads or processes than a build may".into(),
            ),
            Termination::Exited(code) => (
                Category::CompileError,
                format!(
                    "the compiler stopped with status {code} on this submission (an internal \
                     compiler error): it does not build"
                ),
            ),
            Termination::Signaled(sig) => (
                Category::CompileError,
                format!(
                    "the compiler was killed by signal {sig} on this submission: it does not build"
                ),
            ),
        })
    }
}

fn memory(mb: u64) -> String {
    format!(
        "the compiler ran out of its {mb} MiB of memory on this submission (a huge constant \
         or array, or macros that expand exponentially?)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_is_named() {
        let l = BuildLimits {
            time: Duration::from_secs(30),
            memory_mb: 2048,
        };
        let v = |t, e: &str| l.verdict(t, e).unwrap();
        assert!(l.verdict(Termination::Exited(1), "").is_none());
        let (c, m) = v(Termination::WallTimeout { blocked: false }, "");
        assert_eq!(c, Category::ResourceLimit);
        assert!(m.contains("time limit of 30 s"), "{m}");
        assert!(
            v(Termination::MemoryLimit, "")
                .1
                .contains("2048 MiB of memory")
        );
        let (c, m) = v(
            Termination::Signaled(libc::SIGABRT),
            "memory allocation of 17179869184 bytes failed\n",
        );
        assert_eq!(c, Category::ResourceLimit);
        assert!(m.contains("memory"));
        assert!(
            v(Termination::Signaled(libc::SIGXFSZ), "")
                .1
                .contains("256 MiB a build may write")
        );
        assert!(
            v(Termination::OutputLimit, "")
                .1
                .contains("8 MiB of diagnostics")
        );
        assert_eq!(v(Termination::Exited(101), "").0, Category::CompileError);
        assert_eq!(
            v(Termination::Signaled(libc::SIGSEGV), "").0,
            Category::CompileError
        );
    }
}
