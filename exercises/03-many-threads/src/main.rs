//! Exercise 03: many threads at once (practice exercise 2).

use std::thread;

fn main() {
    for i in 0..5 {
        // `move` gives the closure its own copy of `i`: the thread may run
        // after this loop iteration is over, so it cannot borrow it.
        let handle = thread::spawn(move || {
            println!("Hello from thread {i}");
        });

        // TODO: this waits for each thread right after starting it, so the
        // next thread is only spawned once the previous one has finished:
        // five threads, but never two at the same time. Start all five
        // first and keep their handles (a `Vec` is a good home for them),
        // then wait for every one of them before the last line.
        handle.join().unwrap();
    }

    println!("All threads finished");
}
