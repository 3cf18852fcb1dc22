use std::thread::{self, JoinHandle};

fn main() {
    // Each worker returns its number along with its sum.
    let handles: Vec<JoinHandle<(u64, u64)>> = (0..3)
        .map(|i| thread::spawn(move || (i, (1..=(i + 1) * 1000).sum())))
        .collect();
    for handle in handles {
        let (i, sum) = handle.join().expect("a worker panicked");
        println!("worker {i}: {sum}");
    }
    println!("done");
}
