use std::sync::{Arc, RwLock};
use std::thread;

fn main() {
    let sums = Arc::new(RwLock::new(vec![0u64; 3]));
    let handles: Vec<_> = (0..3usize)
        .map(|i| {
            let sums = Arc::clone(&sums);
            thread::spawn(move || {
                let sum: u64 = (1..=(i as u64 + 1) * 1000).sum();
                sums.write().unwrap()[i] = sum;
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let sums = sums.read().unwrap();
    for (i, sum) in sums.iter().enumerate() {
        println!("worker {i}: {sum}");
    }
    println!("done");
}
