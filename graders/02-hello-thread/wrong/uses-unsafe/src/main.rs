use std::thread;

fn main() {
    let handle = thread::spawn(|| {
        let line = unsafe { std::str::from_utf8_unchecked(b"Hello from thread") };
        println!("{line}");
    });
    println!("Hello from main");
    handle.join().unwrap();
    println!("Main function finished");
}
