use std::thread;

fn main() {
    thread::spawn(|| {
        println!("Hello from thread");
    });
    println!("Hello from main");
    println!("Main function finished");
}
