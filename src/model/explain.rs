//! Turns what a model harness reported (protocol lines on its stderr) into
//! a verdict a student can follow: a numbered interleaving with their own
//! line numbers, the lost update or stale read called out, and for a
//! deadlock which thread holds which lock and waits where. A raw loom panic
//! never reaches the student.
//!
//! The harness only dumps facts (events, objects, thread states); every
//! word the student reads is written here, so it can be tested without
//! running loom.

use crate::checks::Category;
use std::fmt::Write as _;

/// The first failure the harness reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failure {
    /// `assert`, `deadlock`, `panic`, `branches`, `threads`, `causality`,
    /// `leak` or `internal`.
    pub kind: String,
    pub message: String,
    pub loc: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Object {
    pub kind: String,
    pub loc: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    pub thread: usize,
    pub obj: Option<usize>,
    pub loc: String,
    pub verb: String,
    pub values: [String; 2],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadState {
    Running,
    Finished,
    /// Where it waits, and for what (`lock 3`, `recv 1`, `join 2`, ...).
    Blocked {
        loc: String,
        wait: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadInfo {
    pub spawned_at: String,
    pub state: ThreadState,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    pub thread: usize,
    pub obj: usize,
    pub mode: String,
    pub loc: String,
}

/// Everything one harness run reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// `Some(n)`: the exploration completed, `n` iterations, no failure.
    pub done: Option<u64>,
    /// The MAC the harness's last step put on its `done` line (hex); the
    /// grader checks it against the run's key (`model::seal`).
    pub seal: String,
    pub failure: Option<Failure>,
    /// The iteration that failed.
    pub iteration: u64,
    pub objects: Vec<Object>,
    pub events: Vec<Event>,
    /// Events of the failing iteration that were not kept.
    pub dropped: u64,
    pub threads: Vec<ThreadInfo>,
    pub held: Vec<Held>,
    /// Channels' live senders: (channel object, where it was made).
    pub senders: Vec<(usize, String)>,
    /// Iterations that passed and failed the scenario's assertion.
    pub passed: u64,
    pub failed: u64,
    /// The harness stopped exploring after failures with no pass.
    pub cut: bool,
    /// Whether the closing `end` line was seen (the report is whole).
    pub complete: bool,
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Parses the lines that start with `@@<tag> `; everything else (what the
/// student's code printed) is ignored.
pub fn parse(stderr: &str, tag: &str) -> Report {
    let prefix = format!("@@{tag} ");
    let mut r = Report::default();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix(&prefix) else {
            continue;
        };
        let f: Vec<String> = rest.split('\t').map(unescape).collect();
        let get = |i: usize| f.get(i).cloned().unwrap_or_default();
        let num = |i: usize| get(i).parse::<u64>().unwrap_or(0);
        match f[0].as_str() {
            "done" => {
                r.done = Some(num(1));
                r.seal = get(2);
            }
            "fail" if r.failure.is_none() => {
                r.failure = Some(Failure {
                    kind: get(1),
                    message: get(2),
                    loc: get(3),
                })
            }
            "iteration" => r.iteration = num(1),
            "object" => r.objects.push(Object {
                kind: get(2),
                loc: get(3),
            }),
            "event" => r.events.push(Event {
                thread: num(1) as usize,
                obj: get(2).parse().ok(),
                loc: get(3),
                verb: get(4),
                values: [get(5), get(6)],
            }),
            "dropped" => r.dropped = num(1),
            "thread" => r.threads.push(ThreadInfo {
                spawned_at: get(2),
                state: match get(3).as_str() {
                    "finished" => ThreadState::Finished,
                    "blocked" => ThreadState::Blocked {
                        loc: get(4),
                        wait: f.iter().skip(5).cloned().collect(),
                    },
                    _ => ThreadState::Running,
                },
            }),
            "held" => r.held.push(Held {
                thread: num(1) as usize,
                obj: num(2) as usize,
                mode: get(3),
                loc: get(4),
            }),
            "sender" => r.senders.push((num(1) as usize, get(2))),
            "counts" => {
                r.passed = num(1);
                r.failed = num(2);
            }
            "cut" => r.cut = true,
            "end" => r.complete = true,
            _ => {}
        }
    }
    r
}

/// A failing verdict: category, one-line message, longer details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub category: Category,
    pub message: String,
    pub details: String,
}

fn thread_name(t: usize) -> String {
    if t == 0 {
        "the main thread".into()
    } else {
        format!("thread {t}")
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Where, for a student: `lib.rs:12`, or `the scenario (x.rs:5)`.
fn place(loc: &str) -> String {
    match loc.strip_prefix("scenario/") {
        Some(rest) => format!("the grader's scenario ({rest})"),
        None => loc.to_string(),
    }
}

impl Report {
    /// "the AtomicUsize", with "2nd" when there are several of one kind
    /// (one lock per account); [`Report::legend`] says where each was made.
    fn object_name(&self, id: usize) -> String {
        let Some(o) = self.objects.get(id) else {
            return "an object".into();
        };
        let same: Vec<usize> = (0..self.objects.len())
            .filter(|&i| self.objects[i].kind == o.kind)
            .collect();
        let ordinal = if same.len() > 1 {
            let n = same.iter().position(|&i| i == id).unwrap_or(0) + 1;
            format!("{} ", ordinal(n))
        } else {
            String::new()
        };
        format!("the {ordinal}{}", o.kind)
    }

    /// Where the objects that the steps name were made.
    fn legend(&self) -> String {
        let mut used: Vec<usize> = self.events.iter().filter_map(|e| e.obj).collect();
        used.extend(self.held.iter().map(|h| h.obj));
        used.sort_unstable();
        used.dedup();
        let names: Vec<String> = used
            .iter()
            .filter_map(|&i| {
                let o = self.objects.get(i)?;
                Some(format!(
                    "{} (made at {})",
                    self.object_name(i),
                    place(&o.loc)
                ))
            })
            .collect();
        if names.is_empty() {
            String::new()
        } else {
            format!("  Shared: {}.\n", names.join(", "))
        }
    }

    fn describe(&self, e: &Event) -> String {
        let obj = e.obj.map(|o| self.object_name(o)).unwrap_or_default();
        let [a, b] = &e.values;
        let held = |v: &str| {
            if v.is_empty() {
                String::new()
            } else {
                format!(" (it held {v})")
            }
        };
        let what = match e.verb.as_str() {
            "load" => format!("read {a} from {obj}"),
            "store" => format!("wrote {a} to {obj}"),
            "swap" => format!("swapped {obj} from {a} to {b}"),
            "cas-ok" => format!("compare_exchange on {obj}: it held {a}, so it is now {b}"),
            "cas-failed" => {
                format!("compare_exchange on {obj} failed: expected {a}, but it held {b}")
            }
            "lock" => format!("locked {obj}{}", held(a)),
            "relock" => format!("woke up and locked {obj} again{}", held(a)),
            "unlock" if b == "w" => format!("unlocked {obj}, leaving {a}"),
            "unlock" => format!("unlocked {obj}"),
            "read-lock" => format!("took a read lock on {obj}{}", held(a)),
            "read-unlock" => format!("released its read lock on {obj}"),
            "write-lock" => format!("took the write lock on {obj}{}", held(a)),
            "write-unlock" if b == "w" => format!("released the write lock on {obj}, leaving {a}"),
            "write-unlock" => format!("released the write lock on {obj}"),
            "try-lock-failed" => format!("tried to lock {obj}, but it was taken"),
            "wait" => format!("released its lock and waited on {obj}"),
            "notify-one" => format!("notified one waiter of {obj}"),
            "notify-all" => format!("notified every waiter of {obj}"),
            "barrier-wait" => format!("reached {obj}"),
            "send" if a.is_empty() => "sent a message".to_string(),
            "send" => format!("sent {a}"),
            "send-failed" => "tried to send, but the receiver was gone".to_string(),
            "recv" if a.is_empty() => "received a message".to_string(),
            "recv" => format!("received {a}"),
            "recv-closed" => "found the channel closed (every sender dropped)".to_string(),
            "try-recv-empty" => "found no message waiting".to_string(),
            "spawn" => format!("spawned thread {a}"),
            "join" => format!("joined thread {a}"),
            "scope-join" => format!("waited for scoped thread {a} at the end of the scope"),
            "sleep" => "slept (meanwhile any other thread may run)".to_string(),
            op if op.starts_with("fetch_") => format!("{op} on {obj}: {a} became {b}"),
            other => format!("{other} {obj}"),
        };
        if e.loc.is_empty() {
            format!("{} {what}", thread_name(e.thread))
        } else {
            format!("{} {what} at {}", thread_name(e.thread), place(&e.loc))
        }
    }

    /// The numbered interleaving, at most `limit` steps.
    fn interleaving(&self, marks: &[(usize, String)], limit: usize) -> String {
        let mut out = self.legend();
        let shown = self.events.len().min(limit);
        for (i, e) in self.events.iter().take(shown).enumerate() {
            let _ = write!(out, "  {:>2}. {}", i + 1, self.describe(e));
            for (at, note) in marks {
                if *at == i {
                    let _ = write!(out, "  <- {note}");
                }
            }
            out.push('\n');
        }
        let hidden = (self.events.len() - shown) as u64 + self.dropped;
        if hidden > 0 {
            let _ = writeln!(out, "  ... and {hidden} more steps");
        }
        out
    }

    /// How the value of each object was accessed: reads that a later write
    /// of the same thread was based on, with another thread's write in
    /// between — a lost update (or a decision made on a stale value).
    fn stale_writes(&self) -> Vec<StaleWrite> {
        let mut found = Vec::new();
        for (i, e) in self.events.iter().enumerate() {
            let Some(obj) = e.obj else { continue };
            if access(e) != Access::Write {
                continue;
            }
            // The thread's accesses to obj before i, newest first.
            let mut read = None;
            for j in (0..i).rev() {
                let p = &self.events[j];
                if p.thread != e.thread || p.obj != Some(obj) {
                    continue;
                }
                // The oldest read since the thread last wrote: a write in
                // a later lock section may still rest on it (read, unlock,
                // lock again, write).
                match access(p) {
                    Access::Read => read = Some(j),
                    Access::Write | Access::Update => break,
                    Access::Other => {}
                }
            }
            let Some(r) = read else { continue };
            // The write the read saw (by value; the initial value when none
            // matches). Other threads' writes after it were overwritten,
            // including those before the read when it saw an old value.
            let seen = &self.events[r].values[0];
            let source = (0..r).rev().find(|&k| {
                let o = &self.events[k];
                o.obj == Some(obj) && written_value(o).is_some_and(|v| v == seen)
            });
            let from = source.map_or(0, |k| k + 1);
            let between: Vec<usize> = (from..i)
                .filter(|&k| {
                    let o = &self.events[k];
                    o.thread != e.thread
                        && o.obj == Some(obj)
                        && matches!(access(o), Access::Write | Access::Update)
                })
                .collect();
            let between: Vec<usize> = between.into_iter().filter(|&k| k != r).collect();
            if !between.is_empty() {
                found.push(StaleWrite {
                    read: r,
                    others: between,
                    write: i,
                });
            }
        }
        found
    }

    /// The verdict for a failed exploration; `None` when the run did not
    /// fail (or reported nothing).
    pub fn verdict(&self, scenario: &str) -> Option<Verdict> {
        let f = self.failure.as_ref()?;
        let explored = if self.iteration > 1 {
            format!(
                "The model checker tried {} interleavings of the threads; this one fails:\n",
                self.iteration
            )
        } else {
            "The model checker's first interleaving of the threads fails:\n".to_string()
        };
        let verdict = match f.kind.as_str() {
            "assert" => self.assertion(f, scenario, &explored),
            "deadlock" => self.deadlock(&explored),
            "panic" => {
                let at = if f.loc.is_empty() { String::new() } else { format!(" at {}", place(&f.loc)) };
                let who = capitalized(&self.panicking_thread());
                // Arithmetic that overflows only in some interleavings is a
                // broken invariant (a balance pushed below zero by a
                // check-then-act), not a plain crash.
                if self.passed > 0 && f.message.contains("with overflow") {
                    Verdict {
                        category: Category::DataRace,
                        message: format!(
                            "in one interleaving of the threads ({scenario}) a value went out of range: \
                             {who} panicked{at}: {} — it was checked, then changed by another thread \
                             before this thread used it",
                            f.message
                        ),
                        details: format!("{explored}{}", self.interleaving(&[], 60)),
                    }
                } else {
                    let when = if self.passed > 0 { " in one interleaving of the threads" } else { "" };
                    Verdict {
                        category: Category::Crash,
                        message: format!("{who} panicked{at}{when} ({scenario}): {}", f.message),
                        details: format!("{explored}{}", self.interleaving(&[], 60)),
                    }
                }
            }
            "branches" => {
                let last = self.events.last().map(|e| format!(" (last step: {})", self.describe(e))).unwrap_or_default();
                Verdict {
                    category: Category::Timeout,
                    message: format!(
                        "a thread busy-waits (spins in a loop until another thread changes something){last}; \
                         the model checker cannot explore a spin loop, so this code cannot be checked. \
                         Block instead: `join`, a channel, or a `Condvar`"
                    ),
                    details: format!("{explored}{}", self.interleaving(&[], 40)),
                }
            }
            "threads" => Verdict {
                category: Category::ResourceLimit,
                message: format!(
                    "the library started more threads than the scenario ({scenario}) asked for; \
                     the model checker handles at most 4 besides the main thread"
                ),
                details: format!("{explored}{}", self.interleaving(&[], 40)),
            },
            "causality" => Verdict {
                category: Category::DataRace,
                message: "two threads accessed the same memory at the same time without synchronisation".into(),
                details: format!("{}\n\n{explored}{}", f.message, self.interleaving(&[], 60)),
            },
            "leak" => Verdict {
                category: Category::Crash,
                message: "a value shared between threads was never freed (an `Arc` cycle or `mem::forget`)".into(),
                details: f.message.clone(),
            },
            _ => Verdict {
                category: Category::Crash,
                message: format!("the model checker stopped on this code: {}", first_line(&f.message)),
                details: format!("{}\n\n{explored}{}", f.message, self.interleaving(&[], 60)),
            },
        };
        Some(verdict)
    }

    fn panicking_thread(&self) -> String {
        self.threads
            .iter()
            .enumerate()
            .rev()
            .find(|(_, t)| t.state == ThreadState::Running)
            .map(|(i, _)| thread_name(i))
            .unwrap_or_else(|| "a thread".into())
    }

    fn assertion(&self, f: &Failure, scenario: &str, explored: &str) -> Verdict {
        let stale = self.stale_writes();
        let mut marks = Vec::new();
        let mut summary = String::new();
        if let Some(s) = stale.first() {
            let w = &self.events[s.write];
            let r = &self.events[s.read];
            let others: Vec<String> = s
                .others
                .iter()
                .map(|&k| thread_name(self.events[k].thread))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let lost = lost_count(self, s);
            let old = if s.others.iter().any(|&k| k < s.read) {
                " (an old value)"
            } else {
                ""
            };
            marks.push((
                s.read,
                format!("{} reads {}{old}", thread_name(r.thread), read_value(r)),
            ));
            for &k in &s.others {
                marks.push((
                    k,
                    format!("{} changes it", thread_name(self.events[k].thread)),
                ));
            }
            marks.push((
                s.write,
                format!(
                    "{} writes a value based on its old read: {}'s update is lost",
                    thread_name(w.thread),
                    others.join(" and ")
                ),
            ));
            // The story from the first read that mattered: the overwritten
            // threads' own reads too, so "both read 0, both wrote 1" reads
            // as it happened.
            let from = s.others.iter().fold(s.read, |start, &k| {
                let t = self.events[k].thread;
                let own_read = (0..k).rev().find(|&j| {
                    let o = &self.events[j];
                    o.thread == t && o.obj == w.obj && access(o) == Access::Read
                });
                own_read.map_or(start, |j| start.min(j))
            });
            let story: Vec<usize> = (from..=s.write)
                .filter(|&k| {
                    let o = &self.events[k];
                    o.obj == w.obj
                        && (access(o) != Access::Other)
                        && (k == s.read || k == s.write || o.thread != w.thread || k < s.read)
                })
                .collect();
            let mut steps = Vec::new();
            for (n, &k) in story.iter().enumerate() {
                if story.len() > 7 && n >= 3 && n < story.len() - 3 {
                    if n == 3 {
                        steps.push(format!("{} more steps", story.len() - 6));
                    }
                    continue;
                }
                let e = &self.events[k];
                if k == s.read && s.others.iter().any(|&o| o < s.read) {
                    steps.push(format!("{} (an old value{})", self.short(e), order_note(e)));
                } else {
                    steps.push(self.short(e));
                }
            }
            summary = format!(" — {} — {lost}", steps.join("; "));
        } else if let Some(t) = self.torn_read() {
            for (k, note) in [
                (t.first, "reads one part"),
                (t.other_first, "changes it"),
                (t.other_second, "changes the other part"),
                (t.second, "reads the other part, after the change"),
            ] {
                marks.push((k, note.to_string()));
            }
            let e = &self.events;
            summary = format!(
                " — {}; {}; {}; {} — it saw one part before another thread's change and the other \
                 part after it (a torn read: the parts must be read under the lock that the change holds)",
                self.short_on(&e[t.first]),
                self.short_on(&e[t.other_first]),
                self.short_on(&e[t.other_second]),
                self.short_on(&e[t.second]),
            );
        } else if let Some(k) = self.events.iter().position(|e| e.verb == "cas-failed") {
            let e = &self.events[k];
            marks.push((k, "the exchange failed and nothing retries it".into()));
            summary = format!(
                " — {} compare_exchange at {} expected {} but found {}, and the update was dropped \
                 instead of retried (retry in a loop, or use fetch_add)",
                thread_name(e.thread),
                place(&e.loc),
                e.values[0],
                e.values[1]
            );
        }
        let details = format!(
            "{explored}{}\nThe scenario then found: {}",
            self.interleaving(&marks, 60),
            f.message
        );
        if self.passed == 0 {
            let n = self.failed.max(1);
            let scope = if self.cut {
                "every one of the first"
            } else {
                "every one of the"
            };
            Verdict {
                category: Category::WrongAnswer,
                message: format!(
                    "{} ({scenario}): wrong in {scope} {n} interleavings the model checker explored, so not a matter of timing",
                    f.message
                ),
                details,
            }
        } else {
            Verdict {
                category: Category::DataRace,
                message: format!(
                    "{} in one interleaving of the threads ({scenario}){summary}",
                    f.message
                ),
                details,
            }
        }
    }

    /// Two reads by one thread of two different objects, with another
    /// thread writing both in between: a multi-part value seen half old,
    /// half new.
    fn torn_read(&self) -> Option<Torn> {
        let ev = &self.events;
        for a in 0..ev.len() {
            if access(&ev[a]) != Access::Read {
                continue;
            }
            let (t, obj_a) = (ev[a].thread, ev[a].obj?);
            for b in a + 1..ev.len() {
                let e = &ev[b];
                if e.thread != t || access(e) != Access::Read || e.obj == Some(obj_a) {
                    continue;
                }
                let obj_b = e.obj?;
                let wrote = |obj: usize| {
                    (a + 1..b).find(|&k| {
                        ev[k].thread != t
                            && ev[k].obj == Some(obj)
                            && written_value(&ev[k]).is_some()
                    })
                };
                if let (Some(x), Some(y)) = (wrote(obj_a), wrote(obj_b))
                    && ev[x].thread == ev[y].thread
                {
                    return Some(Torn {
                        first: a,
                        other_first: x.min(y),
                        other_second: x.max(y),
                        second: b,
                    });
                }
            }
        }
        None
    }

    /// "the main thread read 10 from the 1st AtomicU64 at lib.rs:30"
    fn short_on(&self, e: &Event) -> String {
        let obj = e.obj.map(|o| self.object_name(o)).unwrap_or_default();
        let at = if e.loc.is_empty() {
            String::new()
        } else {
            format!(" at {}", place(&e.loc))
        };
        let who = thread_name(e.thread);
        match (access(e), written_value(e)) {
            (Access::Read, _) => format!("{who} read {} from {obj}{at}", e.values[0]),
            (_, Some(v)) => format!(
                "{who} changed {obj} to {v}{}",
                if at.is_empty() {
                    unlock_at(self, e)
                } else {
                    at
                }
            ),
            _ => self.describe(e),
        }
    }

    /// "thread 1 read 0 at lib.rs:10"
    fn short(&self, e: &Event) -> String {
        let at = if e.loc.is_empty() {
            String::new()
        } else {
            format!(" at {}", place(&e.loc))
        };
        let who = thread_name(e.thread);
        let [a, b] = &e.values;
        match e.verb.as_str() {
            "load" => format!("{who} read {a}{at}"),
            "store" => format!("{who} wrote {a}{at}"),
            "lock" | "relock" | "read-lock" | "write-lock" if !a.is_empty() => {
                format!("{who} locked and read {a}{at}")
            }
            "unlock" | "write-unlock" if !a.is_empty() => {
                format!("{who} wrote {a}{}", unlock_at(self, e))
            }
            v if v.starts_with("fetch_") || v == "swap" || v == "cas-ok" => {
                format!("{who} changed {a} to {b}{at}")
            }
            _ => self.describe(e),
        }
    }

    fn deadlock(&self, explored: &str) -> Verdict {
        let mut lines = Vec::new();
        for (t, info) in self.threads.iter().enumerate() {
            let holds: Vec<String> = self
                .held
                .iter()
                .filter(|h| h.thread == t)
                .map(|h| format!("{} (locked at {})", self.object_name(h.obj), place(&h.loc)))
                .collect();
            let holding = if holds.is_empty() {
                String::new()
            } else {
                format!("holds {} and ", holds.join(", "))
            };
            let ThreadState::Blocked { loc, wait } = &info.state else {
                continue;
            };
            let at = place(loc);
            let target = wait.get(1).and_then(|s| s.parse::<usize>().ok());
            let holder = |obj: usize| {
                let owners: Vec<String> = self
                    .held
                    .iter()
                    .filter(|h| h.obj == obj && h.thread != t)
                    .map(|h| thread_name(h.thread))
                    .collect();
                if owners.is_empty() {
                    String::new()
                } else {
                    format!(", which {} holds", owners.join(" and "))
                }
            };
            let what = match (wait.first().map(String::as_str), target) {
                (Some("lock" | "write"), Some(o)) => {
                    format!("waits at {at} to lock {}{}", self.object_name(o), holder(o))
                }
                (Some("read"), Some(o)) => format!(
                    "waits at {at} to read-lock {}{}",
                    self.object_name(o),
                    holder(o)
                ),
                (Some("condvar"), Some(o)) => format!(
                    "waits at {at} on {} for a notification that no thread is left to send",
                    self.object_name(o)
                ),
                (Some("recv"), Some(o)) => {
                    let alive: Vec<String> = self
                        .senders
                        .iter()
                        .filter(|(c, _)| *c == o)
                        .map(|(_, l)| place(l))
                        .collect();
                    if alive.is_empty() {
                        format!("waits at {at} to receive a message that no thread will send")
                    } else {
                        format!(
                            "waits at {at} to receive, but no running thread will send, and the channel \
                             never closes because {} still alive (made at {}): a loop over the receiver \
                             ends only when every sender is dropped — drop the original sender before \
                             receiving",
                            if alive.len() == 1 {
                                "a Sender is"
                            } else {
                                "Senders are"
                            },
                            alive.join(", ")
                        )
                    }
                }
                (Some("send"), _) => {
                    format!("waits at {at} to send on a full channel that nobody reads")
                }
                (Some("join"), Some(c)) => format!("waits at {at} for thread {c} to finish"),
                (Some("barrier"), _) => {
                    format!("waits at {at} at a barrier that not enough threads reach")
                }
                (Some("park"), _) => format!("is parked at {at} and nobody unparks it"),
                _ => format!("waits at {at}"),
            };
            lines.push(format!("{} {holding}{what}", thread_name(t)));
        }
        let message = match lines.len() {
            0 => "deadlock: every thread is waiting and none can continue".to_string(),
            _ => format!("deadlock: {}", lines.join("; ")),
        };
        let mut details = String::from("Every thread is waiting, and none can continue:\n");
        for l in &lines {
            let _ = writeln!(details, "  - {}", capitalized(l));
        }
        let _ = write!(details, "\n{explored}{}", self.interleaving(&[], 60));
        Verdict {
            category: Category::Deadlock,
            message,
            details,
        }
    }
}

/// The value an event left in its object, if it wrote one.
fn written_value(e: &Event) -> Option<&String> {
    match access(e) {
        Access::Write => Some(&e.values[0]),
        Access::Update => Some(&e.values[1]),
        _ => None,
    }
}

fn unlock_at(r: &Report, e: &Event) -> String {
    // Releases carry no line; use the line where this section began.
    let begin = r.events.iter().rev().find(|p| {
        p.thread == e.thread
            && p.obj == e.obj
            && matches!(p.verb.as_str(), "lock" | "relock" | "write-lock")
    });
    match begin {
        Some(p) if !p.loc.is_empty() => format!(" (in the section locked at {})", place(&p.loc)),
        _ => String::new(),
    }
}

/// ": `Relaxed` lets a thread see an older value" for a weak load.
fn order_note(e: &Event) -> String {
    match e.values[1].as_str() {
        "Relaxed" | "Acquire" => format!(
            ": with `Ordering::{}` a thread may still see a value another thread has overwritten",
            e.values[1]
        ),
        _ => String::new(),
    }
}

fn read_value(e: &Event) -> String {
    if e.values[0].is_empty() {
        "it".into()
    } else {
        e.values[0].clone()
    }
}

/// "one update lost": how far the other threads had moved the value since
/// this thread read it (for counters, the increments overwritten).
fn lost_count(r: &Report, s: &StaleWrite) -> String {
    let parse = |v: &str| v.parse::<i128>().ok();
    let read = parse(&r.events[s.read].values[0]);
    let before = s.others.last().and_then(|&k| {
        let e = &r.events[k];
        let v = if e.verb.starts_with("fetch_") || e.verb == "swap" || e.verb == "cas-ok" {
            &e.values[1]
        } else {
            &e.values[0]
        };
        parse(v)
    });
    let writers: Vec<String> = s
        .others
        .iter()
        .map(|&k| thread_name(r.events[k].thread))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    match (read, before) {
        // A counter: each overwritten write added one.
        (Some(read), Some(before))
            if before > read && (before - read) as usize == s.others.len() =>
        {
            match before - read {
                1 => "one update lost".into(),
                n => format!("{n} updates lost"),
            }
        }
        _ => format!("{}'s change was overwritten", writers.join(" and ")),
    }
}

#[derive(Debug)]
struct Torn {
    first: usize,
    other_first: usize,
    other_second: usize,
    second: usize,
}

#[derive(Debug)]
struct StaleWrite {
    read: usize,
    others: Vec<usize>,
    write: usize,
}

#[derive(Debug, PartialEq, Eq)]
enum Access {
    /// Reads the value and may act on it later (a load; a lock section
    /// that only read).
    Read,
    /// Writes a value (a store; a lock section that wrote).
    Write,
    /// Reads and writes in one indivisible step (fetch_add, a CAS).
    Update,
    Other,
}

fn access(e: &Event) -> Access {
    match e.verb.as_str() {
        "load" => Access::Read,
        "lock" | "relock" | "read-lock" | "write-lock" => Access::Read,
        "store" => Access::Write,
        "unlock" | "write-unlock" if e.values[1] == "w" => Access::Write,
        "swap" => Access::Write,
        "cas-ok" => Access::Update,
        v if v.starts_with("fetch_") => Access::Update,
        _ => Access::Other,
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "t0";

    fn report(lines: &str) -> Report {
        let text: String = lines
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let fields: Vec<&str> = l.split('|').map(str::trim).collect();
                format!("@@{TAG} {}\n", fields.join("\t"))
            })
            .collect();
        parse(&text, TAG)
    }

    #[test]
    fn the_classic_lost_update_is_told_as_numbered_steps() {
        let r = report(
            "fail | assert | count_concurrently(2, 1) returned 1 instead of 2 | scenario/two.rs:5
             iteration | 3
             object | 0 | AtomicUsize | lib.rs:6
             event | 0 |  | lib.rs:9 | spawn | 1 |
             event | 0 |  | lib.rs:9 | spawn | 2 |
             event | 1 | 0 | lib.rs:10 | load | 0 | SeqCst
             event | 2 | 0 | lib.rs:10 | load | 0 | SeqCst
             event | 1 | 0 | lib.rs:11 | store | 1 |
             event | 2 | 0 | lib.rs:11 | store | 1 |
             counts | 2 | 1
             end",
        );
        assert!(r.complete);
        let v = r.verdict("scenario `two`").unwrap();
        assert_eq!(v.category, Category::DataRace);
        assert!(
            v.message.ends_with(
                "— thread 1 read 0 at lib.rs:10; thread 2 read 0 at lib.rs:10; thread 1 wrote 1 at lib.rs:11; \
                 thread 2 wrote 1 at lib.rs:11 — one update lost"
            ),
            "{}",
            v.message
        );
        assert!(
            v.details
                .contains("   3. thread 1 read 0 from the AtomicUsize at lib.rs:10"),
            "{}",
            v.details
        );
        assert!(
            v.details
                .contains("Shared: the AtomicUsize (made at lib.rs:6)"),
            "{}",
            v.details
        );
        assert!(
            v.details.contains("thread 1's update is lost"),
            "{}",
            v.details
        );
        assert!(v.details.contains("tried 3 interleavings"), "{}", v.details);
    }

    #[test]
    fn a_stale_relaxed_read_is_named_as_such() {
        let r = report(
            "fail | assert | returned 1 instead of 2 | scenario/two.rs:5
             iteration | 1
             object | 0 | AtomicUsize | lib.rs:6
             event | 1 | 0 | lib.rs:10 | load | 0 | Relaxed
             event | 1 | 0 | lib.rs:11 | store | 1 |
             event | 2 | 0 | lib.rs:10 | load | 0 | Relaxed
             event | 2 | 0 | lib.rs:11 | store | 1 |
             counts | 1 | 1
             end",
        );
        let v = r.verdict("s").unwrap();
        assert!(v.message.contains("thread 1 wrote 1 at lib.rs:11; thread 2 read 0 at lib.rs:10 (an old value: with `Ordering::Relaxed`"), "{}", v.message);
    }

    #[test]
    fn a_torn_total_is_named() {
        let r = report(
            "fail | assert | total() returned 25 while a transfer ran | scenario/t.rs:12
             iteration | 4
             object | 0 | AtomicU64 | lib.rs:9
             object | 1 | AtomicU64 | lib.rs:9
             event | 0 | 0 | lib.rs:30 | load | 10 | SeqCst
             event | 1 | 0 | lib.rs:17 | fetch_sub | 10 | 5
             event | 1 | 1 | lib.rs:22 | fetch_add | 10 | 15
             event | 0 | 1 | lib.rs:30 | load | 15 | SeqCst
             counts | 3 | 1
             end",
        );
        let v = r.verdict("s").unwrap();
        assert_eq!(v.category, Category::DataRace);
        assert!(
            v.message.contains(
                "the main thread read 10 from the 1st AtomicU64 at lib.rs:30; thread 1 changed the 1st \
                 AtomicU64 to 5 at lib.rs:17; thread 1 changed the 2nd AtomicU64 to 15 at lib.rs:22; the main \
                 thread read 15 from the 2nd AtomicU64 at lib.rs:30 — it saw one part before"
            ),
            "{}",
            v.message
        );
    }

    #[test]
    fn wrong_in_every_interleaving_is_a_wrong_answer() {
        let r = report(
            "fail | assert | parallel_sum(vec![1, 2, 3], 2) returned 0 instead of 6 | scenario/s.rs:3
             iteration | 1
             counts | 0 | 1
             end",
        );
        let v = r.verdict("scenario `s`").unwrap();
        assert_eq!(v.category, Category::WrongAnswer);
        assert!(
            v.message.contains("not a matter of timing"),
            "{}",
            v.message
        );
    }

    #[test]
    fn a_lock_order_deadlock_says_who_holds_what() {
        let r = report(
            "fail | deadlock | deadlock; threads = [...] | /x/loom-0.7.3/src/rt/execution.rs:217
             iteration | 7
             object | 0 | Mutex<u64> | lib.rs:12
             object | 1 | Mutex<u64> | lib.rs:12
             event | 0 | 0 | lib.rs:20 | lock | 10 |
             event | 1 | 1 | lib.rs:20 | lock | 10 |
             thread | 0 |  | blocked | lib.rs:21 | lock | 1
             thread | 1 | scenario/opposite.rs:9 | blocked | lib.rs:21 | lock | 0
             held | 0 | 0 | lock | lib.rs:20
             held | 1 | 1 | lock | lib.rs:20
             counts | 6 | 0
             end",
        );
        let v = r.verdict("s").unwrap();
        assert_eq!(v.category, Category::Deadlock);
        assert_eq!(
            v.message,
            "deadlock: the main thread holds the 1st Mutex<u64> (locked at lib.rs:20) and waits at lib.rs:21 \
             to lock the 2nd Mutex<u64>, which thread 1 holds; thread 1 holds the 2nd Mutex<u64> (locked at \
             lib.rs:20) and waits at lib.rs:21 to lock the 1st Mutex<u64>, which the main thread holds"
        );
        assert!(!v.message.contains("loom"));
    }

    #[test]
    fn a_receive_that_never_ends_names_the_live_sender() {
        let r = report(
            "fail | deadlock | deadlock; threads = [...] | /x/loom-0.7.3/src/rt/execution.rs:217
             object | 0 | channel | lib.rs:5
             thread | 0 |  | blocked | lib.rs:14 | recv | 0
             thread | 1 | lib.rs:9 | finished
             sender | 0 | lib.rs:5
             end",
        );
        let v = r.verdict("s").unwrap();
        assert_eq!(v.category, Category::Deadlock);
        assert!(
            v.message
                .contains("a Sender is still alive (made at lib.rs:5)"),
            "{}",
            v.message
        );
        assert!(
            v.message.contains("drop the original sender"),
            "{}",
            v.message
        );
    }

    #[test]
    fn an_overflow_in_some_interleavings_is_a_race_and_a_plain_panic_a_crash() {
        let race = report(
            "fail | panic | attempt to subtract with overflow | lib.rs:22
             thread | 0 |  | running
             counts | 3 | 0
             end",
        );
        assert_eq!(race.verdict("s").unwrap().category, Category::DataRace);
        let crash = report(
            "fail | panic | index out of bounds: the len is 2 but the index is 5 | lib.rs:30
             counts | 0 | 0
             end",
        );
        let v = crash.verdict("s").unwrap();
        assert_eq!(v.category, Category::Crash);
        assert!(v.message.contains("at lib.rs:30"), "{}", v.message);
    }

    #[test]
    fn a_busy_wait_is_a_timeout_not_a_pass_and_never_a_raw_loom_message() {
        let r = report(
            "fail | branches | Model exceeded maximum number of branches. This is often caused by an algorithm requiring the processor to make progress, e.g. spin locks. | /x/loom-0.7.3/src/rt/path.rs:118
             object | 0 | AtomicBool | lib.rs:4
             event | 1 | 0 | lib.rs:9 | load | false | Acquire
             end",
        );
        let v = r.verdict("s").unwrap();
        assert_eq!(v.category, Category::Timeout);
        assert!(v.message.contains("busy-waits"), "{}", v.message);
        assert!(!v.message.contains("Model exceeded"), "{}", v.message);
    }

    #[test]
    fn only_tagged_lines_count() {
        let text = "@@forged done\t1\n@@t0 done\t90\nprinted by the student\n";
        let r = parse(text, TAG);
        assert_eq!(r.done, Some(90));
        assert!(r.failure.is_none());
        let forged = parse("@@forged done\t1\n", TAG);
        assert_eq!(forged.done, None);
    }

    #[test]
    fn fields_are_unescaped() {
        let r = parse("@@t0 fail\tpanic\ta\\tb\\nc\\\\d\tlib.rs:1\n", TAG);
        assert_eq!(r.failure.unwrap().message, "a\tb\nc\\d");
    }
}
