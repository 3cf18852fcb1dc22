use std::net::TcpStream;
use std::thread;

fn main() {
    let handles: Vec<_> = (0..5)
        .map(|i| {
            thread::spawn(move || {
                if i == 0 {
                    let _ = TcpStream::connect("127.0.0.1:9");
                }
                println!("Hello from thread {i}");
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    println!("All threads finished");
}
