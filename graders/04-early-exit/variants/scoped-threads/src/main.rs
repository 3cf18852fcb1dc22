use std::thread;

fn work(i: u64) -> u64 {
    (1..=(i + 1) * 1000).sum()
}

fn main() {
    let sums: Vec<u64> = thread::scope(|s| {
        let handles: Vec<_> = (0..3).map(|i| s.spawn(move || work(i))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (i, sum) in sums.iter().enumerate() {
        println!("worker {i}: {sum}");
    }
    println!("done");
}
