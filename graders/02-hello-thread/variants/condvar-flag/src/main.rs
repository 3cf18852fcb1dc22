use std::sync::{Arc, Condvar, Mutex};
use std::thread;

fn main() {
    let done = Arc::new((Mutex::new(false), Condvar::new()));
    let thread_done = Arc::clone(&done);
    thread::spawn(move || {
        println!("Hello from thread");
        let (flag, signal) = &*thread_done;
        *flag.lock().unwrap() = true;
        signal.notify_one();
    });
    println!("Hello from main");
    let (flag, signal) = &*done;
    let _finished = signal
        .wait_while(flag.lock().unwrap(), |finished| !*finished)
        .unwrap();
    println!("Main function finished");
}
