//! Reading the shim's log into a [`Trace`]: each line parsed into a
//! record, the traced process picked out from any others that logged, and
//! its events applied in order to the model of its threads.

use super::{
    EndKind, ExitInfo, InitInfo, Repeat, RepeatKind, SleepEvent, Stamp, ThreadInfo, Trace,
    WriteEvent,
};
use std::collections::HashMap;
use std::path::PathBuf;

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
pub(super) fn percent_decode(text: &str) -> Vec<u8> {
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
