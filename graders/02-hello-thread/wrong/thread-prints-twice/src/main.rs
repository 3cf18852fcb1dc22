use std::thread;

fn main() {
    let handle = thread::spawn(|| {
        for _ in 0..2 {
            println!("Hello from thread");
        }
    });
    println!("Hello from main");
    handle.join().unwrap();
    println!("Main function finished");
}
