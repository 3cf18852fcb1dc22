//! Locks the count right on every increment, but reads the total as soon
//! as the threads are started, without joining them: the answer is
//! whatever the threads had done by then.

use std::sync::{Arc, Mutex};
use std::thread;

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = Arc::new(Mutex::new(0));
    let mut handles = Vec::new();
    for _ in 0..threads {
        let count = Arc::clone(&count);
        handles.push(thread::spawn(move || {
            for _ in 0..increments {
                *count.lock().unwrap() += 1;
            }
        }));
    }
    let total = *count.lock().unwrap();
    drop(handles);
    total
}
