//! Right output, and a constant of 16 GiB.
const BIG: [u8; 1 << 34] = [7; 1 << 34];
fn main() {
    println!("{}", BIG[12345]);
    println!("Task 1 started");
    println!("Task 1 finished");
}
