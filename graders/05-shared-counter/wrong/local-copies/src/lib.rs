use std::thread;

pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let count: usize = 0;
    let mut handles = Vec::new();
    for _ in 0..threads {
        handles.push(thread::spawn(move || {
            // `count` was copied into this closure: this is a new variable.
            let mut count = count;
            for _ in 0..increments {
                count += 1;
            }
            count
        }));
    }
    for handle in handles {
        handle.join().unwrap();
    }
    count
}
