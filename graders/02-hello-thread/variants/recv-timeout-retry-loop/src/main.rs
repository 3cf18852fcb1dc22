use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

fn main() {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        println!("Hello from thread");
        tx.send(()).unwrap();
    });
    println!("Hello from main");
    loop {
        match rx.recv_timeout(Duration::from_millis(10)) {
            Ok(()) => break,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => panic!("the thread hung up"),
        }
    }
    println!("Main function finished");
}
