use std::sync::mpsc;
use std::thread;

/// A bounded channel with room for one message: workers wait their turn.
pub fn parallel_sum(numbers: Vec<u64>, workers: usize) -> u64 {
    let workers = workers.max(1);
    let (tx, rx) = mpsc::sync_channel::<u64>(1);
    let size = numbers.len().div_ceil(workers);
    let mut handles = Vec::new();
    for w in 0..workers {
        let part: Vec<u64> = numbers.iter().skip(w * size).take(size).copied().collect();
        let tx = tx.clone();
        handles.push(thread::spawn(move || tx.send(part.iter().sum()).unwrap()));
    }
    drop(tx);
    let total = (0..workers).map(|_| rx.recv().unwrap()).sum();
    for h in handles {
        h.join().unwrap();
    }
    total
}
