use std::sync::{Arc, Mutex};
use std::thread;

/// Named threads from `thread::Builder`, a `Mutex` counter, and a result
/// read back with `Arc::try_unwrap`.
pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = Arc::new(Mutex::new(0usize));
    let mut handles = Vec::with_capacity(threads);
    for i in 0..threads {
        let count = Arc::clone(&count);
        let handle = thread::Builder::new()
            .name(format!("counter-{i}"))
            .spawn(move || {
                for _ in 0..increments {
                    let mut guard = count.lock().unwrap();
                    *guard += 1;
                }
            })
            .expect("a thread can be spawned");
        handles.push(handle);
    }
    handles.into_iter().for_each(|h| h.join().unwrap());
    Arc::try_unwrap(count).unwrap().into_inner().unwrap()
}
