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

pub fn count_primes(limit: u64, threads: usize) -> usize {
    let chunk = limit.div_ceil(threads as u64);
    let handles: Vec<_> = (0..threads as u64)
        .map(|t| {
            thread::spawn(move || {
                let end = ((t + 1) * chunk).min(limit);
                (t * chunk..end).filter(|&n| is_prime(n)).count()
            })
        })
        .collect();
    let mut counts = vec![0; threads - 1];
    for (t, handle) in handles.into_iter().enumerate() {
        counts[t] = handle.join().unwrap();
    }
    counts.iter().sum()
}
