use std::sync::mpsc;
use std::thread;

pub fn parallel_sum(numbers: Vec<u64>, workers: usize) -> u64 {
    let workers = workers.max(1);
    let (sender, receiver) = mpsc::channel();
    let chunk = numbers.len().div_ceil(workers).max(1);
    for part in numbers.chunks(chunk) {
        let part = part.to_vec();
        let sender = sender.clone();
        thread::spawn(move || {
            sender.send(part.iter().sum::<u64>()).unwrap();
        });
    }
    let mut total = 0;
    for partial in receiver {
        total += partial;
    }
    total
}
