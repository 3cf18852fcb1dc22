//! Reference solution for exercise {id}: {title}.
use std::thread;

fn main() {
    let handle = thread::spawn(|| {
        println!("Hello from a thread");
    });
    handle.join().expect("the thread panicked");
    println!("Main is done");
}
