use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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
    let threads = threads.max(1) as u64;
    let count = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let count = Arc::clone(&count);
            thread::spawn(move || {
                let mut n = t;
                while n < limit {
                    if is_prime(n) {
                        let seen = count.load(Ordering::SeqCst);
                        count.store(seen + 1, Ordering::SeqCst);
                    }
                    n += threads;
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    count.load(Ordering::SeqCst)
}
