//! Exercise 08: concurrency vs parallelism.

/// True when `n` is a prime number (trial division: simple, and slow enough
/// that there is real work to share).
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
    // TODO: all of the work happens right here, on the calling thread, and
    // `threads` is ignored. Split the numbers below `limit` over `threads`
    // spawned threads so that each one does a real share of the work, let
    // each thread count the primes in its share and return its count, then
    // join them all and add up the counts. Beware: checking a big number
    // costs more than checking a small one, and even numbers are cheap.
    let _ = threads;
    (0..limit).filter(|&n| is_prime(n)).count()
}
