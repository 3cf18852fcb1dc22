use std::sync::mpsc;
use std::thread;

pub fn parallel_sum(numbers: Vec<u64>, workers: usize) -> u64 {
    let workers = workers.max(1);
    let chunk = numbers.len().div_ceil(workers).max(1);
    let (tx, rx) = mpsc::channel();
    let mut spawned = 0;
    for part in numbers.chunks(chunk) {
        let part = part.to_vec();
        let tx = tx.clone();
        thread::spawn(move || tx.send(part.iter().sum::<u64>()).unwrap());
        spawned += 1;
    }
    drop(tx);
    let mut total = 0;
    for _ in 1..spawned {
        total += rx.recv().unwrap();
    }
    total
}
