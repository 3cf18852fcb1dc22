use std::thread;
use std::time::{Duration, Instant};

fn main() {
    thread::spawn(|| {
        println!("Hello from thread");
    });
    println!("Hello from main");
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(300) {}
    println!("Main function finished");
}
