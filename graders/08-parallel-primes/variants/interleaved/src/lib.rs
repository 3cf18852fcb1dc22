use std::sync::atomic::{AtomicUsize, Ordering};
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

/// Numbers go to the threads in runs of ten, round-robin (thread `t` takes
/// `n` when `(n / 10) % threads == t`), so every thread gets small and big
/// numbers alike. (Pairs would not do: with three threads, one would get
/// only the numbers 6k+2 and 6k+3, multiples of 2 or 3, and no real work.)
/// Each adds its count to a shared atomic once, at the end.
pub fn count_primes(limit: u64, threads: usize) -> usize {
    let threads = threads.max(1) as u64;
    let total = AtomicUsize::new(0);
    thread::scope(|s| {
        for t in 0..threads {
            let total = &total;
            s.spawn(move || {
                let mine = (0..limit)
                    .filter(|&n| (n / 10) % threads == t && is_prime(n))
                    .count();
                total.fetch_add(mine, Ordering::Relaxed);
            });
        }
    });
    total.load(Ordering::Relaxed)
}
