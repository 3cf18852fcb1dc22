use std::sync::mpsc::{channel, Sender};
use std::thread;

fn worker(part: Vec<u64>, results: Sender<u64>) {
    let sum = part.into_iter().sum();
    results.send(sum).expect("the caller is receiving");
}

/// Drops its own sender, then adds whatever arrives until the channel
/// closes (when the last worker's sender is dropped).
pub fn parallel_sum(numbers: Vec<u64>, workers: usize) -> u64 {
    let (tx, rx) = channel();
    let workers = workers.max(1);
    let mut parts: Vec<Vec<u64>> = vec![Vec::new(); workers];
    for (i, n) in numbers.into_iter().enumerate() {
        parts[i % workers].push(n);
    }
    for part in parts {
        let tx = tx.clone();
        thread::spawn(move || worker(part, tx));
    }
    drop(tx);
    let mut total = 0;
    for partial in rx {
        total += partial;
    }
    total
}
