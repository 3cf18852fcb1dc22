fn main() {
    loop {
        println!("Task 1 started");
    }
}
