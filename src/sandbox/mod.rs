//! The run sandbox: which isolation mechanisms a run gets, which of them the
//! machine gives, and the report of what was really applied.
//!
//! Student code is hostile until proven otherwise (SPEC §9), and so is a
//! build (research/sandbox.md: `include_str!` of a secret, a daemon left by a
//! build step). Every child the grader starts, `rustc` included, goes through
//! [`crate::run::run`], which uses this module. The mechanisms come in three
//! layers, each used where the machine allows it and reported either way:
//!
//! - **Layer 0, always**: cleared environment, stdin closed, own process
//!   group, wall/CPU/output/file-size limits, and a launcher process
//!   ([`launcher`]) that is a child subreaper: a `setsid` + double-fork daemon
//!   survives a process-group kill and, holding stdout, stalls the reader
//!   forever (measured), so the launcher kills every descendant when the
//!   program ends.
//! - **Layer 1, unprivileged**: user + network + PID (+ IPC) namespaces, with
//!   `RLIMIT_NPROC` set after the user namespace exists so that it counts
//!   this run only (a legitimate 1,000-thread program passes, a bomb stops at
//!   ~1,100: measured); Landlock (read-only system and toolchain, read-write
//!   scratch, no TCP, signals scoped so the program cannot kill the grader);
//!   seccomp (no sockets but `AF_UNIX`, no ptrace, mount, namespaces, bpf,
//!   keyrings, io_uring).
//! - **Layer 2, root or delegated cgroups**: a cgroup per run (memory, pids,
//!   OOM as a fact) and a uid of its own per run.
//!
//! The module does not decide verdicts: it reports grader-side facts (an OOM
//! kill, the task limit reached) for [`crate::run`] to turn into a
//! termination.

use serde::{Deserialize, Serialize};
use std::fmt;

#[cfg(target_os = "linux")]
pub mod cgroup;
pub mod doctor;
#[cfg(target_os = "linux")]
mod exec;
#[cfg(target_os = "linux")]
mod landlock;
#[cfg(target_os = "linux")]
pub mod launcher;
#[cfg(target_os = "linux")]
mod namespaces;
#[cfg(target_os = "linux")]
pub mod procfs;
pub mod protocol;
pub mod rlimit;
#[cfg(target_os = "linux")]
mod seccomp;
#[cfg(target_os = "linux")]
pub mod uid;

/// The hidden first argument that turns the grader binary into the launcher.
pub const LAUNCHER_ARG: &str = "__sandbox";

/// One isolation mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mechanism {
    /// The re-executed launcher: child subreaper, sweep of every descendant,
    /// parent-death signal.
    Launcher,
    /// Resource limits (CPU, file size, address space, open files, tasks).
    Rlimits,
    UserNamespace,
    NetworkNamespace,
    PidNamespace,
    Landlock,
    Seccomp,
    Cgroup,
    /// A uid of its own for the run (root only).
    Uid,
}

impl Mechanism {
    pub const ALL: [Mechanism; 9] = [
        Mechanism::Launcher,
        Mechanism::Rlimits,
        Mechanism::UserNamespace,
        Mechanism::NetworkNamespace,
        Mechanism::PidNamespace,
        Mechanism::Landlock,
        Mechanism::Seccomp,
        Mechanism::Cgroup,
        Mechanism::Uid,
    ];

    /// The layer the mechanism belongs to.
    pub fn layer(self) -> u8 {
        match self {
            Mechanism::Launcher | Mechanism::Rlimits => 0,
            Mechanism::UserNamespace
            | Mechanism::NetworkNamespace
            | Mechanism::PidNamespace
            | Mechanism::Landlock
            | Mechanism::Seccomp => 1,
            Mechanism::Cgroup | Mechanism::Uid => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mechanism::Launcher => "launcher",
            Mechanism::Rlimits => "rlimits",
            Mechanism::UserNamespace => "user-namespace",
            Mechanism::NetworkNamespace => "network-namespace",
            Mechanism::PidNamespace => "pid-namespace",
            Mechanism::Landlock => "landlock",
            Mechanism::Seccomp => "seccomp",
            Mechanism::Cgroup => "cgroup",
            Mechanism::Uid => "uid",
        }
    }

    pub fn parse(s: &str) -> Option<Mechanism> {
        Mechanism::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// What the mechanism protects against, for `grader doctor`.
    pub fn purpose(self) -> &'static str {
        match self {
            Mechanism::Launcher => "subreaper sweep: no daemon outlives a run",
            Mechanism::Rlimits => "CPU, file size, address space, open files, tasks",
            Mechanism::UserNamespace => "per-run task count, unprivileged namespaces",
            Mechanism::NetworkNamespace => "no network",
            Mechanism::PidNamespace => "cannot see or signal other processes",
            Mechanism::Landlock => "files outside the scratch folder, TCP, signals",
            Mechanism::Seccomp => "sockets, ptrace, mount, namespaces, bpf, io_uring",
            Mechanism::Cgroup => "memory and task limits as kernel facts, OOM",
            Mechanism::Uid => "a uid of its own: no access to the grader's files",
        }
    }
}

impl fmt::Display for Mechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether one mechanism was applied to a run, and the detail or the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub mechanism: Mechanism,
    pub applied: bool,
    /// What was applied ("ABI 7, fully enforced") or why not ("EPERM: ...").
    pub detail: String,
}

/// What a run really got. Every mechanism appears once; one that was never
/// attempted (not asked for, or not built for this platform) says so.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub mechanisms: Vec<Applied>,
}

