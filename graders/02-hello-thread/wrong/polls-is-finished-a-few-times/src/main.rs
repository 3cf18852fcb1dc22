use std::thread;

fn main() {
    let handle = thread::spawn(|| {
        println!("Hello from thread");
    });
    println!("Hello from main");
    for _ in 0..1000 {
        if handle.is_finished() {
            break;
        }
    }
    println!("Main function finished");
}
