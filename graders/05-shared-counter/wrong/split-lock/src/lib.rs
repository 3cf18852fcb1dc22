use std::sync::{Arc, Mutex};
use std::thread;

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = Arc::new(Mutex::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let count = Arc::clone(&count);
            thread::spawn(move || {
                for _ in 0..increments {
                    let current = *count.lock().unwrap();
                    *count.lock().unwrap() = current + 1;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let total = *count.lock().unwrap();
    total
}
