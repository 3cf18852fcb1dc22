//! Exercise 05: sharing data between threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

/// Spawns `threads` threads that each add 1 to one shared count `increments`
/// times, and returns the count.
pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    // One counter, shared by every thread through an `Arc` (a reference
    // count that lets several threads own the same value).
    let count = Arc::new(AtomicUsize::new(0));

    let mut handles = Vec::with_capacity(threads);
    for _ in 0..threads {
        let count = Arc::clone(&count);
        handles.push(thread::spawn(move || {
            for _ in 0..increments {
                // TODO: this "add 1" is two steps: read the count, then write
                // back the read value plus one. Another thread can write in
                // between, and then one of the two additions is lost. Each
                // step is atomic; the pair is not. Make the whole
                // read-add-write one indivisible operation (an atomic type
                // has a method for exactly that), or protect the count with a
                // lock.
                let current = count.load(Ordering::SeqCst);
                count.store(current + 1, Ordering::SeqCst);
            }
        }));
    }

    for handle in handles {
        handle.join().expect("a counting thread panicked");
    }
    count.load(Ordering::SeqCst)
}
