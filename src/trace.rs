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

use std::collections::HashMap;
use std::path::{Path, PathBuf};

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

/// One parsed log line, before it is applied to the model.
struct Record<'a> {
    ev: &'a str,
    pid: u32,
    seq: u64,
    ns: u64,
    thread: Option<usize>,
    fields: HashMap<&'a str, &'a str>,
}

impl<'a> Record<'a> {
    fn parse(line: &'a str) -> Option<Record<'a>> {
        let mut fields = HashMap::new();
        for field in line.split(' ') {
            let (key, value) = field.split_once('=')?;
            fields.entry(key).or_insert(value);
        }
        let thread = fields.get("t")?.parse::<i64>().ok()?;
        Some(Record {
            ev: fields.get("ev")?,
            pid: fields.get("pid")?.parse().ok()?,
            seq: fields.get("seq")?.parse().ok()?,
            ns: fields.get("ns")?.parse().ok()?,
            thread: usize::try_from(thread).ok(),
            fields,
        })
    }

    fn get<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.fields.get(key)?.parse().ok()
    }

    fn hex(&self, key: &str) -> Option<u64> {
        parse_hex(self.fields.get(key)?)
    }

    /// A thread index field; -1 (unknown thread) and garbage give `None`.
    fn index(&self, key: &str) -> Option<usize> {
        usize::try_from(self.get::<i64>(key)?).ok()
    }
}

fn parse_hex(text: &str) -> Option<u64> {
    u64::from_str_radix(text.strip_prefix("0x")?, 16).ok()
}

/// Undoes the shim's percent-encoding.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn decode_path(text: &str) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        PathBuf::from(std::ffi::OsString::from_vec(percent_decode(text)))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(&percent_decode(text)).into_owned())
    }
}

impl Trace {
    /// Parses a log. The traced process is the first one that logged `init`
    /// (or, without any `init`, the first that logged anything); events of
    /// other processes are left out.
    pub fn parse(log: &[u8]) -> Trace {
        let mut trace = Trace::default();
        let mut records = Vec::new();
        let mut lines = log.split(|&b| b == b'\n').peekable();
        while let Some(line) = lines.next() {
            if lines.peek().is_none() {
                // Text after the last newline is a line cut off mid-write.
                trace.ignored_lines += usize::from(!line.is_empty());
                break;
            }
            match std::str::from_utf8(line).ok().and_then(Record::parse) {
                Some(record) => records.push(record),
                None => trace.ignored_lines += 1,
            }
        }

        let pid = records
            .iter()
            .find(|r| r.ev == "init")
            .or(records.first())
            .map(|r| r.pid);
        let total = records.len();
        let mut mine = Vec::new();
        let mut inits_of_pid = 0;
        for record in records {
            let init = record.ev == "init";
            if Some(record.pid) == pid {
                inits_of_pid += usize::from(init);
                // A second init of the same pid is a program it exec'd; its
                // events restart the counter and are not the traced run's.
                if inits_of_pid <= 1 {
                    mine.push(record);
                    continue;
                }
            }
            match init.then(|| init_of(&record)).flatten() {
                Some(init) => trace.other_processes.push(init),
                None => trace.ignored_lines += 1,
            }
        }
        mine.sort_by_key(|r| r.seq);
        let origin = mine
            .iter()
            .find(|r| r.ev == "init")
            .map_or_else(|| mine.iter().map(|r| r.ns).min().unwrap_or(0), |r| r.ns);

        // A real log has a line per thread it names, so an index beyond the
        // number of lines is garbage and must not size the thread table.
        let limit = total + 1;
        let mut model = Model { trace, limit };
        model.thread(0);
        for record in &mine {
            let at = Stamp {
                seq: record.seq,
                ns: record.ns.saturating_sub(origin),
            };
            if !model.apply(record, at) {
                model.trace.ignored_lines += 1;
            }
        }
        model.trace
    }

    /// Whether the traced process is `exe`. A statically linked program
    /// ignores `LD_PRELOAD`; if it then starts a dynamic one, that child's
    /// `init` must not be taken for the program's.
    pub fn loaded_into(&self, exe: &Path) -> bool {
        let Some(init) = &self.init else {
            return false;
        };
        init.exe == exe
            || matches!(
                (init.exe.canonicalize(), exe.canonicalize()),
                (Ok(a), Ok(b)) if a == b
            )
    }

    /// The spawned threads (every thread but `main`).
    pub fn spawned(&self) -> &[ThreadInfo] {
        self.threads.get(1..).unwrap_or_default()
    }

