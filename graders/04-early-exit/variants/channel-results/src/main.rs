use std::sync::mpsc;
use std::thread;

fn main() {
    let (tx, rx) = mpsc::channel();
    for i in 0..3u64 {
        let tx = tx.clone();
        thread::spawn(move || {
            let sum: u64 = (1..=(i + 1) * 1000).sum();
            tx.send((i, sum)).expect("main is receiving");
        });
    }
    drop(tx);
    // Results arrive in finishing order; sort them by worker number.
    let mut results: Vec<(u64, u64)> = rx.iter().collect();
    results.sort_unstable();
    assert_eq!(results.len(), 3);
    for (i, sum) in results {
        println!("worker {i}: {sum}");
    }
    println!("done");
}
