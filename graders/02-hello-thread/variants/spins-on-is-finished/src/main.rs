use std::thread;

fn main() {
    let handle = thread::spawn(|| {
        println!("Hello from thread");
    });
    println!("Hello from main");
    while !handle.is_finished() {
        std::hint::spin_loop();
    }
    handle.join().unwrap();
    println!("Main function finished");
}
