use std::process::Command;
use std::thread;

fn main() {
    let handle = thread::spawn(|| {
        let _ = Command::new("true").status();
        println!("Hello from thread");
    });
    println!("Hello from main");
    handle.join().unwrap();
    println!("Main function finished");
}
