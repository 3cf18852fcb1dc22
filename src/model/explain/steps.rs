//! How the steps of an interleaving are worded for a student: threads by
//! number ("the main thread", "thread 2"), objects by kind and order ("the
//! 2nd Mutex<u64>", with where each was made), places as their own files
//! show them, and each event as a sentence.

use super::races::{Access, access, written_value};
use super::report::{Event, Report};
use std::fmt::Write as _;

pub(super) fn thread_name(t: usize) -> String {
    if t == 0 {
        "the main thread".into()
    } else {
        format!("thread {t}")
    }
}

pub(super) fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// A place outside the submission (the standard library, a dependency):
/// the submission's paths are remapped to relative ones.
pub(super) fn is_foreign(loc: &str) -> bool {
    loc.starts_with('/') || loc.starts_with('\\') || loc.get(1..3) == Some(":\\")
}

/// Where, for a student: `lib.rs:12`, or `the scenario (x.rs:5)`.
pub(super) fn place(loc: &str) -> String {
    match loc.strip_prefix("scenario/") {
        Some(rest) => format!("the grader's scenario ({rest})"),
        // A place [`Report::relocate`] could not bring back to the
        // student's files: never a `/rustc/...` path.
        None if is_foreign(loc) => "the standard library, called from your code".into(),
        None => loc.to_string(),
    }
}

impl Report {
    /// "the AtomicUsize", with "2nd" when there are several of one kind
    /// (one lock per account); [`Report::legend`] says where each was made.
    pub(super) fn object_name(&self, id: usize) -> String {
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
    pub(super) fn legend(&self) -> String {
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

    pub(super) fn describe(&self, e: &Event) -> String {
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
    pub(super) fn interleaving(&self, marks: &[(usize, String)], limit: usize) -> String {
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

    /// "the main thread read 10 from the 1st AtomicU64 at lib.rs:30"
    pub(super) fn short_on(&self, e: &Event) -> String {
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
    pub(super) fn short(&self, e: &Event) -> String {
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
}

pub(super) fn unlock_at(r: &Report, e: &Event) -> String {
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
pub(super) fn order_note(e: &Event) -> String {
    match e.values[1].as_str() {
        "Relaxed" | "Acquire" => format!(
            ": with `Ordering::{}` a thread may still see a value another thread has overwritten",
            e.values[1]
        ),
        _ => String::new(),
    }
}

pub(super) fn read_value(e: &Event) -> String {
    if e.values[0].is_empty() {
        "it".into()
    } else {
        e.values[0].clone()
    }
}

pub(super) fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
