fn run_task(id: u32) {
    println!("Task {id} started");
    let steps: Vec<u32> = Vec::new();
    // Index 0 of an empty vector: panics.
    println!("first step: {}", steps[0]);
}

fn main() {
    run_task(1);
    println!("Task 1 finished");
}
