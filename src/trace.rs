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
//! - which sleeps of `main` were taken while spawned threads ran that were
//!   never joined afterwards ([`Trace::sleeps_while_running`]): the lesson's
//!   "sleep instead of join" in the student's own words;
//! - whether each thread was joined before the next one was spawned
//!   ([`Trace::sequential_join_per_spawn`]) and how many threads ever ran at
//!   once ([`Trace::max_concurrent`]);
//! - which thread wrote each line of the captured output
//!   ([`Trace::line_writers`]);
//! - each thread's CPU time ([`ThreadInfo::cpu_ns`]).
//!
//! The trace is evidence for explanations, not the verdict: whether a
//! program passes depends on its output (a thread that signalled `main` and
//! is only winding down at exit still shows as running, and a scoped thread
//! is waited for without a `pthread_join`). The log is a file the student's
//! program could also write to, so lines that do not parse are counted and
//! ignored, never trusted; so is a last line cut off without its newline.

use std::collections::HashMap;
use std::io;
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
    /// Perturbation variables the shim refused (and so did not apply).
    pub refused: Vec<String>,
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
    /// The start delay the profile imposed, in ns.
    pub start_delay_ns: u64,
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

/// A call to one of the sleep functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SleepEvent {
    /// The sleeping thread (`None`: a thread the shim did not create).
    pub thread: Option<usize>,
    /// `clock_nanosleep`, `nanosleep`, `usleep` or `sleep`.
    pub function: String,
    /// The caller gave an absolute deadline (converted to a duration).
    pub absolute: bool,
    pub requested_ns: u64,
    /// What the shim actually slept (the request, unless perturbed).
    pub effective_ns: u64,
    /// When the sleep began.
    pub at: Stamp,
    /// The sleep function's caller first, then its callers (absolute;
    /// subtract [`InitInfo::base`] for the executable's debug info).
    pub return_addresses: Vec<u64>,
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
    /// CPU time of the exiting thread.
    pub cpu_ns: u64,
    /// CPU time of the whole process.
    pub process_cpu_ns: u64,
}

