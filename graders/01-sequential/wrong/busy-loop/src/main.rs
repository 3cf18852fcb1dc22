use std::hint::black_box;

fn run_task(id: u32) -> u64 {
    println!("Task {id} started");
    let mut checksum: u64 = 0;
    let mut step: u64 = 0;
    while step < 1_000 {
        checksum = black_box(checksum.wrapping_mul(31).wrapping_add(step));
        // Meant to advance the step, but doubling 0 gives 0 forever.
        step *= 2;
    }
    checksum
}

fn main() {
    let checksum = run_task(1);
    println!("Task 1 finished");
    black_box(checksum);
}
