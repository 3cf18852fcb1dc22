//! The worker pool that `verify` and `batch` share: a fixed number of scoped
//! threads take items from one queue and hand each result back to the calling
//! thread, which alone prints and collects.
//!
//! Grading is CPU-bound child processes (rustc, the student's program), so
//! the pool is plain threads rather than an async runtime; each worker's
//! scratch folder is its own (research/speed.md §4–5: per-worker folders
//! scale, shared ones serialise). The only state workers share is the queue
//! index and whatever they write atomically.

use std::collections::BTreeMap;
use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// `--jobs` when it is not given: the number of cores.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Runs `work` on every item with `jobs` threads and calls `done(index,
/// result)` on the calling thread, in the order results arrive. An error
/// from `done` (say, a closed stdout) stops the workers after their current
/// item and is returned.
pub fn run<T, R, W, D>(items: &[T], jobs: usize, work: W, mut done: D) -> io::Result<()>
where
    T: Sync,
    R: Send,
    W: Fn(&T) -> R + Sync,
    D: FnMut(usize, R) -> io::Result<()>,
{
    let next = Mutex::new(0usize);
    let stop = AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(items.len().max(1)) {
            let tx = tx.clone();
            let (next, stop, work) = (&next, &stop, &work);
            scope.spawn(move || {
                loop {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = {
                        let mut n = next.lock().unwrap_or_else(|e| e.into_inner());
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(item) = items.get(i) else {
                        break;
                    };
                    if tx.send((i, work(item))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut failed = None;
        for (i, r) in rx {
            if failed.is_some() {
                continue;
            }
            if let Err(e) = done(i, r) {
                stop.store(true, Ordering::Relaxed);
                failed = Some(e);
            }
        }
        failed.map_or(Ok(()), Err)
    })
}

/// Adapts `done` so that it sees results in item order: each is held back
/// until every earlier one has been handed on (verify prints its table rows
/// this way, each as soon as it can be).
pub fn in_order<R>(
    mut done: impl FnMut(usize, R) -> io::Result<()>,
) -> impl FnMut(usize, R) -> io::Result<()> {
    let mut pending = BTreeMap::new();
    let mut shown = 0usize;
    move |i, r| {
        pending.insert(i, r);
        while let Some(r) = pending.remove(&shown) {
            done(shown, r)?;
            shown += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_once_and_in_order_when_asked() {
        let items: Vec<u64> = (0..50).collect();
        let mut seen = Vec::new();
        run(
            &items,
            4,
            |x| x * 2,
            in_order(|i, r| {
                seen.push((i, r));
                Ok(())
            }),
        )
        .unwrap();
        let want: Vec<(usize, u64)> = (0..50).map(|i| (i as usize, i * 2)).collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn an_error_from_done_stops_the_pool() {
        let items: Vec<u32> = (0..1000).collect();
        let mut calls = 0;
        let err = run(
            &items,
            2,
            |x| *x,
            |_, _| {
                calls += 1;
                Err(io::Error::other("closed"))
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "closed");
        assert_eq!(calls, 1);
    }
}
