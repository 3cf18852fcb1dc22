use std::thread;

fn main() {
    let mut handles = Vec::new();
    for i in 0..5 {
        handles.push(thread::spawn(|| {
            println!("Hello from thread {i}");
        }));
    }
    for handle in handles {
        handle.join().unwrap();
    }
    println!("All threads finished");
}
