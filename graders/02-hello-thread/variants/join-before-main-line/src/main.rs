use std::thread;

fn main() {
    let handle = thread::spawn(|| {
        println!("Hello from thread");
    });
    // Joining first is allowed: the order of the two hellos is free.
    handle.join().expect("the thread panicked");
    println!("Hello from main");
    println!("Main function finished");
}
