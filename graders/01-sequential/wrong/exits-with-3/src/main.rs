fn run_task(id: u32) {
    println!("Task {id} started");
}

fn main() {
    run_task(1);
    println!("Task 1 finished");
    std::process::exit(3);
}
