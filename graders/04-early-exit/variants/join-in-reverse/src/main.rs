use std::thread;

fn main() {
    let mut handles: Vec<_> = (0..3u64)
        .map(|i| thread::spawn(move || (1..=(i + 1) * 1000).sum::<u64>()))
        .collect();
    // Join the last worker first; store each result in its slot.
    let mut sums = [0u64; 3];
    while let Some(handle) = handles.pop() {
        sums[handles.len()] = handle.join().expect("a worker panicked");
    }
    for (i, sum) in sums.iter().enumerate() {
        println!("worker {i}: {sum}");
    }
    println!("done");
}
