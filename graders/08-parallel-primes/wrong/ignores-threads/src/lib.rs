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

pub fn count_primes(limit: u64, _threads: usize) -> usize {
    // Odd and even blocks of 100 numbers: a fair split between two threads.
    let handles: Vec<_> = (0..2u64)
        .map(|t| thread::spawn(move || (0..limit).filter(|n| (n / 100) % 2 == t && is_prime(*n)).count()))
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}
