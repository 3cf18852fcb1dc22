use std::thread;
use std::time::Duration;

fn run_task(id: u32) {
    println!("Task {id} started");
    thread::sleep(Duration::from_millis(100));
}

fn main() {
    run_task(1);
}
