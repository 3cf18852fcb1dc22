use std::thread;
use std::time::Duration;

/// The task announces both its start and its end itself.
fn run_task(id: u32) {
    println!("Task {id} started");
    thread::sleep(Duration::from_millis(50));
    println!("Task {id} finished");
}

fn main() {
    run_task(1);
}
