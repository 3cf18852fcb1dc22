//! Exercise 02: creating a thread (practice exercise 1).
//!
//! This program looks right when you run it. Read README.md to see why it
//! is not, and what the grader does to prove it.

use std::thread;
use std::time::Duration;

fn main() {
    // `thread::spawn` starts a new thread running the closure and returns at
    // once, without waiting for it. (It also returns a `JoinHandle` for the
    // new thread, which this program ignores.)
    thread::spawn(|| {
        println!("Hello from thread");
    });

    println!("Hello from main");

    // TODO: replace this sleep with a proper wait. A sleep is a guess about
    // how long the thread needs: on a busy or slow machine the guess is
    // wrong and the thread's line is lost, and on a fast one we wait a whole
    // second for nothing. Keep the `JoinHandle` that `thread::spawn` returns
    // and use it to wait for exactly as long as the thread needs.
    thread::sleep(Duration::from_millis(1000));

    println!("Main function finished");
}
