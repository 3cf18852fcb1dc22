use std::thread;

fn main() {
    let handle = thread::spawn(|| loop {
        println!("Hello from thread");
    });
    println!("Hello from main");
    handle.join().unwrap();
    println!("Main function finished");
}
