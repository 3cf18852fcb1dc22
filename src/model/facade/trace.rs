//! The event log of one model iteration.
//!
//! Every facade operation appends an [`Event`] naming the model thread, the
//! object, the value seen or written and the caller's source line
//! (`#[track_caller]`). The log also keeps what a deadlock explanation
//! needs: which locks each thread holds, what each thread is blocked on, and
//! which channel senders are still alive. It lives outside loom (a plain
//! `std` mutex that is never held across a loom operation), so recording
//! never adds a branch to the model; the harness clears it at the start of
//! every iteration and prints it from the panic hook of the failing one.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::panic::Location;
use std::sync::Mutex as StdMutex;

/// Events kept per iteration; a model with more is cut (and says so).
const MAX_EVENTS: usize = 400;

pub(crate) type Loc = &'static Location<'static>;

/// An object the facade tracks (an atomic, a lock, a channel, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ObjId(pub usize);

/// What a blocked thread is waiting for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wait {
    Lock(ObjId),
    Read(ObjId),
    Write(ObjId),
    Condvar(ObjId, ObjId),
    Recv(ObjId),
    Send(ObjId),
    Join(usize),
    Barrier(ObjId),
    Park,
}

struct Object {
    kind: String,
    loc: Loc,
}

struct Event {
    thread: usize,
    verb: &'static str,
    values: [Option<String>; 2],
    obj: Option<ObjId>,
    loc: Option<Loc>,
}

#[derive(Default)]
struct ThreadInfo {
    finished: bool,
    blocked: Option<(Wait, Loc)>,
    spawned_at: Option<Loc>,
}

#[derive(Default)]
struct State {
    iteration: usize,
    objects: Vec<Object>,
    events: Vec<Event>,
    dropped: usize,
    ids: HashMap<loom::thread::ThreadId, usize>,
    threads: Vec<ThreadInfo>,
    held: Vec<(usize, ObjId, &'static str, Loc)>,
    senders: HashMap<(ObjId, usize), Loc>,
    next_sender: usize,
}

static STATE: StdMutex<Option<State>> = StdMutex::new(None);

fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(State::default))
}

/// The number of the running model thread: 0 for the scenario's main
/// thread, then 1, 2, ... in the order threads were spawned.
fn current(state: &mut State) -> usize {
    let id = loom::thread::current().id();
    if let Some(n) = state.ids.get(&id) {
        return *n;
    }
    let n = state.threads.len();
    state.ids.insert(id, n);
    state.threads.push(ThreadInfo::default());
    n
}

/// Starts a new iteration: forgets everything recorded before.
pub fn reset(iteration: usize) {
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    *guard = Some(State {
        iteration,
        ..State::default()
    });
}

pub(crate) fn register(kind: String, loc: Loc) -> ObjId {
    with(|s| {
        s.objects.push(Object { kind, loc });
        ObjId(s.objects.len() - 1)
    })
}

/// Records that the running thread did `verb` (with up to two values) on
/// `obj` at `loc`.
pub(crate) fn event(
    obj: Option<ObjId>,
    loc: Option<Loc>,
    verb: &'static str,
    values: [Option<String>; 2],
) {
    // A copy only for an observed call: this runs at every step of every
    // explored interleaving.
    let observed = crate::observe::active().then(|| values.clone());
    let thread = with(|s| {
        let thread = current(s);
        if s.events.len() >= MAX_EVENTS {
            s.dropped += 1;
            return thread;
        }
        s.events.push(Event {
            thread,
            verb,
            values,
            obj,
            loc,
        });
        thread
    });
    // Outside the lock: an observed call yields to the other threads here.
    if let Some(values) = observed {
        crate::observe::event(thread, obj.map(|o| o.0), &loc_str(loc), verb, &values);
    }
}

/// The number of the running model thread (see [`current`]).
pub(crate) fn me() -> usize {
    with(current)
}

pub(crate) fn blocked(wait: Wait, loc: Loc) {
    with(|s| {
        let t = current(s);
        s.threads[t].blocked = Some((wait, loc));
    });
}

pub(crate) fn unblocked() {
    with(|s| {
        let t = current(s);
        s.threads[t].blocked = None;
    });
}

pub(crate) fn acquired(obj: ObjId, mode: &'static str, loc: Loc) {
    with(|s| {
        let t = current(s);
        s.held.push((t, obj, mode, loc));
    });
}

pub(crate) fn released(obj: ObjId) {
    with(|s| {
        let t = current(s);
        if let Some(i) = s.held.iter().rposition(|h| h.0 == t && h.1 == obj) {
            s.held.remove(i);
        }
    });
}

