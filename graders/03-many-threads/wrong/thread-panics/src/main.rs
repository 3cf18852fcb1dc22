use std::thread;

fn main() {
    let names = ["zero", "one", "two"];
    let handles: Vec<_> = (0..5)
        .map(|i| {
            thread::spawn(move || {
                if i >= 3 {
                    // Index 3 of a three-element array: panics.
                    println!("thread {}", names[i]);
                }
                println!("Hello from thread {i}");
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    println!("All threads finished");
}
