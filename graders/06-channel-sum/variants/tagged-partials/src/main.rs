fn main() {
    let numbers: Vec<u64> = (1..=100).collect();
    let sum = channel_sum::parallel_sum(numbers, 4);
    println!("sum = {sum}");
}