/// Numbers a thread that is about to be spawned; `None` when the model
/// would exceed loom's thread limit.
pub(crate) fn spawning(loc: Loc) -> Option<usize> {
    with(|s| {
        current(s);
        // loom allows 5 threads per execution, the main thread included.
        if s.threads.len() >= 5 {
            return None;
        }
        s.threads.push(ThreadInfo {
            spawned_at: Some(loc),
            ..ThreadInfo::default()
        });
        Some(s.threads.len() - 1)
    })
}

/// Called first thing on a spawned thread.
pub(crate) fn started(n: usize) {
    with(|s| {
        let id = loom::thread::current().id();
        s.ids.insert(id, n);
    });
}

pub(crate) fn finished() {
    with(|s| {
        let t = current(s);
        s.threads[t].finished = true;
    });
}

pub(crate) fn sender_created(chan: ObjId, loc: Loc) -> usize {
    with(|s| {
        s.next_sender += 1;
        s.senders.insert((chan, s.next_sender), loc);
        s.next_sender
    })
}

pub(crate) fn sender_dropped(chan: ObjId, sender: usize) {
    with(|s| {
        s.senders.remove(&(chan, sender));
    });
}

/// Escapes one field of the line protocol (tabs and newlines separate).
pub(crate) fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

fn loc_str(loc: Option<Loc>) -> String {
    match loc {
        Some(l) => format!("{}:{}", l.file(), l.line()),
        None => String::new(),
    }
}

fn wait_str(w: Wait) -> String {
    match w {
        Wait::Lock(o) => format!("lock\t{}", o.0),
        Wait::Read(o) => format!("read\t{}", o.0),
        Wait::Write(o) => format!("write\t{}", o.0),
        Wait::Condvar(c, m) => format!("condvar\t{}\t{}", c.0, m.0),
        Wait::Recv(o) => format!("recv\t{}", o.0),
        Wait::Send(o) => format!("send\t{}", o.0),
        Wait::Join(t) => format!("join\t{t}"),
        Wait::Barrier(o) => format!("barrier\t{}", o.0),
        Wait::Park => "park".to_string(),
    }
}

/// Renders the state as protocol lines, each starting with `prefix`.
/// Uses `try_lock`: the panic hook may run while the state is locked.
pub fn dump(prefix: &str) -> String {
    let mut out = String::new();
    let guard = match STATE.try_lock() {
        Ok(g) => g,
        Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => return out,
    };
    let Some(s) = guard.as_ref() else {
        return out;
    };
    let _ = writeln!(out, "{prefix}iteration\t{}", s.iteration);
    for (i, o) in s.objects.iter().enumerate() {
        let _ = writeln!(
            out,
            "{prefix}object\t{i}\t{}\t{}",
            esc(&o.kind),
            esc(&loc_str(Some(o.loc)))
        );
    }
    for e in &s.events {
        let obj = e.obj.map(|o| o.0.to_string()).unwrap_or_default();
        let v = |i: usize| e.values[i].as_deref().map(esc).unwrap_or_default();
        let _ = writeln!(
            out,
            "{prefix}event\t{}\t{obj}\t{}\t{}\t{}\t{}",
            e.thread,
            esc(&loc_str(e.loc)),
            e.verb,
            v(0),
            v(1)
        );
    }
    if s.dropped > 0 {
        let _ = writeln!(out, "{prefix}dropped\t{}", s.dropped);
    }
    for (i, t) in s.threads.iter().enumerate() {
        let state = if t.finished {
            "finished".to_string()
        } else if let Some((w, l)) = t.blocked {
            format!("blocked\t{}\t{}", esc(&loc_str(Some(l))), wait_str(w))
        } else {
            "running".to_string()
        };
        let _ = writeln!(
            out,
            "{prefix}thread\t{i}\t{}\t{state}",
            esc(&loc_str(t.spawned_at))
        );
    }
    for (t, o, mode, l) in &s.held {
        let _ = writeln!(
            out,
            "{prefix}held\t{t}\t{}\t{mode}\t{}",
            o.0,
            esc(&loc_str(Some(l)))
        );
    }
    let mut senders: Vec<_> = s.senders.iter().collect();
    senders.sort_by_key(|((c, n), _)| (c.0, *n));
    for ((c, _), l) in senders {
        let _ = writeln!(out, "{prefix}sender\t{}\t{}", c.0, esc(&loc_str(Some(l))));
    }
    out
}