impl Report {
    pub fn set(&mut self, mechanism: Mechanism, applied: bool, detail: impl Into<String>) {
        let detail = detail.into();
        match self
            .mechanisms
            .iter_mut()
            .find(|a| a.mechanism == mechanism)
        {
            Some(a) => {
                a.applied = applied;
                a.detail = detail;
            }
            None => self.mechanisms.push(Applied {
                mechanism,
                applied,
                detail,
            }),
        }
    }

    pub fn get(&self, mechanism: Mechanism) -> Option<&Applied> {
        self.mechanisms.iter().find(|a| a.mechanism == mechanism)
    }

    pub fn applied(&self, mechanism: Mechanism) -> bool {
        self.get(mechanism).is_some_and(|a| a.applied)
    }

    /// True when every mechanism of `layer` was applied.
    pub fn layer_holds(&self, layer: u8) -> bool {
        Mechanism::ALL
            .into_iter()
            .filter(|m| m.layer() == layer)
            .all(|m| self.applied(m))
    }

    /// Merges another report's entries in (later facts win).
    pub fn merge(&mut self, other: Report) {
        for a in other.mechanisms {
            self.set(a.mechanism, a.applied, a.detail);
        }
    }

    /// Fills in every mechanism not mentioned yet as not applied, with `why`.
    pub fn complete(&mut self, why: &str) {
        for m in Mechanism::ALL {
            if self.get(m).is_none() {
                self.set(m, false, why);
            }
        }
        self.mechanisms.sort_by_key(|a| a.mechanism);
    }
}

/// What the program's threads were doing when the grader stopped it at its
/// time limit, from the kernel's view of each thread (read by
/// `procfs::activity`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// On a CPU or ready to run: computing.
    pub running: usize,
    /// In `nanosleep`/`clock_nanosleep`: sleeping.
    pub sleeping: usize,
    /// Asleep in any other call: waiting for something (a join, a lock, a
    /// channel, a timed wait).
    pub waiting: usize,
}

/// Which mechanisms a run may use. All of them by default; the others are
/// for measuring what the sandbox costs and for proving that each mechanism
/// holds on its own (`grader __run --without ...`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Mechanisms not to use even where the machine gives them. The three
    /// namespaces come and go together: leaving out `user-namespace` leaves
    /// out the network and PID namespaces too. Leaving out `launcher` leaves
    /// out every mechanism but `rlimits`, which the launcher carries.
    pub without: Vec<Mechanism>,
}

impl Selection {
    /// Every mechanism the machine gives.
    pub fn all() -> Selection {
        Selection::default()
    }

    /// Only what the grader does in its own process: group, limits, cleared
    /// environment. For measuring the sandbox's cost; never for student code.
    pub fn bare() -> Selection {
        Selection {
            without: Mechanism::ALL
                .into_iter()
                .filter(|m| *m != Mechanism::Rlimits)
                .collect(),
        }
    }

    pub fn wants(&self, mechanism: Mechanism) -> bool {
        !self.without.contains(&mechanism)
    }
}

/// System folders a program may read and execute from: the dynamic loader,
/// shared libraries, the C toolchain the linker needs. `/etc` is not among
/// them (it holds secrets such as `/etc/shadow`); only the loader's cache is.
///
/// Nor is `/proc` as a whole: only the machine-wide files below. A run may
/// not open `/proc/self/*` or `/proc/<pid>/*` (nor `/dev/fd`, `/dev/stdin`,
/// links into them): its own memory, descriptors, environment and command
/// line are out of reach through the file system (issue 10: a harness's key
/// is read from stdin and kept in memory; a perturbed run must look like a
/// normal one). What the runtimes read there and do without, measured with
/// strace: Rust's `std` and glibc read `/proc/self/maps` for the main
/// thread's stack bounds (without it, a stack overflow is a plain SIGSEGV
/// rather than std's message; the verdict is `crash` either way);
/// `available_parallelism` reads `/proc/self/cgroup` and falls back to the
/// CPU affinity; rustc reads `/proc/self/statm` for its own statistics and
/// runs its compiler on a thread whose stack glibc knows without the maps.
/// Landlock limits `open`, not `readlink`: `/proc/self/exe` still resolves.
pub const SYSTEM_READ: &[&str] = &[
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/libx32",
    "/bin",
    "/sbin",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/filesystems",
    "/proc/sys/vm/overcommit_memory",
    "/proc/sys/kernel/osrelease",
    "/sys/devices/system/cpu",
    "/sys/kernel/mm/transparent_hugepage",
    "/sys/fs/cgroup",
    "/dev/urandom",
    "/dev/random",
    "/dev/zero",
];

/// Device files a program may also write to.
pub const SYSTEM_WRITE: &[&str] = &["/dev/null", "/dev/full"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_hold_only_when_every_mechanism_was_applied() {
        let mut r = Report::default();
        r.set(Mechanism::Launcher, true, "");
        r.set(Mechanism::Rlimits, true, "");
        r.complete("not attempted");
        assert!(r.layer_holds(0));
        assert!(!r.layer_holds(1));
        r.set(Mechanism::Seccomp, true, "");
        assert!(!r.layer_holds(1));
    }

    #[test]
    fn mechanism_names_round_trip() {
        for m in Mechanism::ALL {
            assert_eq!(Mechanism::parse(m.as_str()), Some(m));
        }
    }

    #[test]
    fn bare_keeps_only_rlimits() {
        let s = Selection::bare();
        assert!(s.wants(Mechanism::Rlimits));
        assert!(!s.wants(Mechanism::Launcher));
        assert!(!s.wants(Mechanism::Landlock));
    }
}
