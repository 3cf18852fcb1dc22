//! A racy counter whose atomics are spelled through a macro argument.
use std::sync::Arc;
use std::thread;

macro_rules! real {
    ($root:ident, $($rest:tt)*) => { $root::$($rest)* };
}
type Counter = real!(std, sync::atomic::AtomicUsize);

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = Arc::new(Counter::new(0));
    let mut handles = Vec::new();
    for _ in 0..threads {
        let count = Arc::clone(&count);
        handles.push(thread::spawn(move || {
            for _ in 0..increments {
                let seen = count.load(real!(std, sync::atomic::Ordering::SeqCst));
                count.store(seen + 1, real!(std, sync::atomic::Ordering::SeqCst));
            }
        }));
    }
    for handle in handles {
        handle.join().unwrap();
    }
    count.load(real!(std, sync::atomic::Ordering::SeqCst))
}
