use std::thread;
use std::time::Duration;

fn main() {
    for i in 0..5 {
        thread::spawn(move || {
            println!("Hello from thread {i}");
        });
    }
    thread::sleep(Duration::from_millis(200));
    println!("All threads finished");
}
