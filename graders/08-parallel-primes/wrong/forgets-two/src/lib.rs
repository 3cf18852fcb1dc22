use std::thread;

fn is_prime(n: u64) -> bool {
    if n < 2 || n.is_multiple_of(2) {
        return false;
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

pub fn count_primes(limit: u64, threads: usize) -> usize {
    let threads = threads.max(1) as u64;
    let chunk = limit.div_ceil(threads);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            thread::spawn(move || {
                let start = t * chunk;
                let end = ((t + 1) * chunk).min(limit);
                (start..end).filter(|&n| is_prime(n)).count()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}
