use std::sync::mpsc;
use std::thread;

/// Scoped workers borrow their slice of `numbers`; each sends its sum.
pub fn parallel_sum(numbers: Vec<u64>, workers: usize) -> u64 {
    let workers = workers.max(1);
    let (tx, rx) = mpsc::channel();
    thread::scope(|s| {
        for w in 0..workers {
            let part = &numbers[w * numbers.len() / workers..(w + 1) * numbers.len() / workers];
            let tx = tx.clone();
            s.spawn(move || tx.send(part.iter().sum::<u64>()).unwrap());
        }
    });
    drop(tx);
    rx.iter().sum()
}
