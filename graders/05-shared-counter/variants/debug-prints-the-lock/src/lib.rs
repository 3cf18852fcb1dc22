use std::sync::{Arc, Mutex};
use std::thread;

/// The shared state, printable for debugging.
#[derive(Debug, Default)]
struct Tally {
    count: Mutex<usize>,
}

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let tally = Arc::new(Tally::default());
    let mut handles = Vec::new();
    for _ in 0..threads {
        let tally = Arc::clone(&tally);
        handles.push(thread::spawn(move || {
            for _ in 0..increments {
                *tally.count.lock().unwrap() += 1;
            }
        }));
    }
    for handle in handles {
        handle.join().unwrap();
    }
    let shown = format!("{tally:?}");
    assert!(shown.starts_with("Tally { count: Mutex { data: "), "{shown}");
    let total = *tally.count.lock().unwrap();
    total
}
