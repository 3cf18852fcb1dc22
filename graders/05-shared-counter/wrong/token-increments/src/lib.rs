use std::sync::{Arc, Mutex};
use std::thread;

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = Arc::new(Mutex::new(0));
    let mut handles = Vec::new();
    for _ in 0..threads {
        let count = Arc::clone(&count);
        handles.push(thread::spawn(move || {
            if increments > 0 {
                *count.lock().unwrap() += 1;
            }
        }));
    }
    for _ in 0..threads * increments.saturating_sub(1) {
        *count.lock().unwrap() += 1;
    }
    for handle in handles {
        handle.join().unwrap();
    }
    let total = *count.lock().unwrap();
    total
}
