//! A transfer from an account to itself must return (not wait forever for
//! a lock it already holds) and must not change any balance. Whether it
//! reports true or false is up to the bank.

use bank_transfer::Bank;

pub fn test() {
    let bank = Bank::new(vec![10, 20]);
    let _ = bank.transfer(1, 1, 5);
    check_eq!(
        (bank.balance(0), bank.balance(1)),
        (10, 20),
        "the balances after transfer(1, 1, 5), a transfer to the same account"
    );
}
