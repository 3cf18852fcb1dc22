use std::thread;
use std::time::Duration;

fn main() {
    let main_thread = thread::current();
    thread::spawn(move || {
        println!("Hello from thread");
        main_thread.unpark();
    });
    println!("Hello from main");
    thread::park_timeout(Duration::from_millis(100));
    println!("Main function finished");
}
