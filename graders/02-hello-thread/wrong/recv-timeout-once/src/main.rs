use std::sync::mpsc;
use std::thread;
use std::time::Duration;

fn main() {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        println!("Hello from thread");
        tx.send(()).unwrap();
    });
    println!("Hello from main");
    // Gives up after 100 ms, whether the thread has spoken or not.
    let _ = rx.recv_timeout(Duration::from_millis(100));
    println!("Main function finished");
}
