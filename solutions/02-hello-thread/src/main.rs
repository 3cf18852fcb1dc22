//! Reference solution for exercise 02: creating a thread.

use std::thread;

fn main() {
    let handle = thread::spawn(|| {
        println!("Hello from thread");
    });

    // Runs while the spawned thread runs: either line may come first.
    println!("Hello from main");

    // `join` blocks until the thread has finished: exactly as long as it
    // needs, however slow the machine. (It returns `Err` if the thread
    // panicked; we pass that panic on.)
    handle.join().expect("the spawned thread panicked");

    println!("Main function finished");
}
