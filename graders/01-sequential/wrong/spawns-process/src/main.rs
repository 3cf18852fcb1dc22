use std::process::Command;

fn run_task(id: u32) {
    println!("Task {id} started");
    // "Work" done by another program.
    let _ = Command::new("true").status();
}

fn main() {
    run_task(1);
    println!("Task 1 finished");
}
