use std::sync::{Arc, Barrier};
use std::thread;

fn main() {
    let barrier = Arc::new(Barrier::new(2));
    let thread_barrier = Arc::clone(&barrier);
    thread::spawn(move || {
        println!("Hello from thread");
        thread_barrier.wait();
    });
    println!("Hello from main");
    // Both sides have printed once both have reached the barrier.
    barrier.wait();
    println!("Main function finished");
}
