use std::thread;
use std::time::Duration;

fn main() {
    thread::spawn(|| {
        println!("Hello from thread");
    });
    println!("Hello from main");
    // "Long enough for any thread."
    thread::sleep(Duration::from_secs(11));
    println!("Main function finished");
}
