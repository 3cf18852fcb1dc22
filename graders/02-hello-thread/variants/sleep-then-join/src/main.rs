use std::thread;
use std::time::Duration;

fn main() {
    let handle = thread::spawn(|| {
        println!("Hello from thread");
    });
    println!("Hello from main");
    // Pointless but harmless: the join below is what waits.
    thread::sleep(Duration::from_millis(50));
    handle.join().unwrap();
    println!("Main function finished");
}
