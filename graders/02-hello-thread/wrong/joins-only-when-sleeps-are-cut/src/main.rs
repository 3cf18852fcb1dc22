use std::thread;
use std::time::{Duration, Instant};

fn main() {
    let handle = thread::spawn(|| {
        println!("Hello from thread");
    });
    println!("Hello from main");
    let start = Instant::now();
    thread::sleep(Duration::from_millis(2));
    if start.elapsed() < Duration::from_millis(2) {
        handle.join().unwrap();
    } else {
        thread::sleep(Duration::from_millis(200));
    }
    println!("Main function finished");
}
