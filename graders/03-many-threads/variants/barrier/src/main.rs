use std::sync::{Arc, Barrier};
use std::thread;

fn main() {
    // Five threads and main: all six meet at the barrier.
    let barrier = Arc::new(Barrier::new(6));
    for i in 0..5 {
        let barrier = Arc::clone(&barrier);
        thread::spawn(move || {
            println!("Hello from thread {i}");
            barrier.wait();
        });
    }
    barrier.wait();
    println!("All threads finished");
}
