use std::thread;

fn main() {
    let handle = thread::spawn(|| {});
    println!("Hello from thread");
    println!("Hello from main");
    handle.join().unwrap();
    println!("Main function finished");
}
