use std::thread;

fn main() {
    // The thread prints, then returns how many lines it printed.
    let handle = thread::spawn(|| {
        println!("Hello from thread");
        1
    });
    println!("Hello from main");
    let printed: u32 = handle.join().expect("the thread panicked");
    assert_eq!(printed, 1);
    println!("Main function finished");
}
