use std::net::TcpStream;
use std::thread;

fn main() {
    let handle = thread::spawn(|| {
        let _ = TcpStream::connect("127.0.0.1:9");
        println!("Hello from thread");
    });
    println!("Hello from main");
    handle.join().unwrap();
    println!("Main function finished");
}
