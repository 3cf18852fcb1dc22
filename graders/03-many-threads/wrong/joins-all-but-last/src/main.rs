use std::thread;

fn main() {
    let mut handles: Vec<_> = (0..5)
        .map(|i| {
            thread::spawn(move || {
                println!("Hello from thread {i}");
            })
        })
        .collect();
    // "The last one started last, it is surely done when the others are."
    handles.pop();
    for handle in handles {
        handle.join().unwrap();
    }
    println!("All threads finished");
}
