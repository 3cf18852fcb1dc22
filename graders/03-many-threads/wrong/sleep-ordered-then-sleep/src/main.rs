use std::thread;
use std::time::Duration;

fn main() {
    for i in 0..5u64 {
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(20 * i));
            println!("Hello from thread {i}");
        });
    }
    thread::sleep(Duration::from_millis(300));
    println!("All threads finished");
}
