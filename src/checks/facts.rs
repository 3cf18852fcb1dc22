//! Categories from facts: what a run's thread trace proves about how `main`
//! waited for its threads, so that a failure's category is decided by what
//! the program did, not by which of its threads happened to finish first.
//!
//! In the perturbed runs the schedule follows from the program (a thread
//! starts when every other waits by synchronization, or before its spawner
//! goes on), so the same program leaves the same facts on an idle machine
//! and beside CPU hogs:
//!
//! - `main` waited *by time* (a sleep, a timed wait, `yield_now`, a loop on
//!   the clock) while threads it never joined were still running or had not
//!   started: `sleep-reliance`;
//! - `main` returned while threads it never joined had not finished:
//!   `early-exit`;
//! - a spawned thread slept or waited by time: its output's order came from
//!   the sleeps, `sleep-reliance`.
//!
//! The trace is the shim's, written where the program cannot write
//! (`crate::perturb::channel`), so these facts are not the program's say.

use crate::trace::{RepeatKind, SleepEvent, Stamp, Trace};

/// Clock reads in a row by `main`, with nothing else in between, that make
/// a loop on the clock rather than a measurement (a loop on `Instant` reads
/// it millions of times; timing a step reads it twice).
const CLOCK_LOOP: u64 = 1000;

/// How `main` waited by time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeWait {
    /// A sleep (`thread::sleep`).
    Sleep(SleepEvent),
    /// A wait that ended by its timeout: `recv_timeout`, `park_timeout`,
    /// `Condvar::wait_timeout`.
    Timeout(SleepEvent),
    /// `count` calls of `yield_now`.
    Yields(u64),
    /// `count` clock reads in a row: a loop on `Instant::elapsed`.
    ClockLoop(u64),
}

/// What a failing run's trace shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// `main` waited by time while `threads`, never joined, had not
    /// finished.
    WaitedByTime { how: TimeWait, threads: Vec<usize> },
    /// `main` returned while `threads`, never joined, had not finished.
    LeftEarly { threads: Vec<usize> },
    /// A spawned thread slept or waited by time.
    OrderedBySleep(SleepEvent),
}

impl Finding {
    /// Which finding explains a failure best when several runs failed:
    /// waiting by time names the line to change.
    pub fn rank(&self) -> u8 {
        match self {
            Finding::WaitedByTime { .. } => 0,
            Finding::LeftEarly { .. } => 1,
            Finding::OrderedBySleep(_) => 2,
        }
    }
}

/// Spawned threads that had not finished at `at` and that nobody ever
/// joined.
fn unjoined_alive(trace: &Trace, at: Stamp) -> Vec<usize> {
    trace
        .spawned()
        .iter()
        .filter(|t| t.running_at(at) && t.joined.is_none())
        .map(|t| t.index)
        .collect()
}

/// `main`'s waits by time, in the order it made them.
fn main_waits(trace: &Trace) -> Vec<(Stamp, TimeWait)> {
    let mut waits: Vec<(Stamp, TimeWait)> = Vec::new();
    for s in trace.sleeps.iter().filter(|s| s.thread == Some(0)) {
        waits.push((s.at, TimeWait::Sleep(s.clone())));
    }
    for w in trace.timed_waits.iter().filter(|w| w.thread == Some(0)) {
        waits.push((w.at, TimeWait::Timeout(w.clone())));
    }
    for r in trace.repeats.iter().filter(|r| r.thread == Some(0)) {
        match r.kind {
            RepeatKind::Yield => waits.push((r.at, TimeWait::Yields(r.count))),
            RepeatKind::Clock if r.count >= CLOCK_LOOP => {
                waits.push((r.at, TimeWait::ClockLoop(r.count)))
            }
            // Sleeps and waits beyond the ones logged in full: the first of
            // them already stands for the kind.
            _ => {}
        }
    }
    waits.sort_by_key(|(at, _)| at.seq);
    waits
}

/// The facts of one run's trace, if they explain lost work.
pub fn find(trace: &Trace) -> Option<Finding> {
    for (at, how) in main_waits(trace) {
        let threads = unjoined_alive(trace, at);
        if !threads.is_empty() {
            return Some(Finding::WaitedByTime { how, threads });
        }
    }
    if let Some(alive) = trace.alive_at_exit() {
        let threads: Vec<usize> = alive
            .into_iter()
            .filter(|&t| trace.threads[t].joined.is_none())
            .collect();
        if !threads.is_empty() {
            return Some(Finding::LeftEarly { threads });
        }
    }
    trace
        .sleeps
        .iter()
        .chain(&trace.timed_waits)
        .filter(|s| s.thread.is_some_and(|t| t > 0))
        .min_by_key(|s| s.at.seq)
        .map(|s| Finding::OrderedBySleep(s.clone()))
}

