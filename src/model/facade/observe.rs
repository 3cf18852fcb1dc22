//! What one call of a library function did with threads, for the grader's
//! `lib-threads` check: which threads it spawned (and where), how much of
//! the call's result each of them produced, and whether they could run at
//! the same time.
//!
//! The call runs once, under loom, in a harness process of its own (one
//! interleaving: the builder stops after the first). In that run the facade
//! yields after every operation, so the threads take turns as under a fair
//! scheduler: a thread that takes work from a shared queue gets its share
//! rather than all of it. Every facade event reaches [`event`] (from
//! `trace::event`), and what a thread returns reaches [`returned`].
//!
//! A thread's *part* is what it added to the values the result is built
//! from, counted only where it reached the calling thread: the change it
//! made to a shared integer that the caller read afterwards (an atomic's
//! read-modify-write, `new - old`; a plain store or a locked section that
//! wrote, the value written less the oldest value the thread had read of it
//! since its last write, so a lost update still counts for the thread that
//! meant it), the numbers it sent that the caller received, and the number
//! it returned that the caller joined. Vectors of integers count by their
//! sum. A counter nobody reads, a message nobody receives, a value nobody
//! joins is no part of the result. A value the facade cannot read (a tuple,
//! a struct) makes the part unknown, which the grader takes in the thread's
//! favour.
//!
//! Whether threads could run at the same time is decided by happens-before
//! over spawn, join and channel messages only, with vector clocks: thread
//! `a`'s work came *before* thread `b` when `b` was spawned by a thread that
//! had already waited for (joined, or received from) `a` after its last
//! piece of work. Locks and atomics are deliberately not edges: they are how
//! threads that run together share, not how one waits for another.
//!
//! The report is a block of protocol lines (`obs ...`, closed by `obs end`)
//! that the harness writes with its own report; the grader reads them in
//! `src/model/observe.rs`.

use crate::trace::esc;
use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// The harness's scenario names for calls start with this.
pub const PREFIX: &str = "call:";

/// loom's limit on threads per execution, the main thread included.
const THREADS: usize = 5;

type Clock = [u32; THREADS];

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Whether this harness process observes a call (and the facade yields
/// after every operation).
pub(crate) fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

#[derive(Default, Clone)]
struct Seen {
    parent: usize,
    spawned_at: String,
    /// The spawner's clock when it spawned this thread.
    spawn_clock: Clock,
    clock: Clock,
    /// Writes, sends and returned values.
    ops: u32,
    /// What reached the caller of the parts below.
    part: i128,
    unknown: bool,
    /// What its closure returned (an amount, `None` when unreadable).
    returned: Option<Option<i128>>,
    /// This thread's own clock entry at its last piece of work.
    last_work: u32,
    finished: bool,
    /// Where another thread first waited for this one (join, receive).
    waited_at: String,
}

/// A change to a shared value: which thread, how much, when.
struct Change {
    thread: usize,
    obj: usize,
    amount: Option<i128>,
    seq: u64,
}

#[derive(Default)]
struct Obs {
    threads: Vec<Seen>,
    /// Events so far (orders changes and the caller's reads).
    seq: u64,
    changes: Vec<Change>,
    /// Object → when the calling thread last read it.
    caller_read: HashMap<usize, u64>,
    /// The latest value of each object, as the facade showed it.
    latest: HashMap<usize, String>,
    /// (thread, object) → the oldest value the thread read since its last
    /// write of the object.
    first_read: HashMap<(usize, usize), String>,
    /// Per channel, the messages in flight (FIFO, as the facade's channel
    /// is): sender, its clock, the amount sent.
    messages: HashMap<usize, VecDeque<(usize, Clock, Option<i128>)>>,
    result: Option<String>,
}

static OBS: StdMutex<Option<Obs>> = StdMutex::new(None);

fn with<R>(f: impl FnOnce(&mut Obs) -> R) -> R {
    let mut guard = OBS.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(Obs::default))
}

fn thread(o: &mut Obs, t: usize) -> &mut Seen {
    while o.threads.len() <= t.min(THREADS - 1) {
        o.threads.push(Seen::default());
    }
    &mut o.threads[t.min(THREADS - 1)]
}

/// A value as an integer: a number, or the sum of a list of numbers.
/// `Some(0)` for a boolean (a flag is not work); `None` when unreadable.
fn amount(text: &str) -> Option<i128> {
    let text = text.trim();
    if text == "true" || text == "false" {
        return Some(0);
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return inner
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<i128>().ok())
            .sum();
    }
    text.parse().ok()
}

