use std::thread;

/// No shared counter at all: each thread counts on its own and returns its
/// count through `join`.
pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let handles: Vec<thread::JoinHandle<usize>> = (0..threads)
        .map(|_| {
            thread::spawn(move || {
                let mut mine = 0;
                for _ in 0..increments {
                    mine += 1;
                }
                mine
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}
