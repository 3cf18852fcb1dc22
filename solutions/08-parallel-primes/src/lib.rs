//! Reference solution for exercise 08: counting primes in parallel.

use std::thread;

/// Numbers are dealt to the threads in blocks of this size, round-robin.
const BLOCK: u64 = 1_000;

/// True when `n` is a prime number (trial division).
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

/// Counts the primes below `limit`, with the work split over `threads`
/// threads.
pub fn count_primes(limit: u64, threads: usize) -> usize {
    let threads = threads.max(1) as u64;

    // Splitting `0..limit` into one contiguous half per thread would give
    // the last thread the biggest numbers, which cost the most to test.
    // Dealing out small blocks in turn (thread 0 gets blocks 0, T, 2T, ...;
    // thread 1 gets blocks 1, T + 1, ...) gives every thread a mix of small
    // and large numbers, so they all finish at about the same time.
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            thread::spawn(move || {
                let mut count = 0;
                let mut start = t * BLOCK;
                while start < limit {
                    let end = (start + BLOCK).min(limit);
                    count += (start..end).filter(|&n| is_prime(n)).count();
                    start += threads * BLOCK;
                }
                count
            })
        })
        .collect();

    // Each thread returns its own count: no shared counter, no lock.
    handles
        .into_iter()
        .map(|handle| handle.join().expect("a counting thread panicked"))
        .sum()
}
