//! `total()` called while a transfer runs must still see all the money:
//! never the moment when it has left one account and not reached the
//! other.

use bank_transfer::Bank;
use std::sync::Arc;
use std::thread;

pub fn scenario() {
    let bank = Arc::new(Bank::new(vec![10, 10]));
    let other = Arc::clone(&bank);
    let t = thread::spawn(move || other.transfer(0, 1, 5));
    let total = bank.total();
    ensure!(
        total == 20,
        "total() returned {total} while a transfer ran, but the bank always holds 20"
    );
    t.join().unwrap();
}
