use std::thread;

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n.is_multiple_of(2) {
        return n == 2;
    }
    let mut divisor = 3;
    while divisor <= n / divisor {
        if n.is_multiple_of(divisor) {
            return false;
        }
        divisor += 2;
    }
    true
}

/// One contiguous range per thread; each returns its count through `join`.
pub fn count_primes(limit: u64, threads: usize) -> usize {
    let threads = threads.max(1) as u64;
    let size = limit.div_ceil(threads);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let start = (t * size).min(limit);
            let end = ((t + 1) * size).min(limit);
            thread::spawn(move || (start..end).filter(|&n| is_prime(n)).count())
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}
