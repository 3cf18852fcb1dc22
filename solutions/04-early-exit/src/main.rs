//! Reference solution for exercise 04: waiting for results.

use std::thread;

/// The work of worker `i`: the sum of `1..=(i + 1) * 1000`.
fn work(i: u64) -> u64 {
    (1..=(i + 1) * 1000).sum()
}

fn main() {
    // Start all three workers, keeping each `JoinHandle<u64>`.
    let handles: Vec<_> = (0..3).map(|i| thread::spawn(move || work(i))).collect();

    // `join` waits for a worker and hands back what its closure returned.
    // Joining in index order fixes the printing order, whichever worker
    // finished first.
    for (i, handle) in handles.into_iter().enumerate() {
        let sum = handle.join().expect("a worker panicked");
        println!("worker {i}: {sum}");
    }

    println!("done");
}
