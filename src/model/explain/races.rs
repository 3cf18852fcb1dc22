//! What went wrong in an interleaving, found from its events: which steps
//! read and which wrote a shared value, a write based on a read that
//! another thread's write made stale (a lost update), and a multi-part
//! value read half before and half after another thread changed it (a
//! torn read).

use super::report::{Event, Report};

impl Report {
    /// How the value of each object was accessed: reads that a later write
    /// of the same thread was based on, with another thread's write in
    /// between — a lost update (or a decision made on a stale value).
    pub(super) fn stale_writes(&self) -> Vec<StaleWrite> {
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

    /// Two reads by one thread of two different objects, with another
    /// thread writing both in between: a multi-part value seen half old,
    /// half new.
    pub(super) fn torn_read(&self) -> Option<Torn> {
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
}

/// The value an event left in its object, if it wrote one.
pub(super) fn written_value(e: &Event) -> Option<&String> {
    match access(e) {
        Access::Write => Some(&e.values[0]),
        Access::Update => Some(&e.values[1]),
        _ => None,
    }
}

#[derive(Debug)]
pub(super) struct Torn {
    pub(super) first: usize,
    pub(super) other_first: usize,
    pub(super) other_second: usize,
    pub(super) second: usize,
}

#[derive(Debug)]
pub(super) struct StaleWrite {
    pub(super) read: usize,
    pub(super) others: Vec<usize>,
    pub(super) write: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Access {
    /// Reads the value and may act on it later (a load; a lock section
    /// that only read).
    Read,
    /// Writes a value (a store; a lock section that wrote).
    Write,
    /// Reads and writes in one indivisible step (fetch_add, a CAS).
    Update,
    Other,
}

pub(super) fn access(e: &Event) -> Access {
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
