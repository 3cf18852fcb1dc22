//! A deadlock worded: for each waiting thread, what it holds, where it
//! waits and for what (a lock another thread holds, a message no thread
//! will send, a sender kept alive, a join, a barrier).

use super::report::{Report, ThreadState};
use super::steps::{capitalized, place, thread_name};
use super::verdict::Verdict;
use crate::checks::Category;
use std::fmt::Write as _;

impl Report {
    pub(super) fn deadlock(&self, explored: &str) -> Verdict {
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

#[cfg(test)]
mod tests {
    use super::super::report::table as report;
    use super::*;

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
}
