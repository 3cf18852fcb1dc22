//! Reference solution for exercise 03: many threads at once.

use std::thread;

fn main() {
    // First start every thread, keeping the handles...
    let handles: Vec<_> = (0..5)
        .map(|i| {
            thread::spawn(move || {
                println!("Hello from thread {i}");
            })
        })
        .collect();

    // ...then wait for all of them. Between the two steps all five threads
    // are alive at once, so their lines may come in any order.
    for handle in handles {
        handle.join().expect("a thread panicked");
    }

    println!("All threads finished");
}