/// A sleep of `main` taken while spawned threads ran that nobody joined
/// afterwards: waiting for threads by sleeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SleepWhileRunning {
    pub sleep: SleepEvent,
    /// Spawned threads running when the sleep began.
    pub running: Vec<usize>,
    /// Those of them that were never joined.
    pub never_joined: Vec<usize>,
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
    /// Reads and parses a trace file. A missing file is an empty trace (the
    /// shim creates the file only when it loads).
    pub fn read(path: &Path) -> io::Result<Trace> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(Trace::parse(&bytes)),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(Trace::default()),
            Err(error) => Err(error),
        }
    }

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

    /// Sleeps of `main` taken while spawned threads were running, at least
    /// one of which was never joined: the program waited for its threads
    /// by sleeping. A sleep followed by a join of every thread it overlapped
    /// is not reported (harmless, if pointless).
    ///
    /// Ask the trace of a run with a start delay: at normal timing the
    /// thread is often done before `main` even starts its sleep (measured
    /// beside CPU hogs), while a delayed thread is still pending during it.
    pub fn sleeps_while_running(&self) -> Vec<SleepWhileRunning> {
        self.sleeps
            .iter()
            .filter(|sleep| sleep.thread == Some(0))
            .filter_map(|sleep| {
                let running: Vec<usize> = self
                    .spawned()
                    .iter()
                    .filter(|t| t.running_at(sleep.at))
                    .map(|t| t.index)
                    .collect();
                let never_joined: Vec<usize> = running
                    .iter()
                    .copied()
                    .filter(|&i| self.threads[i].joined.is_none())
                    .collect();
                (!never_joined.is_empty()).then(|| SleepWhileRunning {
                    sleep: sleep.clone(),
                    running,
                    never_joined,
                })
            })
            .collect()
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

    /// The most spawned threads whose bodies were running at one time. With
    /// a start delay on every thread (profile `x0-delay20`), correct
    /// concurrent code reaches its thread count, while one-at-a-time code
    /// stays at 1 whatever it does to wait.
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
            "sleep" => {
                let (Some(requested_ns), Some(effective_ns)) = (r.get("req_ns"), r.get("eff_ns"))
                else {
                    return false;
                };
                let return_addresses = r
                    .fields
                    .get("ra")
                    .map(|list| list.split(',').filter_map(parse_hex).collect())
                    .unwrap_or_default();
                self.trace.sleeps.push(SleepEvent {
                    thread,
                    function: r.fields.get("fn").copied().unwrap_or("?").to_owned(),
                    absolute: r.fields.get("abs") == Some(&"1"),
                    requested_ns,
                    effective_ns,
                    at,
                    return_addresses,
                });
            }
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
mod tests {
    use super::*;

    /// The lesson's sleep example (spawn, print, sleep 1 s, no join), as the
    /// shim logged it at normal timing.
    const SLEEP_EXAMPLE: &str = "\
ev=init pid=4459 seq=0 ns=453673855876 t=0 v=1 ppid=4458 base=0x558c0a6e1000 exe=/tmp/shim/progs/a
ev=spawn pid=4459 seq=1 ns=453674168402 t=0 child=1 rc=0
ev=detach pid=4459 seq=2 ns=453674174093 t=0 target=1 rc=0
ev=write pid=4459 seq=3 ns=453674195553 t=0 fd=1 n=16 off=0
ev=sleep pid=4459 seq=4 ns=453674198028 t=0 fn=clock_nanosleep abs=0 req_ns=1000000000 eff_ns=1000000000 ra=0x558c0a723de7,0x558c0a6f8aa6,0x558c0a6faaf3
ev=start pid=4459 seq=5 ns=453674239245 t=1 delay_ns=0
ev=write pid=4459 seq=6 ns=453674299147 t=1 fd=1 n=18 off=16
ev=end pid=4459 seq=7 ns=453674311230 t=1 how=return cpu_ns=162936
ev=write pid=4459 seq=8 ns=454674446396 t=0 fd=1 n=23 off=34
ev=exit pid=4459 seq=9 ns=454674501479 t=0 pending=0 cpu_ns=1922634 pcpu_ns=2119805
";

    /// The same under sleeps ×0 and a 20 ms late start: the thread's line is
    /// lost.
    const SLEEP_EXAMPLE_PERTURBED: &str = "\
ev=init pid=4464 seq=0 ns=454680780272 t=0 v=1 ppid=4463 base=0x55f454843000 exe=/tmp/shim/progs/a scale=0 desc=10:2
ev=spawn pid=4464 seq=1 ns=454681063133 t=0 child=1 rc=0
ev=detach pid=4464 seq=2 ns=454681067772 t=0 target=1 rc=0
ev=write pid=4464 seq=3 ns=454681074965 t=0 fd=1 n=16 off=0
ev=sleep pid=4464 seq=4 ns=454681076668 t=0 fn=clock_nanosleep abs=0 req_ns=1000000000 eff_ns=0 ra=0x55f454885de7,0x55f45485aaa6
ev=write pid=4464 seq=5 ns=454681171697 t=0 fd=1 n=23 off=16
ev=exit pid=4464 seq=6 ns=454681183268 t=0 pending=1 cpu_ns=1385207 pcpu_ns=1429550
";

    /// Five threads, each joined before the next is spawned.
    fn join_per_spawn() -> String {
        let mut log =
            String::from("ev=init pid=7 seq=0 ns=1000 t=0 v=1 ppid=1 base=0x0 exe=/x/c\n");
        let mut seq = 1;
        let mut line = |text: String| {
            log.push_str(&format!("{}\n", text.replace("SEQ", &seq.to_string())));
            seq += 1;
        };
        for i in 1..=5 {
            line(format!("ev=spawn pid=7 seq=SEQ ns=2000 t=0 child={i} rc=0"));
            line(format!("ev=start pid=7 seq=SEQ ns=2100 t={i} delay_ns=0"));
            line(format!(
                "ev=write pid=7 seq=SEQ ns=2200 t={i} fd=1 n=20 off={}",
                (i - 1) * 20
            ));
            line(format!(
                "ev=end pid=7 seq=SEQ ns=2300 t={i} how=return cpu_ns=100"
            ));
            line(format!("ev=join pid=7 seq=SEQ ns=2400 t=0 target={i} rc=0"));
        }
        line("ev=write pid=7 seq=SEQ ns=3000 t=0 fd=1 n=21 off=100".into());
        line("ev=exit pid=7 seq=SEQ ns=3100 t=0 pending=0 cpu_ns=5 pcpu_ns=9".into());
        log
    }

    #[test]
    fn parses_the_sleep_example() {
        let trace = Trace::parse(SLEEP_EXAMPLE.as_bytes());
        assert_eq!(trace.ignored_lines, 0);
        let init = trace.init.as_ref().unwrap();
        assert_eq!(init.pid, 4459);
        assert_eq!(init.exe, Path::new("/tmp/shim/progs/a"));
        assert_eq!(init.base, 0x558c0a6e1000);
        assert_eq!(trace.threads.len(), 2);
        let t1 = &trace.threads[1];
        assert_eq!(t1.created_by, Some(0));
        assert!(t1.detached);
        assert_eq!(t1.end, Some(EndKind::Return));
        assert_eq!(t1.cpu_ns, Some(162936));
        assert_eq!(trace.threads[0].cpu_ns, Some(1922634));
        assert_eq!(trace.sleeps.len(), 1);
        let sleep = &trace.sleeps[0];
        assert_eq!(sleep.requested_ns, 1_000_000_000);
        assert_eq!(sleep.return_addresses[1], 0x558c0a6f8aa6);
        assert_eq!(sleep.at.ns, 453674198028 - 453673855876);
        assert_eq!(trace.alive_at_exit(), Some(vec![]));
    }

    #[test]
    fn sleep_instead_of_join_is_seen() {
        let trace = Trace::parse(SLEEP_EXAMPLE.as_bytes());
        let found = trace.sleeps_while_running();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].running, [1]);
        assert_eq!(found[0].never_joined, [1]);
        assert_eq!(found[0].sleep.requested_ns, 1_000_000_000);

        let perturbed = Trace::parse(SLEEP_EXAMPLE_PERTURBED.as_bytes());
        assert_eq!(perturbed.alive_at_exit(), Some(vec![1]));
        assert_eq!(perturbed.exit.unwrap().pending, 1);
        assert_eq!(perturbed.sleeps_while_running()[0].never_joined, [1]);
        assert_eq!(perturbed.sleeps[0].effective_ns, 0);
    }

    #[test]
    fn attributes_output_lines_to_threads() {
        let trace = Trace::parse(SLEEP_EXAMPLE.as_bytes());
        let out = b"Hello from main\nHello from thread\nMain function finished\n";
        let lines = trace.line_writers(1, out);
        let got: Vec<_> = lines
            .iter()
            .map(|l| (l.text.as_str(), l.writer()))
            .collect();
        assert_eq!(
            got,
            [
                ("Hello from main", Some(0)),
                ("Hello from thread", Some(1)),
                ("Main function finished", Some(0)),
            ]
        );
        // Output the log does not account for has no writer.
        let lines = trace.line_writers(
            1,
            b"Hello from main\nHello from thread\nMain function finished\nextra\n",
        );
        assert_eq!(lines[3].writer(), None);
        assert!(!lines[3].complete);
        assert!(trace.line_writers(2, b"").is_empty());
    }

    #[test]
    fn a_line_written_by_two_threads_has_no_single_writer() {
        let log = "\
ev=init pid=1 seq=0 ns=0 t=0 v=1 ppid=0 base=0x0 exe=/p
ev=spawn pid=1 seq=1 ns=0 t=0 child=1 rc=0
ev=write pid=1 seq=2 ns=0 t=0 fd=2 n=4 off=0
ev=write pid=1 seq=3 ns=0 t=1 fd=2 n=6 off=4
ev=write pid=1 seq=4 ns=0 t=0 fd=2 n=1 off=10
";
        let trace = Trace::parse(log.as_bytes());
        let lines = trace.line_writers(2, b"err 1err 2\n\n");
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].writers, [0, 1]);
        assert_eq!(lines[0].writer(), None);
        assert!(lines[0].complete);
        assert_eq!(lines[1].text, "");
        assert!(!lines[1].complete);
    }

    #[test]
    fn sequential_joins_are_seen() {
        let trace = Trace::parse(join_per_spawn().as_bytes());
        assert_eq!(trace.ignored_lines, 0);
        assert_eq!(trace.spawned_by(0), [1, 2, 3, 4, 5]);
        assert!(trace.sequential_join_per_spawn());
        assert_eq!(trace.spawned_before_first_join(0), 1);
        assert_eq!(trace.max_concurrent(), 1);
        assert!(trace.sleeps_while_running().is_empty());
        assert!(trace.spawned().iter().all(|t| t.cpu_ns.is_some()));
    }

    #[test]
    fn spawn_all_then_join_all_is_concurrent() {
        let log = "\
ev=init pid=3 seq=0 ns=0 t=0 v=1 ppid=1 base=0x0 exe=/p
ev=spawn pid=3 seq=1 ns=1 t=0 child=1 rc=0
ev=spawn pid=3 seq=2 ns=2 t=0 child=2 rc=0
ev=start pid=3 seq=3 ns=3 t=2 delay_ns=20000000
ev=start pid=3 seq=4 ns=4 t=1 delay_ns=20000000
ev=end pid=3 seq=5 ns=5 t=1 how=return cpu_ns=900
ev=sleep pid=3 seq=6 ns=6 t=0 fn=clock_nanosleep abs=0 req_ns=50000000 eff_ns=0 ra=0x10
ev=end pid=3 seq=7 ns=7 t=2 how=return cpu_ns=100
ev=join pid=3 seq=8 ns=8 t=0 target=1 rc=0
ev=join pid=3 seq=9 ns=9 t=0 target=2 rc=0
ev=exit pid=3 seq=10 ns=10 t=0 pending=0 cpu_ns=1 pcpu_ns=2
";
        let trace = Trace::parse(log.as_bytes());
        assert!(!trace.sequential_join_per_spawn());
        assert_eq!(trace.spawned_before_first_join(0), 2);
        assert_eq!(trace.max_concurrent(), 2);
        // Sleep, then join: harmless.
        assert!(trace.sleeps_while_running().is_empty());
        assert_eq!(trace.threads[1].cpu_ns, Some(900));
        assert_eq!(trace.threads[2].cpu_ns, Some(100));
    }

    #[test]
    fn garbage_and_a_cut_off_line_are_ignored() {
        let mut log = SLEEP_EXAMPLE.replace(
            "ev=start",
            "Hello I am the student\n\u{0}\u{1}binary\nev=join pid=4459 seq=x\nev=start",
        );
        log.push_str("ev=end pid=4459 seq=10 ns=4546745");
        let mut bytes = log.into_bytes();
        bytes.splice(0..0, b"\xff\xfe not utf-8\n".iter().copied());
        let trace = Trace::parse(&bytes);
        // Not UTF-8, two lines of text, a broken event, the cut-off line.
        assert_eq!(trace.ignored_lines, 5);
        assert_eq!(trace.threads.len(), 2);
        assert_eq!(trace.sleeps_while_running().len(), 1);
        assert!(trace.exit.is_some());
    }

    #[test]
    fn absurd_thread_indices_do_not_grow_the_table() {
        let log = "\
ev=init pid=1 seq=0 ns=0 t=0 v=1 ppid=0 base=0x0 exe=/p
ev=spawn pid=1 seq=1 ns=0 t=0 child=99999999999 rc=0
ev=start pid=1 seq=2 ns=0 t=4000000000 delay_ns=0
";
        let trace = Trace::parse(log.as_bytes());
        assert_eq!(trace.threads.len(), 1);
        assert_eq!(trace.ignored_lines, 2);
    }

    #[test]
    fn other_processes_are_kept_apart() {
        let log = "\
ev=init pid=10 seq=0 ns=0 t=0 v=1 ppid=1 base=0x1000 exe=/my%20dir/prog
ev=init pid=11 seq=0 ns=5 t=0 v=1 ppid=10 base=0x0 exe=/bin/sh
ev=spawn pid=11 seq=1 ns=6 t=0 child=1 rc=0
ev=exit pid=10 seq=1 ns=9 t=0 pending=0 cpu_ns=1 pcpu_ns=1
";
        let trace = Trace::parse(log.as_bytes());
        assert_eq!(trace.init.as_ref().unwrap().exe, Path::new("/my dir/prog"));
        assert!(trace.loaded_into(Path::new("/my dir/prog")));
        assert!(!trace.loaded_into(Path::new("/bin/sh")));
        assert_eq!(trace.other_processes.len(), 1);
        assert_eq!(trace.other_processes[0].exe, Path::new("/bin/sh"));
        assert_eq!(trace.threads.len(), 1);
        assert_eq!(trace.ignored_lines, 1);
    }

    #[test]
    fn no_init_means_the_shim_did_not_load() {
        let trace = Trace::parse(b"");
        assert!(trace.init.is_none());
        assert_eq!(trace.exit, None);
        assert_eq!(trace.alive_at_exit(), None);
        let missing = Trace::read(Path::new("/nonexistent/grader/trace.log")).unwrap();
        assert_eq!(missing, Trace::default());
    }

    #[test]
    fn refused_variables_and_failed_spawns_are_reported() {
        let log = "\
ev=init pid=1 seq=0 ns=0 t=0 v=1 ppid=0 base=0x0 exe=/p delay_ms=5 bad=GRADER_SLEEP_SCALE,GRADER_SLEEP_INVERT
ev=spawn pid=1 seq=1 ns=0 t=0 child=1 rc=11
ev=exit pid=1 seq=2 ns=0 t=0 pending=0 cpu_ns=1 pcpu_ns=1
";
        let trace = Trace::parse(log.as_bytes());
        assert_eq!(
            trace.init.as_ref().unwrap().refused,
            ["GRADER_SLEEP_SCALE", "GRADER_SLEEP_INVERT"]
        );
        assert_eq!(trace.failed_spawns, 1);
        assert!(trace.spawned().is_empty());
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode("a%20b%zz%4"), b"a b%zz%4");
        assert_eq!(percent_decode("%C3%A9"), "é".as_bytes());
    }
}