    /// The threads `creator` spawned, in spawn order.
    pub fn spawned_by(&self, creator: usize) -> Vec<usize> {
        let mut children: Vec<&ThreadInfo> = self
            .spawned()
            .iter()
            .filter(|t| t.created_by == Some(creator))
            .collect();
        children.sort_by_key(|t| t.created.map(|s| s.seq));
        children.iter().map(|t| t.index).collect()
    }

    /// Spawned threads whose body had not ended when the process exited.
    /// `None` when the process did not exit normally (no `exit` event).
    pub fn alive_at_exit(&self) -> Option<Vec<usize>> {
        let exit = self.exit?;
        Some(
            self.spawned()
                .iter()
                .filter(|t| t.running_at(exit.at))
                .map(|t| t.index)
                .collect(),
        )
    }

    /// `main` spawned at least two threads and joined each before spawning
    /// the next: the work ran one thread at a time (also the lazy
    /// `map(spawn).map(join)` iterator mistake).
    pub fn sequential_join_per_spawn(&self) -> bool {
        let children = self.spawned_by(0);
        children.len() >= 2
            && children.windows(2).all(|pair| {
                let (this, next) = (&self.threads[pair[0]], &self.threads[pair[1]]);
                match (this.joined, next.created) {
                    (Some(joined), Some(created)) => joined.seq < created.seq,
                    _ => false,
                }
            })
    }

    /// How many of `creator`'s threads it spawned before its first
    /// successful join of any thread (all of them if it never joined).
    pub fn spawned_before_first_join(&self, creator: usize) -> usize {
        let first_join = self
            .threads
            .iter()
            .filter(|t| t.joined_by == Some(creator))
            .filter_map(|t| t.joined)
            .map(|s| s.seq)
            .min();
        self.spawned_by(creator)
            .iter()
            .filter(|&&i| {
                let created = self.threads[i].created.map(|s| s.seq);
                first_join.is_none_or(|join| created.is_some_and(|c| c < join))
            })
            .count()
    }

    /// The most spawned threads whose bodies were running at one time
    /// (at normal timing: threads that run side by side may still happen
    /// not to overlap).
    pub fn max_concurrent(&self) -> usize {
        let mut edges: Vec<(u64, i32)> = Vec::new();
        for thread in self.spawned() {
            if let Some(born) = thread.born() {
                edges.push((born.seq, 1));
                edges.push((thread.finished.map_or(u64::MAX, |s| s.seq), -1));
            }
        }
        edges.sort_unstable();
        let (mut now, mut most) = (0i32, 0i32);
        for (_, delta) in edges {
            now += delta;
            most = most.max(now);
        }
        most as usize
    }

