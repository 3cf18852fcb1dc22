use std::thread;
use std::time::Duration;

fn main() {
    let _handle = thread::spawn(|| {
        println!("Hello from thread");
    });
    println!("Hello from main");
    thread::sleep(Duration::from_millis(10));
    println!("Main function finished");
}
