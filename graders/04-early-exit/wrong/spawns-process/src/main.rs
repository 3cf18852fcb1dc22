use std::process::Command;
use std::thread;

fn main() {
    let handles: Vec<_> = (0..3u64)
        .map(|i| thread::spawn(move || (1..=(i + 1) * 1000).sum::<u64>()))
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        println!("worker {i}: {}", handle.join().unwrap());
    }
    let _ = Command::new("true").status();
    println!("done");
}
