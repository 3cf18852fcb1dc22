use std::thread;

fn main() {
    let mut handles = Vec::new();
    for i in 0..5 {
        handles.push(thread::spawn(move || {
            println!("Hello from thread {i}");
            i
        }));
    }
    // The order of the joins does not matter: all five are joined.
    while let Some(handle) = handles.pop() {
        handle.join().expect("a thread panicked");
    }
    println!("All threads finished");
}
