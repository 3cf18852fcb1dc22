use std::thread;

static mut RESULTS: [u64; 3] = [0; 3];

fn main() {
    let handles: Vec<_> = (0..3usize)
        .map(|i| {
            thread::spawn(move || {
                let sum: u64 = (1..=(i as u64 + 1) * 1000).sum();
                unsafe {
                    RESULTS[i] = sum;
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    for i in 0..3 {
        let sum = unsafe { RESULTS[i] };
        println!("worker {i}: {sum}");
    }
    println!("done");
}