/// The sleep a thread was in when the run was stopped: the last event of a
/// thread that never ended, if it is a sleep that was still going on at
/// `stopped_ns` (nanoseconds since the shim loaded).
pub fn sleeping_at_end(trace: &Trace, stopped_ns: u64) -> Option<&SleepEvent> {
    trace
        .sleeps
        .iter()
        .filter(|s| {
            let thread = s.thread.and_then(|t| trace.threads.get(t));
            thread.is_some_and(|t| t.finished.is_none())
                && s.at.ns.saturating_add(s.requested_ns) > stopped_ns
                && last_event_of(trace, s.thread) == Some(s.at.seq)
        })
        .max_by_key(|s| s.requested_ns)
}

/// The seq of the last logged event of `thread`.
fn last_event_of(trace: &Trace, thread: Option<usize>) -> Option<u64> {
    let t = thread.and_then(|t| trace.threads.get(t))?;
    let mut last = [t.created, t.started, t.finished, t.joined]
        .into_iter()
        .flatten()
        .map(|s| s.seq)
        .max();
    let mut see = |at: Stamp| last = Some(last.map_or(at.seq, |l: u64| l.max(at.seq)));
    for s in trace.sleeps.iter().chain(&trace.timed_waits) {
        if s.thread == thread {
            see(s.at);
        }
    }
    for w in &trace.writes {
        if w.thread == thread {
            see(w.at);
        }
    }
    for r in &trace.repeats {
        if r.thread == thread {
            see(r.at);
        }
    }
    for other in trace.spawned() {
        if other.created_by == thread
            && let Some(c) = other.created
        {
            see(c);
        }
        if other.joined_by == thread
            && let Some(j) = other.joined
        {
            see(j);
        }
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(log: &str) -> Trace {
        Trace::parse(log.as_bytes())
    }

    const HEAD: &str = "ev=init pid=1 seq=0 ns=0 t=0 v=2 ppid=0 base=0x0 exe=/p vt=1 start=late\n";

    #[test]
    fn a_sleep_while_a_held_thread_waits_is_waiting_by_time() {
        let t = trace(&format!(
            "{HEAD}\
ev=spawn pid=1 seq=1 ns=1 t=0 child=1 rc=0
ev=sleep pid=1 seq=2 ns=2 t=0 fn=clock_nanosleep abs=0 req_ns=1000000000 eff_ns=0 ra=0x1
ev=exit pid=1 seq=3 ns=3 t=0 pending=1 held=1 cpu_ns=1 pcpu_ns=1
"
        ));
        match find(&t) {
            Some(Finding::WaitedByTime {
                how: TimeWait::Sleep(s),
                threads,
            }) => {
                assert_eq!(s.requested_ns, 1_000_000_000);
                assert_eq!(threads, [1]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn yields_timeouts_and_clock_loops_are_waits_by_time() {
        let yields = trace(&format!(
            "{HEAD}\
ev=spawn pid=1 seq=1 ns=1 t=0 child=1 rc=0
ev=yield pid=1 seq=2 ns=2 t=0 n=1000
ev=exit pid=1 seq=3 ns=3 t=0 pending=1 held=1 cpu_ns=1 pcpu_ns=1
"
        ));
        assert!(matches!(
            find(&yields),
            Some(Finding::WaitedByTime {
                how: TimeWait::Yields(1000),
                ..
            })
        ));
        let timeout = trace(&format!(
            "{HEAD}\
ev=spawn pid=1 seq=1 ns=1 t=0 child=1 rc=0
ev=wait pid=1 seq=2 ns=2 t=0 fn=futex abs=1 req_ns=100000000 eff_ns=0 ra=0x1
ev=exit pid=1 seq=3 ns=3 t=0 pending=1 held=1 cpu_ns=1 pcpu_ns=1
"
        ));
        assert!(matches!(
            find(&timeout),
            Some(Finding::WaitedByTime {
                how: TimeWait::Timeout(_),
                ..
            })
        ));
        // Two clock reads time a step; a million are a loop.
        let timing = trace(&format!(
            "{HEAD}\
ev=spawn pid=1 seq=1 ns=1 t=0 child=1 rc=0
ev=clock pid=1 seq=2 ns=2 t=0 n=2
ev=exit pid=1 seq=3 ns=3 t=0 pending=1 held=1 cpu_ns=1 pcpu_ns=1
"
        ));
        assert!(matches!(find(&timing), Some(Finding::LeftEarly { .. })));
        let looping = trace(&format!(
            "{HEAD}\
ev=spawn pid=1 seq=1 ns=1 t=0 child=1 rc=0
ev=clock pid=1 seq=2 ns=2 t=0 n=1000000
ev=exit pid=1 seq=3 ns=3 t=0 pending=1 held=1 cpu_ns=1 pcpu_ns=1
"
        ));
        assert!(matches!(
            find(&looping),
            Some(Finding::WaitedByTime {
                how: TimeWait::ClockLoop(1000000),
                ..
            })
        ));
    }

    #[test]
    fn a_wait_by_time_before_the_spawn_or_after_the_join_is_harmless() {
        let t = trace(&format!(
            "{HEAD}\
ev=sleep pid=1 seq=1 ns=1 t=0 fn=clock_nanosleep abs=0 req_ns=5 eff_ns=0 ra=0x1
ev=spawn pid=1 seq=2 ns=2 t=0 child=1 rc=0
ev=start pid=1 seq=3 ns=3 t=1 delay_ns=5 why=quiescent
ev=end pid=1 seq=4 ns=4 t=1 how=return cpu_ns=1
ev=join pid=1 seq=5 ns=5 t=0 target=1 rc=0
ev=yield pid=1 seq=6 ns=6 t=0 n=3
ev=exit pid=1 seq=7 ns=7 t=0 pending=0 held=0 cpu_ns=1 pcpu_ns=1
"
        ));
        assert_eq!(find(&t), None);
    }

    #[test]
    fn returning_with_an_unjoined_thread_is_leaving_early() {
        let t = trace(&format!(
            "{HEAD}\
ev=spawn pid=1 seq=1 ns=1 t=0 child=1 rc=0
ev=spawn pid=1 seq=2 ns=2 t=0 child=2 rc=0
ev=start pid=1 seq=3 ns=3 t=1 delay_ns=5 why=quiescent
ev=end pid=1 seq=4 ns=4 t=1 how=return cpu_ns=1
ev=join pid=1 seq=5 ns=5 t=0 target=1 rc=0
ev=exit pid=1 seq=6 ns=6 t=0 pending=1 held=1 cpu_ns=1 pcpu_ns=1
"
        ));
        assert_eq!(find(&t), Some(Finding::LeftEarly { threads: vec![2] }));
    }

    #[test]
    fn a_sleeping_thread_orders_the_output() {
        let t = trace(&format!(
            "{HEAD}\
ev=spawn pid=1 seq=1 ns=1 t=0 child=1 rc=0
ev=start pid=1 seq=2 ns=2 t=1 delay_ns=5 why=quiescent
ev=sleep pid=1 seq=3 ns=3 t=1 fn=clock_nanosleep abs=0 req_ns=20000000 eff_ns=0 ra=0x1
ev=end pid=1 seq=4 ns=4 t=1 how=return cpu_ns=1
ev=join pid=1 seq=5 ns=5 t=0 target=1 rc=0
ev=exit pid=1 seq=6 ns=6 t=0 pending=0 held=0 cpu_ns=1 pcpu_ns=1
"
        ));
        assert!(matches!(find(&t), Some(Finding::OrderedBySleep(s)) if s.thread == Some(1)));
    }

    #[test]
    fn the_sleep_going_on_when_the_run_was_stopped() {
        let t = trace(
            "ev=init pid=1 seq=0 ns=0 t=0 v=2 ppid=0 base=0x0 exe=/p
ev=spawn pid=1 seq=1 ns=1000 t=0 child=1 rc=0
ev=sleep pid=1 seq=2 ns=2000 t=0 fn=clock_nanosleep abs=0 req_ns=11000000000 eff_ns=11000000000 ra=0x1
ev=start pid=1 seq=3 ns=3000 t=1 delay_ns=0
ev=end pid=1 seq=4 ns=4000 t=1 how=return cpu_ns=1
",
        );
        let s = sleeping_at_end(&t, 10_000_000_000).unwrap();
        assert_eq!(s.requested_ns, 11_000_000_000);
        // A sleep that was over by then, or followed by other events, is not.
        assert!(sleeping_at_end(&t, 12_000_000_000).is_none());
    }
}
