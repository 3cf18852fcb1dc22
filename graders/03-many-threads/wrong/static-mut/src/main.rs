use std::thread;

static mut JOINED: usize = 0;

fn main() {
    let handles: Vec<_> = (0..5)
        .map(|i| thread::spawn(move || println!("Hello from thread {i}")))
        .collect();
    for handle in handles {
        handle.join().unwrap();
        unsafe {
            JOINED += 1;
        }
    }
    if unsafe { JOINED } == 5 {
        println!("All threads finished");
    }
}
