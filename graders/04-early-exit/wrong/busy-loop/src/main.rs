use std::hint::black_box;
use std::thread;

fn main() {
    let handles: Vec<_> = (0..3u64)
        .map(|i| {
            thread::spawn(move || {
                let end = (i + 1) * 1000;
                let mut sum: u64 = 0;
                let mut n: u64 = 1;
                // Odd numbers only, meant to be paired with even ones later;
                // but n is always odd and `end` is even: n never equals it.
                while n != end {
                    sum = black_box(sum.wrapping_add(n));
                    n = n.wrapping_add(2);
                }
                sum
            })
        })
        .collect();
    for (i, handle) in handles.into_iter().enumerate() {
        println!("worker {i}: {}", handle.join().unwrap());
    }
    println!("done");
}