    /// For each line of `captured` (what the grader read from `fd`, 1 or 2),
    /// the threads that wrote it. Lines are split at `\n`; a last line
    /// without one counts too.
    pub fn line_writers(&self, fd: u8, captured: &[u8]) -> Vec<LineOrigin> {
        let mut writes: Vec<&WriteEvent> = self.writes.iter().filter(|w| w.fd == fd).collect();
        writes.sort_by_key(|w| w.offset);
        let mut origins = Vec::new();
        let mut next = 0; // first write that may overlap the current line
        let mut start = 0usize;
        while start < captured.len() {
            let end = captured[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(captured.len(), |i| start + i + 1);
            let (s, e) = (start as u64, end as u64);
            while next < writes.len() && writes[next].offset + writes[next].len <= s {
                next += 1;
            }
            let mut writers = Vec::new();
            let mut covered = s;
            let mut complete = true;
            for write in writes[next..].iter().take_while(|w| w.offset < e) {
                if write.offset > covered {
                    complete = false;
                }
                covered = covered.max(write.offset + write.len);
                match write.thread {
                    Some(t) if !writers.contains(&t) => writers.push(t),
                    Some(_) => {}
                    None => complete = false,
                }
            }
            let text = captured[start..end]
                .strip_suffix(b"\n")
                .unwrap_or(&captured[start..end]);
            origins.push(LineOrigin {
                text: String::from_utf8_lossy(text).into_owned(),
                writers,
                complete: complete && covered >= e,
            });
            start = end;
        }
        origins
    }
}

fn init_of(record: &Record) -> Option<InitInfo> {
    Some(InitInfo {
        pid: record.pid,
        ppid: record.get("ppid")?,
        exe: decode_path(record.fields.get("exe")?),
        base: record.hex("base")?,
        refused: record
            .fields
            .get("bad")
            .map(|bad| bad.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
        virtual_time: record.fields.get("vt") == Some(&"1"),
        start: record.fields.get("start").map(|s| (*s).to_owned()),
    })
}

/// The trace under construction.
struct Model {
    trace: Trace,
    limit: usize,
}

impl Model {
    fn thread(&mut self, index: usize) -> Option<&mut ThreadInfo> {
        if index > self.limit {
            return None;
        }
        let threads = &mut self.trace.threads;
        while threads.len() <= index {
            let index = threads.len();
            threads.push(ThreadInfo {
                index,
                ..ThreadInfo::default()
            });
        }
        Some(&mut threads[index])
    }

    /// Applies one event; `false` when it is malformed.
    fn apply(&mut self, r: &Record, at: Stamp) -> bool {
        let thread = r.thread;
        match r.ev {
            "init" => match init_of(r) {
                Some(init) if self.trace.init.is_none() => self.trace.init = Some(init),
                _ => return false,
            },
            "spawn" => {
                let (Some(child), Some(rc)) = (r.index("child"), r.get::<i64>("rc")) else {
                    return false;
                };
                if rc != 0 {
                    self.trace.failed_spawns += 1;
                    return true;
                }
                let Some(info) = self.thread(child) else {
                    return false;
                };
                info.created_by = thread;
                info.created = Some(at);
            }
            "start" => {
                let Some(info) = thread.and_then(|t| self.thread(t)) else {
                    return false;
                };
                info.started = Some(at);
                info.start_delay_ns = r.get("delay_ns").unwrap_or(0);
                info.released_by = r.fields.get("why").map(|w| (*w).to_owned());
            }
            "end" => {
                let end = match r.fields.get("how").copied() {
                    Some("return") => EndKind::Return,
                    Some("exit") => EndKind::Exit,
                    Some("cancel") => EndKind::Cancel,
                    _ => return false,
                };
                let cpu = r.get("cpu_ns");
                let Some(info) = thread.and_then(|t| self.thread(t)) else {
                    return false;
                };
                info.finished = Some(at);
                info.end = Some(end);
                info.cpu_ns = cpu;
            }
            "join" | "detach" => {
                let (Some(target), Some(rc)) = (r.get::<i64>("target"), r.get::<i64>("rc")) else {
                    return false;
                };
                // A failed call, or one on a thread the shim did not create,
                // says nothing about the threads of the model.
                let Ok(target) = usize::try_from(target) else {
                    return true;
                };
                if rc != 0 {
                    return true;
                }
                let Some(info) = self.thread(target) else {
                    return false;
                };
                if r.ev == "join" {
                    info.joined_by = thread;
                    info.joined = Some(at);
                } else {
                    info.detached = true;
                }
            }
            "sleep" | "wait" => {
                let (Some(requested_ns), Some(effective_ns)) = (r.get("req_ns"), r.get("eff_ns"))
                else {
                    return false;
                };
                let return_addresses = r
                    .fields
                    .get("ra")
                    .map(|list| list.split(',').filter_map(parse_hex).collect())
                    .unwrap_or_default();
                let event = SleepEvent {
                    thread,
                    function: r.fields.get("fn").copied().unwrap_or("?").to_owned(),
                    absolute: r.fields.get("abs") == Some(&"1"),
                    requested_ns,
                    effective_ns,
                    at,
                    return_addresses,
                };
                if r.ev == "sleep" {
                    self.trace.sleeps.push(event);
                } else {
                    self.trace.timed_waits.push(event);
                }
            }
            "yield" | "clock" | "sleeps" | "waits" => {
                let Some(count) = r.get("n") else {
                    return false;
                };
                let kind = match r.ev {
                    "yield" => RepeatKind::Yield,
                    "clock" => RepeatKind::Clock,
                    "sleeps" => RepeatKind::Sleeps,
                    _ => RepeatKind::Waits,
                };
                self.trace.repeats.push(Repeat {
                    thread,
                    kind,
                    count,
                    requested_ns: r.get("req_ns").unwrap_or(0),
                    at,
                });
            }
            "trunc" => self.trace.truncated = true,
            "write" => {
                let (Some(fd), Some(len), Some(offset)) = (r.get("fd"), r.get("n"), r.get("off"))
                else {
                    return false;
                };
                self.trace.writes.push(WriteEvent {
                    thread,
                    fd,
                    len,
                    offset,
                    at,
                });
            }
            "exit" => {
                let (Some(pending), Some(cpu_ns)) = (r.get("pending"), r.get("cpu_ns")) else {
                    return false;
                };
                self.trace.exit = Some(ExitInfo {
                    thread,
                    at,
                    pending,
                    held: r.get("held").unwrap_or(0),
                    cpu_ns,
                    process_cpu_ns: r.get("pcpu_ns").unwrap_or(0),
                });
                if thread == Some(0) && self.trace.threads[0].cpu_ns.is_none() {
                    self.trace.threads[0].cpu_ns = Some(cpu_ns);
                }
            }
            _ => return false,
        }
        true
    }
}

#[cfg(test)]
mod tests;
