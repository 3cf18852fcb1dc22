use std::net::TcpStream;

fn run_task(id: u32) {
    println!("Task {id} started");
    // Whether it connects or not, the attempt is what is ruled out.
    let _ = TcpStream::connect("127.0.0.1:9");
}

fn main() {
    run_task(1);
    println!("Task 1 finished");
}
