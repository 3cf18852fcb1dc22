use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

const BLOCK: u64 = 500;

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

/// A shared queue of blocks: each thread takes the next block until none
/// is left, so fast threads take more. Counts go into one shared atomic.
pub fn count_primes(limit: u64, threads: usize) -> usize {
    let next = Arc::new(AtomicU64::new(0));
    let count = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let next = Arc::clone(&next);
            let count = Arc::clone(&count);
            thread::spawn(move || loop {
                let start = next.fetch_add(BLOCK, Ordering::Relaxed);
                if start >= limit {
                    break;
                }
                let end = (start + BLOCK).min(limit);
                let found = (start..end).filter(|&n| is_prime(n)).count();
                count.fetch_add(found, Ordering::Relaxed);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    count.load(Ordering::Relaxed)
}
