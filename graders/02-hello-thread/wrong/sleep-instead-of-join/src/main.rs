use std::thread;
use std::time::Duration;

fn main() {
    thread::spawn(|| {
        println!("Hello from thread");
    });
    println!("Hello from main");
    thread::sleep(Duration::from_millis(1000));
    println!("Main function finished");
}
