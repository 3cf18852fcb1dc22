//! Exercise 01: the main function and blocking.
//!
//! Run it with `cargo run` in this folder and compare what it prints with the
//! task in README.md.

use std::thread;
use std::time::Duration;

/// A task that takes a while, like downloading a file.
fn run_task(id: u32) {
    println!("Task {id} started");
    // Pretend to work. (Sleeping is fine here: nothing is waiting for
    // anything, we only make the task slow enough to notice.)
    thread::sleep(Duration::from_millis(100));
}

fn main() {
    // TODO: the program must also print `Task 1 finished`, once the task is
    // done. `run_task(1)` is an ordinary function call: `main` stops at it
    // and only goes on when the function has returned. Use that: where must
    // the line go so that it can only appear after the work?
    run_task(1);
}
