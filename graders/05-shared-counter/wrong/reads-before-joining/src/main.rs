fn main() {
    let count = shared_counter::count_concurrently(4, 1000);
    println!("count = {count}");
}
