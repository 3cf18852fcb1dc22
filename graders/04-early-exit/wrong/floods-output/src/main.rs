use std::thread;

fn main() {
    let handles: Vec<_> = (0..3u64)
        .map(|i| {
            thread::spawn(move || {
                let mut round = 0u64;
                loop {
                    round += 1;
                    println!("worker {i}: round {round}");
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    println!("done");
}
