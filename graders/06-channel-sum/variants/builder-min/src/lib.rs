use std::sync::mpsc;
use std::thread;

/// No more workers than numbers (`min`), each a `thread::Builder` thread
/// with a contiguous part computed from `div_ceil`; one message each.
pub fn parallel_sum(numbers: Vec<u64>, workers: usize) -> u64 {
    if numbers.is_empty() {
        return 0;
    }
    let workers = workers.clamp(1, numbers.len());
    let size = numbers.len().div_ceil(workers);
    let (tx, rx) = mpsc::channel::<u64>();
    let mut spawned = 0;
    for part in numbers.chunks(size) {
        let part = part.to_vec();
        let tx = tx.clone();
        thread::Builder::new()
            .name(format!("worker-{spawned}"))
            .spawn(move || tx.send(part.iter().sum()).unwrap())
            .unwrap();
        spawned += 1;
    }
    drop(tx);
    rx.iter().take(spawned).sum()
}
