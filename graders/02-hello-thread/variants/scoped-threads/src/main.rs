use std::thread;

fn main() {
    // A scope joins every thread spawned in it before it returns.
    thread::scope(|s| {
        s.spawn(|| {
            println!("Hello from thread");
        });
        println!("Hello from main");
    });
    println!("Main function finished");
}
