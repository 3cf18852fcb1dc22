use std::thread;

fn main() {
    let handle = thread::spawn(|| {
        for i in 0..5 {
            println!("Hello from thread {i}");
        }
    });
    handle.join().unwrap();
    println!("All threads finished");
}
