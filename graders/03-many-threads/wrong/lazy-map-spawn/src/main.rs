use std::thread;

fn main() {
    (0..5)
        .map(|i| {
            thread::spawn(move || {
                println!("Hello from thread {i}");
            })
        })
        .for_each(|handle| handle.join().unwrap());
    println!("All threads finished");
}
