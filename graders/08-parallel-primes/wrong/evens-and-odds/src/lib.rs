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
    let handles: Vec<_> = (0..threads)
        .map(|t| thread::spawn(move || (t..limit).step_by(threads as usize).filter(|&n| is_prime(n)).count()))
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}
