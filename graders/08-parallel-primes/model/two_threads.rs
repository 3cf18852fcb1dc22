//! `count_primes(10, 2)` under every interleaving of its two threads: the
//! primes below 10 are 2, 3, 5 and 7.

use parallel_primes::count_primes;

pub fn scenario() {
    let count = count_primes(10, 2);
    ensure!(
        count == 4,
        "count_primes(10, 2) returned {count} instead of 4"
    );
}
