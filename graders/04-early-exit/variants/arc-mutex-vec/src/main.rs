use std::sync::{Arc, Mutex};
use std::thread;

fn main() {
    let results = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = (0..3u64)
        .map(|i| {
            let results = Arc::clone(&results);
            thread::spawn(move || {
                let sum: u64 = (1..=(i + 1) * 1000).sum();
                results.lock().unwrap().push((i, sum));
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let mut results = results.lock().unwrap().clone();
    results.sort_unstable();
    for (i, sum) in results {
        println!("worker {i}: {sum}");
    }
    println!("done");
}
