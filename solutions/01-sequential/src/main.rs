//! Reference solution for exercise 01: the main function and blocking.

use std::thread;
use std::time::Duration;

/// A task that takes a while, like downloading a file.
fn run_task(id: u32) {
    println!("Task {id} started");
    // Pretend to work.
    thread::sleep(Duration::from_millis(100));
}

fn main() {
    // An ordinary call blocks `main` until `run_task` returns, so the next
    // line can only run once the work is done.
    run_task(1);
    println!("Task 1 finished");
}
