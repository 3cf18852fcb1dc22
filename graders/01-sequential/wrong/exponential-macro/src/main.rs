//! Right output, and a macro whose expansion doubles with every token.
macro_rules! twice {
    () => {};
    ($first:tt $($rest:tt)*) => { twice!($($rest)*); twice!($($rest)*); };
}
fn main() {
    twice!(a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a);
    println!("Task 1 started");
    println!("Task 1 finished");
}
