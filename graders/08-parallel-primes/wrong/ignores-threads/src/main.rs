fn main() {
    let limit = 200_000;
    let count = parallel_primes::count_primes(limit, 2);
    println!("primes below {limit}: {count}");
}
