use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

fn main() {
    let results = Arc::new(Mutex::new(vec![0u64; 3]));
    for i in 0..3u64 {
        let results = Arc::clone(&results);
        thread::spawn(move || {
            let sum: u64 = (1..=(i + 1) * 1000).sum();
            results.lock().unwrap()[i as usize] = sum;
        });
    }
    // Long enough for three small sums... on a good day.
    thread::sleep(Duration::from_millis(100));
    for (i, sum) in results.lock().unwrap().iter().enumerate() {
        println!("worker {i}: {sum}");
    }
    println!("done");
}
