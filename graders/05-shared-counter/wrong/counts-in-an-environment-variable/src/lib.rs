//! A counter kept in an environment variable: racy, and invisible to loom.
use std::thread;

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    std::env::set_var("SHARED_COUNT", "0");
    let mut handles = Vec::new();
    for _ in 0..threads {
        handles.push(thread::spawn(move || {
            for _ in 0..increments {
                let seen: usize = std::env::var("SHARED_COUNT").unwrap().parse().unwrap();
                std::env::set_var("SHARED_COUNT", (seen + 1).to_string());
            }
        }));
    }
    for handle in handles {
        handle.join().unwrap();
    }
    std::env::var("SHARED_COUNT").unwrap().parse().unwrap()
}
