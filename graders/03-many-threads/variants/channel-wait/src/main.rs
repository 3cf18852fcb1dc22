use std::sync::mpsc;
use std::thread;

fn main() {
    let (done_tx, done_rx) = mpsc::channel();
    for i in 0..5 {
        let done_tx = done_tx.clone();
        thread::spawn(move || {
            println!("Hello from thread {i}");
            done_tx.send(i).expect("main is waiting");
        });
    }
    drop(done_tx);
    // The channel closes when the last thread has sent and dropped its
    // sender, so this loop ends after all five have printed.
    let reported = done_rx.iter().count();
    assert_eq!(reported, 5);
    println!("All threads finished");
}
