use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = Arc::new(AtomicUsize::new(0));
    for _ in 0..threads {
        let count = Arc::clone(&count);
        thread::spawn(move || {
            for _ in 0..increments {
                count.fetch_add(1, Ordering::SeqCst);
            }
        })
        .join()
        .unwrap();
    }
    count.load(Ordering::SeqCst)
}
