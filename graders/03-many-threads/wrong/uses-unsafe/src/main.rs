use std::thread;

fn main() {
    let handles: Vec<_> = (0..5)
        .map(|i| {
            thread::spawn(move || {
                let greeting = unsafe { std::str::from_utf8_unchecked(b"Hello from thread") };
                println!("{greeting} {i}");
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    println!("All threads finished");
}
