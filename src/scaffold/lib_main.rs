fn main() {
    let total = {crate_name}::parallel_total(vec![vec![1, 2, 3], vec![4, 5, 6]]);
    println!("total = {total}");
}
