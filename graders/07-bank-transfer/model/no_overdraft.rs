//! Two transfers of 10 out of an account holding 10, at once: exactly one
//! may succeed, the account must end at 0 (never below), and no money may
//! appear or vanish.

use bank_transfer::Bank;
use std::sync::Arc;
use std::thread;

pub fn scenario() {
    let bank = Arc::new(Bank::new(vec![10, 0, 0]));
    let other = Arc::clone(&bank);
    let t = thread::spawn(move || other.transfer(0, 1, 10));
    let second = bank.transfer(0, 2, 10);
    let first = t.join().unwrap();
    ensure!(
        first != second,
        "two transfers of 10 from an account holding 10 returned {first} and {second}: \
         exactly one of them can succeed"
    );
    let (a, b, c) = (bank.balance(0), bank.balance(1), bank.balance(2));
    ensure!(
        a + b + c == 10 && a == 0,
        "after two competing transfers of 10 out of account 0 (holding 10), the balances \
         are {a}, {b} and {c}: the bank held 10 in all"
    );
}
