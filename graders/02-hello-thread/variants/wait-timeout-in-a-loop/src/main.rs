use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

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
    let mut finished = flag.lock().unwrap();
    while !*finished {
        finished = signal
            .wait_timeout(finished, Duration::from_millis(10))
            .unwrap()
            .0;
    }
    println!("Main function finished");
}
