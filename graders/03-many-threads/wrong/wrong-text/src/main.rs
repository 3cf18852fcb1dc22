use std::thread;

fn main() {
    let handles: Vec<_> = (0..5)
        .map(|i| thread::spawn(move || println!("Hello from thread #{i}")))
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    println!("All threads finished");
}
