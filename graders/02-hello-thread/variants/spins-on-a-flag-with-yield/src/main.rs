use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

fn main() {
    let done = Arc::new(AtomicBool::new(false));
    let thread_done = Arc::clone(&done);
    let handle = thread::spawn(move || {
        println!("Hello from thread");
        thread_done.store(true, Ordering::Release);
    });
    println!("Hello from main");
    while !done.load(Ordering::Acquire) {
        thread::yield_now();
    }
    handle.join().unwrap();
    println!("Main function finished");
}
