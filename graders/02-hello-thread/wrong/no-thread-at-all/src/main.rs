fn main() {
    println!("Hello from thread");
    println!("Hello from main");
    println!("Main function finished");
}
