use std::thread;

fn main() {
    for i in 0..5 {
        let handle = thread::spawn(move || {
            println!("Hello from thread {i}");
        });
        handle.join().unwrap();
    }
    println!("All threads finished");
}
