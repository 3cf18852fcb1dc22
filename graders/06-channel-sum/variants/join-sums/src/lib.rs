use std::thread;

/// Each worker returns its partial sum through `join` instead of a channel.
pub fn parallel_sum(numbers: Vec<u64>, workers: usize) -> u64 {
    let workers = workers.max(1);
    let size = numbers.len().div_ceil(workers).max(1);
    let handles: Vec<_> = numbers
        .chunks(size)
        .map(|part| {
            let part = part.to_vec();
            thread::spawn(move || part.iter().sum::<u64>())
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}
