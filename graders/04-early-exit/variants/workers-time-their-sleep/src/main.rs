use std::thread;
use std::time::{Duration, Instant};

fn main() {
    let handles: Vec<_> = (0..3u64)
        .map(|i| {
            thread::spawn(move || {
                // Pretends the work takes a while, and checks its own clock:
                // a sleep lasts at least what it asked for.
                let start = Instant::now();
                thread::sleep(Duration::from_millis(20));
                let took = start.elapsed();
                assert!(took >= Duration::from_millis(20), "slept only {took:?}");
                (1..=(i + 1) * 1000).sum::<u64>()
            })
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        println!("worker {i}: {}", handle.join().unwrap());
    }
    println!("done");
}
