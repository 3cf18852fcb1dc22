use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2;
    while d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 1;
    }
    true
}

pub fn count_primes(limit: u64, threads: usize) -> usize {
    let threads = threads.max(1) as u64;
    let count = AtomicUsize::new(0);
    thread::scope(|s| {
        for t in 0..threads {
            let count = &count;
            s.spawn(move || {
                let mine = (0..limit).filter(|n| (n / 100) % threads == t && is_prime(*n)).count();
                count.fetch_add(mine, Ordering::Relaxed);
            });
        }
    });
    count.into_inner()
}
