use std::sync::mpsc;
use std::thread;

/// Each worker sends `(its number, its partial sum)`: a tuple, which the
/// caller unpacks.
pub fn parallel_sum(numbers: Vec<u64>, workers: usize) -> u64 {
    let workers = workers.max(1);
    let (tx, rx) = mpsc::channel();
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let part: Vec<u64> = numbers.iter().skip(w).step_by(workers).copied().collect();
            let tx = tx.clone();
            thread::spawn(move || tx.send((w, part.iter().sum::<u64>())).unwrap())
        })
        .collect();
    drop(tx);
    let total = rx.iter().map(|(_, partial)| partial).sum();
    for h in handles {
        h.join().unwrap();
    }
    total
}
