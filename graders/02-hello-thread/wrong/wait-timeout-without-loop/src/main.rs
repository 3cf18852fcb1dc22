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
    let guard = flag.lock().unwrap();
    // Waits once and never looks at the flag.
    let _ = signal.wait_timeout(guard, Duration::from_millis(100)).unwrap();
    println!("Main function finished");
}