/// Sets up the loom builder for a call (one interleaving, room for long
/// runs of operations) when `scenario` names one; returns whether it does.
pub fn configure(scenario: &str, builder: &mut loom::model::Builder) -> bool {
    if !scenario.starts_with(PREFIX) {
        return false;
    }
    ACTIVE.store(true, Ordering::Relaxed);
    // loom stops once `max_permutations` iterations have started, checked
    // every `checkpoint_interval`: 2 and 1 run exactly the first.
    builder.max_permutations = Some(2);
    builder.checkpoint_interval = 1;
    builder.max_branches = 200_000;
    builder.preemption_bound = None;
    true
}

/// Runs the call and keeps its result. The scenario of a call is
/// `observe::call(|| krate::function(args))`.
pub fn call<R>(f: impl FnOnce() -> R) {
    *OBS.lock().unwrap_or_else(|e| e.into_inner()) = Some(Obs::default());
    let value = f();
    let shown = crate::peek::peek(&value);
    with(|o| o.result = shown);
}

/// A piece of work by thread `t` (what it amounts to is credited when it
/// reaches the caller: [`credit`]).
fn work(o: &mut Obs, t: usize) {
    let s = thread(o, t);
    s.ops += 1;
    s.last_work = s.clock[t.min(THREADS - 1)];
}

/// Work of thread `t` that reached the caller.
fn credit(o: &mut Obs, t: usize, amount: Option<i128>) {
    let s = thread(o, t);
    match amount {
        Some(v) => s.part += v,
        None => s.unknown = true,
    }
}

fn change(o: &mut Obs, t: usize, obj: usize, amount: Option<i128>) {
    let seq = o.seq;
    o.changes.push(Change {
        thread: t,
        obj,
        amount,
        seq,
    });
    work(o, t);
}

fn read(o: &mut Obs, t: usize, obj: usize, value: &str) {
    if t == 0 {
        o.caller_read.insert(obj, o.seq);
    }
    if value.is_empty() {
        return;
    }
    o.first_read
        .entry((t, obj))
        .or_insert_with(|| value.to_string());
    o.latest.insert(obj, value.to_string());
}

/// A write of `new` based on what the thread read before (or, when it read
/// nothing, on the latest value).
fn write_from_read(o: &mut Obs, t: usize, obj: usize, new: &str) {
    let base = o
        .first_read
        .remove(&(t, obj))
        .or_else(|| o.latest.get(&obj).cloned());
    let delta = match (amount(new), base.as_deref().map(amount)) {
        (Some(n), Some(Some(b))) => Some(n - b),
        (Some(n), None) => Some(n),
        _ => None,
    };
    if !new.is_empty() {
        o.latest.insert(obj, new.to_string());
    }
    change(o, t, obj, delta);
}

/// An indivisible change from `old` to `new` (which also reads `old`).
fn update(o: &mut Obs, t: usize, obj: usize, old: &str, new: &str) {
    if t == 0 {
        o.caller_read.insert(obj, o.seq);
    }
    o.first_read.remove(&(t, obj));
    o.latest.insert(obj, new.to_string());
    let delta = match (amount(new), amount(old)) {
        (Some(n), Some(b)) => Some(n - b),
        _ => None,
    };
    change(o, t, obj, delta);
}

fn merge(into: &mut Clock, from: &Clock) {
    for (a, b) in into.iter_mut().zip(from) {
        *a = (*a).max(*b);
    }
}

/// Thread `from`'s work so far is now known to thread `to` (a join or a
/// received message).
fn absorb(o: &mut Obs, to: usize, from: usize, clock: &Clock, loc: &str) {
    merge(&mut thread(o, to).clock, clock);
    let s = thread(o, from);
    if s.waited_at.is_empty() && s.ops > 0 {
        s.waited_at = loc.to_string();
    }
}

