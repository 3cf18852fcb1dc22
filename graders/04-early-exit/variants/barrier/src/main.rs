use std::sync::{Arc, Barrier, Mutex};
use std::thread;

fn main() {
    let sums = Arc::new(Mutex::new([0u64; 3]));
    // Three workers and main.
    let barrier = Arc::new(Barrier::new(4));
    for i in 0..3usize {
        let sums = Arc::clone(&sums);
        let barrier = Arc::clone(&barrier);
        thread::spawn(move || {
            let sum: u64 = (1..=(i as u64 + 1) * 1000).sum();
            sums.lock().unwrap()[i] = sum;
            barrier.wait();
        });
    }
    // Once main passes the barrier, every worker has stored its sum.
    barrier.wait();
    let sums = *sums.lock().unwrap();
    for (i, sum) in sums.iter().enumerate() {
        println!("worker {i}: {sum}");
    }
    println!("done");
}
