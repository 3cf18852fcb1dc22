static mut FINISHED: u32 = 0;

fn run_task(id: u32) {
    println!("Task {id} started");
    unsafe {
        FINISHED += 1;
    }
}

fn main() {
    run_task(1);
    let finished = unsafe { FINISHED };
    println!("Task {finished} finished");
}
