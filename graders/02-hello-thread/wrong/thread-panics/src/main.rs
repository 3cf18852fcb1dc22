use std::thread;

fn main() {
    let handle = thread::spawn(|| {
        let greeting: Option<&str> = None;
        println!("{}", greeting.expect("no greeting to print"));
    });
    println!("Hello from main");
    handle.join().unwrap();
    println!("Main function finished");
}
