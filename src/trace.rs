//! The thread trace: what the timing shim (`src/shim/perturb.c`) logged
//! about one run, parsed into a model the checks can question.
//!
//! The shim writes one `key=value` line per event (the format is documented
//! at the top of `perturb.c`): the process loaded the shim (`init`), a
//! thread was spawned, started, ended, joined or detached, a thread slept
//! (with the requested and effective duration and the return addresses
//! that lead back to the sleep's source line), a thread wrote bytes to
//! stdout or stderr, and the process exited with so many threads still
//! running. From that, [`Trace`] answers what the checks of
//! `sleep-reliance`, `early-exit` and `not-concurrent` ask:
//!
//! - which threads were still running when the process exited
//!   ([`Trace::alive_at_exit`]);
//! - whether each thread was joined before the next one was spawned
//!   ([`Trace::sequential_join_per_spawn`]) and how many threads ever ran at
//!   once ([`Trace::max_concurrent`]);
//! - which thread wrote each line of the captured output
//!   ([`Trace::line_writers`]);
//! - each thread's CPU time ([`ThreadInfo::cpu_ns`]).
//!
//! - how each thread waited by time: sleeps, timed waits (`recv_timeout`,
//!   `park_timeout`, `wait_timeout`), `yield_now` calls and clock reads
//!   ([`Trace::sleeps`], [`Trace::timed_waits`], [`Trace::repeats`]).
//!
//! Whether a program passes depends on its output; the trace says why it
//! failed, and so which category the failure has (`crate::checks::facts`).
//! The program cannot write into it: the shim's log is a descriptor the
//! program has no safe way to reach ([`crate::perturb::channel`]). Lines
//! that do not parse are still counted and ignored, never trusted; so is a
//! last line cut off without its newline.
//!
//! This file holds what a trace says; `trace/parse.rs` reads the log into
//! it, and `trace/queries.rs` answers the checks' questions.

use std::path::PathBuf;

/// When an event happened: its place in the process's event order and its
/// time in nanoseconds since the shim loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Stamp {
    /// The shim's event counter: events of one process are totally ordered.
    pub seq: u64,
    /// Monotonic time since the `init` event (or the first event seen).
    pub ns: u64,
}

/// The shim's announcement that it was loaded into a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitInfo {
    pub pid: u32,
    pub ppid: u32,
    /// The executable the shim was loaded into.
    pub exe: PathBuf,
    /// Load bias of the executable: subtract it from a logged return address
    /// to get an address of the executable's debug info.
    pub base: u64,
    /// Configuration keys the shim refused (and so did not apply).
    pub refused: Vec<String>,
    /// Sleeps and timeouts were skipped (a perturbed run).
    pub virtual_time: bool,
    /// When threads started: `late`, `reverse`, `first`; `None` as usual.
    pub start: Option<String>,
}

/// How a thread's body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndKind {
    /// The start routine returned (every Rust thread, panicking or not).
    Return,
    /// `pthread_exit`.
    Exit,
    /// Cancelled.
    Cancel,
}

/// One thread of the traced process. Index 0 is `main`; 1, 2, .. are
/// threads in the order `pthread_create` was called.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThreadInfo {
    pub index: usize,
    /// The thread that spawned it (`None` for `main`, or if not logged).
    pub created_by: Option<usize>,
    /// When its `pthread_create` returned.
    pub created: Option<Stamp>,
    /// When its body began (after any start delay of the profile).
    pub started: Option<Stamp>,
    /// How long the profile held the thread before its body, in ns.
    pub start_delay_ns: u64,
    /// What let a held thread go: `quiescent` (every other thread waited),
    /// `cpu` (the program spun), `idle`.
    pub released_by: Option<String>,
    /// When its body ended.
    pub finished: Option<Stamp>,
    pub end: Option<EndKind>,
    /// The thread whose `pthread_join` of it returned successfully.
    pub joined_by: Option<usize>,
    pub joined: Option<Stamp>,
    /// Detached (in Rust: its `JoinHandle` was dropped).
    pub detached: bool,
    /// CPU time the thread used, known once it ended (for `main`, at exit).
    pub cpu_ns: Option<u64>,
}

