//! Exercise {id}: {title}.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

/// Sums each part on its own thread into one shared total, and returns it.
pub fn parallel_total(parts: Vec<Vec<u64>>) -> u64 {
    let total = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = parts
        .into_iter()
        .map(|part| {
            let total = Arc::clone(&total);
            thread::spawn(move || {
                let sum: u64 = part.iter().sum();
                // TODO: two steps; another thread can write in between.
                let now = total.load(Ordering::SeqCst);
                total.store(now + sum, Ordering::SeqCst);
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a summing thread panicked");
    }
    total.load(Ordering::SeqCst)
}
