use std::thread;
use std::time::Duration;

fn main() {
    let handles: Vec<_> = (0..5u64)
        .map(|i| {
            thread::spawn(move || {
                // Stands in for real work of varying length.
                thread::sleep(Duration::from_millis(40 * (5 - i)));
                println!("Hello from thread {i}");
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    println!("All threads finished");
}
