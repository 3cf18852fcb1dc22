use std::thread;

fn main() {
    thread::spawn(|| {
        println!("Hello from thread");
    });
    println!("Hello from main");
    // Lets the other thread run for a while, or so it hopes.
    for _ in 0..1000 {
        thread::yield_now();
    }
    println!("Main function finished");
}
