use std::sync::{Arc, Mutex};
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

/// Each `thread::Builder` thread writes its count into its own slot of a
/// shared table; the caller adds the table up.
pub fn count_primes(limit: u64, threads: usize) -> usize {
    let threads = threads.max(1);
    let table = Arc::new(Mutex::new(vec![0usize; threads]));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let table = Arc::clone(&table);
            thread::Builder::new()
                .spawn(move || {
                    let mine = (0..limit)
                        .filter(|n| (n / 250) as usize % threads == t && is_prime(*n))
                        .count();
                    table.lock().unwrap()[t] = mine;
                })
                .unwrap()
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let total = table.lock().unwrap().iter().sum();
    total
}
