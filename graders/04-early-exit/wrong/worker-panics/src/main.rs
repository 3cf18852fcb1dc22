use std::thread;

fn main() {
    let handles: Vec<_> = (0..3u64)
        .map(|i| {
            thread::spawn(move || {
                let sum: u64 = (1..=(i + 1) * 1000).sum();
                u16::try_from(sum).expect("the sum fits in a u16")
            })
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        println!("worker {i}: {}", handle.join().unwrap());
    }
    println!("done");
}