/// One facade event of thread `t` (see `trace::event`).
pub(crate) fn event(
    t: usize,
    obj: Option<usize>,
    loc: &str,
    verb: &str,
    values: &[Option<String>; 2],
) {
    let a = values[0].as_deref().unwrap_or("");
    let b = values[1].as_deref().unwrap_or("");
    with(|o| {
        let me = t.min(THREADS - 1);
        thread(o, t).clock[me] += 1;
        o.seq += 1;
        match (verb, obj) {
            ("spawn", _) => {
                if let Ok(child) = a.parse::<usize>() {
                    let clock = thread(o, t).clock;
                    let c = thread(o, child);
                    c.parent = t;
                    c.spawned_at = loc.to_string();
                    c.spawn_clock = clock;
                    c.clock = clock;
                }
            }
            ("join" | "scope-join", _) => {
                if let Ok(child) = a.parse::<usize>() {
                    let clock = thread(o, child).clock;
                    absorb(o, t, child, &clock, loc);
                    // A value comes back only through an explicit join.
                    if t == 0 && verb == "join" {
                        if let Some(value) = thread(o, child).returned.take() {
                            credit(o, child, value);
                        }
                    }
                }
            }
            ("send", Some(c)) => {
                let clock = thread(o, t).clock;
                o.messages
                    .entry(c)
                    .or_default()
                    .push_back((t, clock, amount(a)));
                work(o, t);
            }
            ("recv", Some(c)) => {
                if let Some((from, clock, value)) =
                    o.messages.get_mut(&c).and_then(VecDeque::pop_front)
                {
                    absorb(o, t, from, &clock, loc);
                    if t == 0 {
                        credit(o, from, value);
                    }
                }
            }
            ("load" | "lock" | "relock" | "read-lock" | "write-lock", Some(obj)) => {
                read(o, t, obj, a)
            }
            ("cas-failed", Some(obj)) => read(o, t, obj, b),
            ("store", Some(obj)) => write_from_read(o, t, obj, a),
            ("unlock" | "write-unlock", Some(obj)) if b == "w" => write_from_read(o, t, obj, a),
            ("swap" | "cas-ok", Some(obj)) => update(o, t, obj, a, b),
            (op, Some(obj)) if op.starts_with("fetch_") => update(o, t, obj, a, b),
            _ => {}
        }
    });
    // Let the other threads have a turn: the run is one interleaving, and
    // it should be a fair one.
    loom::thread::yield_now();
}

/// An atomic's value when it was made (its first write has a base).
pub(crate) fn initial(obj: usize, value: Option<String>) {
    if let Some(v) = value {
        with(|o| {
            o.latest.insert(obj, v);
        });
    }
}

/// What a spawned thread's closure returned.
pub(crate) fn returned<T>(t: usize, value: &T) {
    let name = std::any::type_name::<T>();
    // Nothing, or the result of a last `send`: not a share of the work.
    let nothing = name == "()" || name.starts_with("core::result::Result<(),");
    let shown = crate::peek::peek(value);
    with(|o| {
        let me = t.min(THREADS - 1);
        thread(o, t).clock[me] += 1;
        o.seq += 1;
        if !nothing {
            work(o, t);
            thread(o, t).returned = Some(shown.as_deref().and_then(amount));
        }
        thread(o, t).finished = true;
    });
}

/// The value of `obj` taken out by `into_inner` or `get_mut`: a read.
pub(crate) fn consumed(obj: usize) {
    let t = crate::trace::me();
    with(|o| {
        o.seq += 1;
        if t == 0 {
            o.caller_read.insert(obj, o.seq);
        }
    });
}

/// Credits each change to a shared value that the caller read afterwards.
fn settle(o: &mut Obs) {
    let changes = std::mem::take(&mut o.changes);
    for c in &changes {
        if o.caller_read.get(&c.obj).is_some_and(|&r| r > c.seq) {
            credit(o, c.thread, c.amount);
        }
    }
}

/// The observation as protocol lines, each starting with `prefix`; empty
/// when this process observed no call.
pub fn report(prefix: &str) -> String {
    if !active() {
        return String::new();
    }
    let guard = match OBS.try_lock() {
        Ok(g) => g,
        Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => return String::new(),
    };
    let mut guard = guard;
    let Some(o) = guard.as_mut() else {
        return String::new();
    };
    settle(o);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{prefix}obs\tresult\t{}",
        esc(o.result.as_deref().unwrap_or(""))
    );
    for (n, s) in o.threads.iter().enumerate() {
        let _ = writeln!(
            out,
            "{prefix}obs\tthread\t{n}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            s.parent,
            esc(&s.spawned_at),
            s.ops,
            s.part,
            u8::from(s.unknown),
            u8::from(s.finished || n == 0),
            esc(&s.waited_at)
        );
    }
    for (a, sa) in o.threads.iter().enumerate().skip(1) {
        for (b, sb) in o.threads.iter().enumerate().skip(1) {
            if a != b && sa.ops > 0 && sb.spawn_clock[a] >= sa.last_work {
                let _ = writeln!(out, "{prefix}obs\tbefore\t{a}\t{b}");
            }
        }
    }
    let _ = writeln!(out, "{prefix}obs\tend");
    out
}
