//! A racy counter that reaches std through a renamed extern crate.
macro_rules! rename {
    ($krate:ident) => {
        extern crate $krate as real_std;
    };
}
rename!(std);
use real_std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..threads {
        let count = Arc::clone(&count);
        handles.push(thread::spawn(move || {
            for _ in 0..increments {
                let seen = count.load(Ordering::SeqCst);
                count.store(seen + 1, Ordering::SeqCst);
            }
        }));
    }
    for handle in handles {
        handle.join().unwrap();
    }
    count.load(Ordering::SeqCst)
}
