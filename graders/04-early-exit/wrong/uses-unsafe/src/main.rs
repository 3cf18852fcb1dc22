use std::thread;

fn main() {
    let handles: Vec<_> = (0..3u64)
        .map(|i| thread::spawn(move || (1..=(i + 1) * 1000).sum::<u64>()))
        .collect();
    let sums: Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for i in 0..3 {
        let sum = unsafe { *sums.get_unchecked(i) };
        println!("worker {i}: {sum}");
    }
    println!("done");
}
