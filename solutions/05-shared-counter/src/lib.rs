//! Reference solution for exercise 05: a shared counter.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

/// Spawns `threads` threads that each add 1 to one shared count `increments`
/// times, and returns the count.
pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = Arc::new(AtomicUsize::new(0));

    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let count = Arc::clone(&count);
            thread::spawn(move || {
                for _ in 0..increments {
                    // Read, add and write back in one indivisible step: no
                    // other thread can slip in between, so no update is
                    // lost. `Relaxed` is enough because nothing else is
                    // published through this counter, and `join` below makes
                    // every increment visible before we read the total.
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    for handle in handles {
        handle.join().expect("a counting thread panicked");
    }
    count.load(Ordering::Relaxed)
}
