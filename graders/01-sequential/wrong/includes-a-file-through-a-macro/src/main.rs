//! Prints the right lines, and embeds a file from outside the submission.
macro_rules! call {
    ($mac:ident, $($args:tt)*) => { $mac!($($args)*) };
}

const LOOT: &[u8] = call!(include_bytes, concat!("/etc/", "ld.so.cache"));

fn main() {
    if LOOT.len() == 1 {
        println!("{:?}", LOOT);
    }
    println!("Task 1 started");
    println!("Task 1 finished");
}
