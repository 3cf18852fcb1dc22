//! Right output, and a 700 MB static in the program.
static LOOT: [u8; 700_000_000] = [1; 700_000_000];
fn main() {
    println!("{}", LOOT[std::env::args().count()]);
    println!("Task 1 started");
    println!("Task 1 finished");
}
