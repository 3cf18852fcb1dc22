use std::sync::mpsc;
use std::thread;

fn main() {
    let (tx, rx) = mpsc::channel();
    for i in 0..3u64 {
        let tx = tx.clone();
        thread::spawn(move || {
            let sum: u64 = (1..=(i + 1) * 1000).sum();
            tx.send((i, sum)).unwrap();
        });
    }
    // Takes whatever has arrived so far instead of waiting for all three.
    let mut got: Vec<(u64, u64)> = rx.try_iter().collect();
    got.sort();
    for (i, sum) in got {
        println!("worker {i}: {sum}");
    }
    println!("done");
}
