use std::sync::mpsc;
use std::sync::Arc;
use std::thread;

pub fn parallel_sum(numbers: Vec<u64>, workers: usize) -> u64 {
    let workers = workers.max(1);
    if numbers.is_empty() {
        return 0;
    }
    let numbers = Arc::new(numbers);
    let chunk = numbers.len().div_ceil(workers);
    let (tx, rx) = mpsc::channel();
    for w in 0..workers {
        let numbers = Arc::clone(&numbers);
        let tx = tx.clone();
        thread::spawn(move || {
            let start = (w * chunk).min(numbers.len() - 1);
            let end = ((w + 1) * chunk).min(numbers.len() - 1);
            let partial: u64 = if w * chunk < numbers.len() {
                numbers[start..=end].iter().sum()
            } else {
                0
            };
            tx.send(partial).unwrap();
        });
    }
    drop(tx);
    rx.iter().sum()
}
