use std::sync::{Arc, Mutex};
use std::thread;

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = Arc::new(Mutex::new(0usize));
    let mut handles = Vec::new();
    for _ in 0..threads {
        let count = Arc::clone(&count);
        handles.push(thread::spawn(move || {
            for _ in 0..increments {
                *count.lock().unwrap() += 1;
            }
        }));
    }
    for handle in handles {
        handle.join().unwrap();
    }
    let total = *count.lock().unwrap();
    total
}
