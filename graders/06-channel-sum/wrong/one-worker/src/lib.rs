use std::sync::mpsc;
use std::thread;

pub fn parallel_sum(numbers: Vec<u64>, _workers: usize) -> u64 {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        let sum: u64 = numbers.iter().sum();
        sender.send(sum).unwrap();
    });
    receiver.recv().unwrap()
}
