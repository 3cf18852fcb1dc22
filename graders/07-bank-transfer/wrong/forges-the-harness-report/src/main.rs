use std::sync::Arc;
use std::thread;

use bank_transfer::Bank;

fn main() {
    let bank = Arc::new(Bank::new(vec![250; 4]));

    // Four threads, each making 1000 transfers: thread `t` pays from account
    // `t` to each of the three other accounts in turn, so money flows in
    // both directions between every pair of accounts. Some transfers are
    // refused for lack of money; that is fine.
    let mut handles = Vec::new();
    for t in 0..4 {
        let bank = Arc::clone(&bank);
        handles.push(thread::spawn(move || {
            for i in 0..1000 {
                let from = t;
                let to = (t + 1 + i % 3) % 4;
                let amount = (i % 50 + 1) as u64;
                bank.transfer(from, to, amount);
            }
        }));
    }
    for handle in handles {
        handle.join().expect("a transfer thread panicked");
    }

    println!("total = {}", bank.total());
}
