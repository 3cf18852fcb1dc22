use std::thread;

static mut GREETED: bool = false;

fn main() {
    let handle = thread::spawn(|| {
        println!("Hello from thread");
        unsafe {
            GREETED = true;
        }
    });
    println!("Hello from main");
    handle.join().unwrap();
    if unsafe { GREETED } {
        println!("Main function finished");
    }
}
