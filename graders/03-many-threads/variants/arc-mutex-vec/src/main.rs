use std::sync::{Arc, Mutex};
use std::thread;

fn main() {
    // Each thread records its number after printing; main checks the
    // record once every thread has been joined.
    let greeted = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for i in 0..5 {
        let greeted = Arc::clone(&greeted);
        handles.push(thread::spawn(move || {
            println!("Hello from thread {i}");
            greeted.lock().unwrap().push(i);
        }));
    }
    for handle in handles {
        handle.join().unwrap();
    }
    let mut greeted = greeted.lock().unwrap().clone();
    greeted.sort_unstable();
    assert_eq!(greeted, [0, 1, 2, 3, 4]);
    println!("All threads finished");
}
