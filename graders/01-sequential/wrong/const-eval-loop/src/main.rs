//! Right output, and a constant rustc computes for ever.
#![allow(long_running_const_eval)]
const fn spin() -> u64 {
    let mut i: u64 = 0;
    loop {
        i = i.wrapping_add(1);
        if i == 0 { return 1; }
    }
}
const N: u64 = spin();
fn main() {
    println!("{N}");
    println!("Task 1 started");
    println!("Task 1 finished");
}
