//! Counting primes at the edges, called from one thread.

use parallel_primes::count_primes;

pub fn test() {
    check_eq!(count_primes(0, 2), 0, "count_primes(0, 2)");
    check_eq!(count_primes(1, 2), 0, "count_primes(1, 2)");
    check_eq!(
        count_primes(2, 2),
        0,
        "count_primes(2, 2) (2 is not below 2)"
    );
    check_eq!(count_primes(3, 2), 1, "count_primes(3, 2)");
    check_eq!(count_primes(10, 1), 4, "count_primes(10, 1) (one thread)");
    check_eq!(
        count_primes(10, 16),
        4,
        "count_primes(10, 16) (more threads than numbers)"
    );
    check_eq!(count_primes(1000, 3), 168, "count_primes(1000, 3)");
}
