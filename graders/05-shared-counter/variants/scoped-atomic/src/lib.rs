use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// Scoped threads borrow the counter from this stack frame: no `Arc`.
pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..increments {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    count.into_inner()
}
