//! Two transfers in opposite directions at once, 0 → 1 and 1 → 0. In no
//! interleaving may they wait for each other forever, and afterwards the
//! money must be where it started.

use bank_transfer::Bank;
use std::sync::Arc;
use std::thread;

pub fn scenario() {
    let bank = Arc::new(Bank::new(vec![10, 10]));
    let other = Arc::clone(&bank);
    let t = thread::spawn(move || other.transfer(0, 1, 5));
    let back = bank.transfer(1, 0, 5);
    let there = t.join().unwrap();
    ensure!(
        there && back,
        "transfer(0, 1, 5) returned {there} and transfer(1, 0, 5) returned {back}, \
         though both accounts held 10"
    );
    let (a, b) = (bank.balance(0), bank.balance(1));
    ensure!(
        a == 10 && b == 10,
        "after transferring 5 each way between two accounts of 10, the balances are {a} and {b}"
    );
}
