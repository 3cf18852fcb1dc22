use std::sync::mpsc;
use std::thread;

pub fn parallel_sum(numbers: Vec<u64>, workers: usize) -> u64 {
    let (sender, receiver) = mpsc::channel();
    for _ in 0..workers.max(1) {
        let sender = sender.clone();
        thread::spawn(move || sender.send(0u64).unwrap());
    }
    drop(sender);
    let from_workers: u64 = receiver.iter().sum();
    from_workers + numbers.iter().sum::<u64>()
}
