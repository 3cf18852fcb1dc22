//! Reference solution for exercise 06: summing over a channel.

use std::sync::mpsc;
use std::sync::Arc;
use std::thread;

/// Splits `numbers` over `workers` threads (at least one); each thread sends
/// the sum of its part over an `std::sync::mpsc` channel, and the caller adds
/// up what it receives.
pub fn parallel_sum(numbers: Vec<u64>, workers: usize) -> u64 {
    let workers = workers.max(1);
    // Shared, read-only: every worker reads its own slice of the same vector.
    let numbers = Arc::new(numbers);
    let (sender, receiver) = mpsc::channel();

    let handles: Vec<_> = (0..workers)
        .map(|worker| {
            let numbers = Arc::clone(&numbers);
            let sender = sender.clone();
            thread::spawn(move || {
                // Worker `w` takes `[w * len / workers, (w + 1) * len / workers)`:
                // the parts cover every index exactly once, differ in size
                // by at most one, and are empty when there are more workers
                // than numbers.
                let start = worker * numbers.len() / workers;
                let end = (worker + 1) * numbers.len() / workers;
                let partial: u64 = numbers[start..end].iter().sum();
                sender
                    .send(partial)
                    .expect("the receiver waits for every partial sum");
            })
        })
        .collect();

    // The workers hold their own clones. Dropping ours means the channel
    // closes once every worker is done, so if a worker dies before sending,
    // `recv` reports it instead of waiting forever.
    drop(sender);

    // Exactly one message per worker: receive that many.
    let total = (0..workers)
        .map(|_| receiver.recv().expect("a worker stopped before sending"))
        .sum();

    for handle in handles {
        handle.join().expect("a worker panicked");
    }
    total
}
