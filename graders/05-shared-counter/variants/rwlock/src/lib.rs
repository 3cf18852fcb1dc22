use std::sync::{Arc, RwLock};
use std::thread;

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = Arc::new(RwLock::new(0usize));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let count = Arc::clone(&count);
            thread::spawn(move || {
                for _ in 0..increments {
                    let mut value = count.write().unwrap();
                    *value += 1;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let total = *count.read().unwrap();
    total
}
