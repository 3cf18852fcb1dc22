use std::hint::black_box;
use std::thread;

fn main() {
    let handle = thread::spawn(|| {
        println!("Hello from thread");
        // Look for an odd number whose double is odd: there is none.
        let mut n: u64 = 1;
        while black_box(n.wrapping_mul(2)) % 2 == 0 {
            n = n.wrapping_add(2);
        }
        n
    });
    println!("Hello from main");
    let found = handle.join().unwrap();
    black_box(found);
    println!("Main function finished");
}
