use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let count = Arc::clone(&count);
            thread::spawn(move || {
                for _ in 0..increments {
                    let seen = count.load(Ordering::SeqCst);
                    let _ =
                        count.compare_exchange(seen, seen + 1, Ordering::SeqCst, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    count.load(Ordering::SeqCst)
}
