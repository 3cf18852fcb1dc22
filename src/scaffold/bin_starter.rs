//! Exercise {id}: {title}.
use std::thread;
use std::time::Duration;

fn main() {
    thread::spawn(|| {
        println!("Hello from a thread");
    });
    // TODO: a sleep is a guess about timing. Wait for the thread itself.
    thread::sleep(Duration::from_millis(50));
    println!("Main is done");
}
