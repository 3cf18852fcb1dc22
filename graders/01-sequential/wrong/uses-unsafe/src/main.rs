fn run_task(id: u32) {
    println!("Task {id} started");
}

fn main() {
    run_task(1);
    let line = unsafe { std::str::from_utf8_unchecked(b"Task 1 finished") };
    println!("{line}");
}
