//! Exercise 04: the program exits before its threads complete.

use std::thread;

/// The work of worker `i`: the sum of `1..=(i + 1) * 1000`.
fn work(i: u64) -> u64 {
    (1..=(i + 1) * 1000).sum()
}

fn main() {
    for i in 0..3 {
        // The value the closure returns is the thread's result. Without the
        // handle, nobody can ever collect it.
        thread::spawn(move || work(i));
    }

    // TODO: `main` does not wait for the workers, and it throws away the
    // handles `thread::spawn` returned, so their results are lost (and the
    // program may even end while they are still running). Keep the three
    // `JoinHandle`s. After starting all three, `join()` each one: it waits
    // for that thread and gives you back the value its closure returned.
    // Print `worker i: <sum>` for each, in order, then `done`.
    println!("done");
}
