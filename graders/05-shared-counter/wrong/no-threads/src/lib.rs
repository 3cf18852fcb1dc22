pub fn count_concurrently(threads: usize, increments: usize) -> usize {
    let mut count = 0;
    for _ in 0..threads {
        for _ in 0..increments {
            count += 1;
        }
    }
    count
}
