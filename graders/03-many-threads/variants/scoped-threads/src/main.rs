use std::thread;

fn main() {
    // Every thread spawned in the scope is joined when the scope ends.
    thread::scope(|s| {
        for i in 0..5 {
            s.spawn(move || {
                println!("Hello from thread {i}");
            });
        }
    });
    println!("All threads finished");
}
