//! A racy counter that silences panics: its own hook, and catch_unwind.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

fn quiet() {
    std::panic::set_hook(Box::new(|_| {}));
}

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    quiet();
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
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handle.join()));
    }
    count.load(Ordering::SeqCst)
}
