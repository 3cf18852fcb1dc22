//! A failed scenario assertion worded: as a lost update (the reads and
//! writes that lost it, and how many updates), a torn read, a
//! compare-exchange never retried, or, when no interleaving passed, a
//! wrong answer that is not a matter of timing.

use super::races::{Access, StaleWrite, access};
use super::report::{Failure, Report};
use super::steps::{order_note, place, read_value, thread_name};
use super::verdict::Verdict;
use crate::checks::Category;

impl Report {
    pub(super) fn assertion(&self, f: &Failure, scenario: &str, explored: &str) -> Verdict {
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
        let steps = self.interleaving(&marks, 60);
        let details = if steps.is_empty() {
            format!("The scenario found: {}", f.message)
        } else {
            format!("{explored}{steps}\nThe scenario then found: {}", f.message)
        };
        let unjoined = if summary.is_empty() {
            self.unjoined()
        } else {
            Vec::new()
        };
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
        } else if !unjoined.is_empty() {
            // No lost update, no torn read: the answer was taken while
            // threads that make it were still running.
            let names: Vec<String> = unjoined.iter().map(|&t| thread_name(t)).collect();
            Verdict {
                category: Category::EarlyExit,
                message: format!(
                    "{} in one interleaving of the threads ({scenario}) — the result was read while \
                     {} had not finished: nothing waits for {} (join every thread, or use a scope, \
                     before reading what the threads compute)",
                    f.message,
                    names.join(" and "),
                    if names.len() == 1 { "it" } else { "them" }
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

    /// The threads of the failing interleaving that were spawned and that
    /// nothing joined (neither a `join` nor the end of a scope).
    fn unjoined(&self) -> Vec<usize> {
        let joined = |t: &str| {
            self.events
                .iter()
                .any(|e| (e.verb == "join" || e.verb == "scope-join") && e.values[0] == t)
        };
        self.events
            .iter()
            .filter(|e| e.verb == "spawn" && !joined(&e.values[0]))
            .filter_map(|e| e.values[0].parse().ok())
            .collect()
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

#[cfg(test)]
mod tests {
    use super::super::report::table as report;
    use super::*;

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
    fn a_result_read_before_its_threads_finished_is_an_early_exit() {
        let failing = |joins: &str| {
            report(&format!(
                "fail | assert | count_concurrently(2, 2) returned 0 instead of 4 | scenario/two.rs:5
                 iteration | 2
                 object | 0 | Mutex<usize> | lib.rs:6
                 event | 0 |  | lib.rs:10 | spawn | 1 |
                 event | 0 |  | lib.rs:10 | spawn | 2 |
                 {joins}
                 event | 0 | 0 | lib.rs:16 | lock | 0 |
                 event | 0 | 0 | lib.rs:16 | unlock |  |
                 counts | 1 | 1
                 end"
            ))
        };
        let v = failing("").verdict("s").unwrap();
        assert_eq!(v.category, Category::EarlyExit);
        assert!(
            v.message
                .contains("read while thread 1 and thread 2 had not finished"),
            "{}",
            v.message
        );
        // Joined, the same short count is no early exit.
        let joined = "event | 0 |  | lib.rs:12 | scope-join | 1 |
                      event | 0 |  | lib.rs:12 | join | 2 |";
        let v = failing(joined).verdict("s").unwrap();
        assert_eq!(v.category, Category::DataRace, "{}", v.message);
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
}
