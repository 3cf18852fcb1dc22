use std::hint::black_box;
use std::thread;

fn main() {
    let handles: Vec<_> = (0..5u64)
        .map(|i| {
            thread::spawn(move || {
                println!("Hello from thread {i}");
                if i == 4 {
                    // Never equal to 1: an even number minus twos stays even.
                    let mut n: u64 = black_box(1_000);
                    while n != 1 {
                        n = black_box(n.wrapping_sub(2));
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    println!("All threads finished");
}
