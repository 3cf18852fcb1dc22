//! Reference solution for exercise {id}: {title}.
use std::sync::{Arc, Mutex};
use std::thread;

/// Sums each part on its own thread into one shared total, and returns it.
pub fn parallel_total(parts: Vec<Vec<u64>>) -> u64 {
    let total = Arc::new(Mutex::new(0u64));
    let handles: Vec<_> = parts
        .into_iter()
        .map(|part| {
            let total = Arc::clone(&total);
            thread::spawn(move || {
                let sum: u64 = part.iter().sum();
                *total.lock().unwrap() += sum;
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a summing thread panicked");
    }
    let total = *total.lock().unwrap();
    total
}
