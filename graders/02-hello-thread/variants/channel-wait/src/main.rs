use std::sync::mpsc;
use std::thread;

fn main() {
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        println!("Hello from thread");
        done_tx.send(()).expect("main is waiting");
    });
    println!("Hello from main");
    // Blocks until the thread has printed its line.
    done_rx.recv().expect("the thread reports back");
    println!("Main function finished");
}
