use std::thread;
use std::time::Duration;

fn main() {
    let handles: Vec<_> = (0..3u64)
        .map(|i| {
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(100 * (3 - i)));
                (1..=(i + 1) * 1000).sum::<u64>()
            })
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        println!("worker {i}: {}", handle.join().unwrap());
    }
    println!("done");
}
