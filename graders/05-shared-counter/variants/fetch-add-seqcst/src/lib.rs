use std::sync::{
    atomic::{AtomicUsize, Ordering::SeqCst},
    Arc,
};
use std::thread::{self, JoinHandle};

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count = Arc::new(AtomicUsize::new(0));
    let handles: Vec<JoinHandle<()>> = (0..threads)
        .map(|_| {
            let count = count.clone();
            thread::spawn(move || {
                (0..increments).for_each(|_| {
                    count.fetch_add(1, SeqCst);
                })
            })
        })
        .collect();
    handles
        .into_iter()
        .for_each(|h| h.join().expect("counting thread"));
    Arc::try_unwrap(count)
        .expect("every thread has finished")
        .into_inner()
}
