//! The verdict of a failed exploration: its category, a one-line message
//! and the numbered interleaving, by the kind of failure the harness
//! reported (a failed assertion and a deadlock have files of their own:
//! `assertion.rs`, `deadlock.rs`).

use super::report::{Report, ThreadState};
use super::steps::{capitalized, place, thread_name};
use crate::checks::Category;

/// A failing verdict: category, one-line message, longer details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub category: Category,
    pub message: String,
    pub details: String,
}

impl Report {
    /// The verdict for a failed exploration; `None` when the run did not
    /// fail (or reported nothing).
    pub fn verdict(&self, scenario: &str) -> Option<Verdict> {
        let f = self.failure.as_ref()?;
        // No step to show (the code touched nothing shared): no heading
        // over an empty list.
        let explored = if self.events.is_empty() && self.dropped == 0 {
            String::new()
        } else if self.iteration > 1 {
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

    pub(super) fn panicking_thread(&self) -> String {
        self.threads
            .iter()
            .enumerate()
            .rev()
            .find(|(_, t)| t.state == ThreadState::Running)
            .map(|(i, _)| thread_name(i))
            .unwrap_or_else(|| "a thread".into())
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::super::report::table as report;
    use super::*;

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
}
