use std::thread;

fn main() {
    let handle = thread::spawn(|| {
        println!("Hello from thread");
        std::process::abort();
    });
    println!("Hello from main");
    handle.join().unwrap();
    println!("Main function finished");
}
