//! The bank's contract at its edges, called from one thread.

use bank_transfer::Bank;

pub fn test() {
    let bank = Bank::new(vec![10, 20]);
    check_eq!(bank.total(), 30, "Bank::new(vec![10, 20]).total()");
    check_eq!(
        bank.transfer(0, 1, 15),
        false,
        "transfer(0, 1, 15) from an account holding 10"
    );
    check_eq!(
        (bank.balance(0), bank.balance(1)),
        (10, 20),
        "the balances after a refused transfer (nothing may change)"
    );
    check_eq!(
        bank.transfer(0, 1, 10),
        true,
        "transfer(0, 1, 10) from an account holding 10"
    );
    check_eq!(
        (bank.balance(0), bank.balance(1)),
        (0, 30),
        "the balances after transfer(0, 1, 10)"
    );
    check_eq!(
        bank.transfer(0, 1, 1),
        false,
        "transfer(0, 1, 1) from an empty account"
    );
    check_eq!(bank.total(), 30, "total() after the transfers");

    // The contract says nothing of accounts that do not exist: refusing
    // the transfer and panicking are both fine, doing it is not.
    let bank = Bank::new(vec![10, 20]);
    if let Some(done) = crate::support::lenient(|| bank.transfer(0, 5, 1)) {
        check_eq!(
            done,
            false,
            "transfer(0, 5, 1) to an account that does not exist"
        );
        check_eq!(
            bank.total(),
            30,
            "total() after a transfer to an unknown account"
        );
    }
}