impl ThreadInfo {
    /// The first sign of the thread: its spawn, or its start if that was
    /// logged first (a new thread can run before `pthread_create` returns).
    pub fn born(&self) -> Option<Stamp> {
        match (self.created, self.started) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the thread existed and its body had not ended at `at`.
    pub fn running_at(&self, at: Stamp) -> bool {
        self.born().is_some_and(|born| born.seq < at.seq)
            && self.finished.is_none_or(|end| end.seq > at.seq)
    }
}

/// A call to one of the sleep functions, or a wait with a timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SleepEvent {
    /// The sleeping thread (`None`: a thread the shim did not create).
    pub thread: Option<usize>,
    /// `clock_nanosleep`, `nanosleep`, `usleep` or `sleep`; for a timed
    /// wait, `futex` (std's) or `cond` (a POSIX condition variable).
    pub function: String,
    /// The caller gave an absolute deadline (converted to a duration).
    pub absolute: bool,
    pub requested_ns: u64,
    /// What the shim actually slept (the request, unless perturbed; for a
    /// wait, the most it could last).
    pub effective_ns: u64,
    /// When the sleep began.
    pub at: Stamp,
    /// The sleep function's caller first, then its callers (absolute;
    /// subtract [`InitInfo::base`] for the executable's debug info).
    pub return_addresses: Vec<u64>,
}

/// Calls the shim counts rather than logs one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepeatKind {
    /// `sched_yield` (`thread::yield_now`).
    Yield,
    /// Clock reads (`Instant::now`, `SystemTime::now`).
    Clock,
    /// Sleeps beyond the first ones of the thread.
    Sleeps,
    /// Timed waits beyond the first ones of the thread.
    Waits,
}

/// `count` calls of one kind by one thread since its previous event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeat {
    pub thread: Option<usize>,
    pub kind: RepeatKind,
    pub count: u64,
    /// Sleeps and waits: the time they asked for, in all.
    pub requested_ns: u64,
    /// When the count was logged: before the thread's next event.
    pub at: Stamp,
}

/// Bytes a thread wrote to stdout (fd 1) or stderr (fd 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteEvent {
    pub thread: Option<usize>,
    pub fd: u8,
    /// Bytes written by this call.
    pub len: u64,
    /// Bytes written to the same fd by the process before this call.
    pub offset: u64,
    pub at: Stamp,
}

/// The process exited through `exit` (or by returning from `main`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitInfo {
    /// The exiting thread (0 when `main` returned).
    pub thread: Option<usize>,
    pub at: Stamp,
    /// Threads whose body had not ended, by the shim's own count.
    pub pending: u64,
    /// Of those, threads the profile still held (never started).
    pub held: u64,
    /// CPU time of the exiting thread.
    pub cpu_ns: u64,
    /// CPU time of the whole process.
    pub process_cpu_ns: u64,
}

/// One line of a captured output stream and the threads that wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineOrigin {
    /// The line without its newline (lossy UTF-8).
    pub text: String,
    /// Threads that wrote bytes of the line (its newline included), in the
    /// order of the bytes, each once.
    pub writers: Vec<usize>,
    /// Every byte of the line is accounted for by a logged write of a known
    /// thread.
    pub complete: bool,
}

impl LineOrigin {
    /// The one thread that wrote the whole line, if there is one.
    pub fn writer(&self) -> Option<usize> {
        match self.writers.as_slice() {
            [only] if self.complete => Some(*only),
            _ => None,
        }
    }
}

/// The trace of one traced process.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    /// `None`: the shim never loaded (a statically linked binary ignores
    /// `LD_PRELOAD`) or its log could not be opened.
    pub init: Option<InitInfo>,
    /// Indexed by thread index: `threads[0]` is `main`.
    pub threads: Vec<ThreadInfo>,
    pub sleeps: Vec<SleepEvent>,
    /// Waits with a timeout (logged one by one, the first of each thread).
    pub timed_waits: Vec<SleepEvent>,
    /// Counted calls: yields, clock reads, further sleeps and waits.
    pub repeats: Vec<Repeat>,
    /// In stream order per fd.
    pub writes: Vec<WriteEvent>,
    /// `None`: the process did not exit normally (killed, crashed, `_exit`,
    /// `exec`), or the shim never loaded.
    pub exit: Option<ExitInfo>,
    /// `pthread_create` calls that failed (resource limits).
    pub failed_spawns: usize,
    /// Other processes that loaded the shim and logged to the same file
    /// (children that inherited `LD_PRELOAD`).
    pub other_processes: Vec<InitInfo>,
    /// Lines that were not shim events, or not of this process's events.
    pub ignored_lines: usize,
    /// The shim stopped logging at its size limit: later events are missing.
    pub truncated: bool,
}

mod parse;
mod queries;
#[cfg(test)]
mod tests;
