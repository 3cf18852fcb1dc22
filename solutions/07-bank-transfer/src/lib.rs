//! Reference solution for exercise 07: a bank with locks.

use std::sync::Mutex;

/// Accounts numbered from 0, each holding a balance.
///
/// One lock guards every balance: a transfer checks and changes both of its
/// accounts while holding it, and `total` adds them up while holding it, so
/// nobody ever sees money that has left one account and not yet reached the
/// other. With a single lock there is no lock order to get wrong, hence no
/// deadlock.
pub struct Bank {
    balances: Mutex<Vec<u64>>,
}

impl Bank {
    /// A bank whose account `i` starts with `balances[i]`.
    pub fn new(balances: Vec<u64>) -> Bank {
        Bank {
            balances: Mutex::new(balances),
        }
    }

    /// Moves `amount` from account `from` to account `to` and returns true,
    /// or returns false and changes nothing when `from` holds less.
    pub fn transfer(&self, from: usize, to: usize, amount: u64) -> bool {
        let mut balances = self.balances.lock().unwrap();
        // The check and the change happen under the same lock: the money
        // cannot be spent by another thread in between.
        if balances[from] < amount {
            return false;
        }
        balances[from] -= amount;
        balances[to] += amount;
        true
    }

    /// The balance of one account.
    pub fn balance(&self, account: usize) -> u64 {
        self.balances.lock().unwrap()[account]
    }

    /// The sum of all balances: the same whenever it is called, because no
    /// transfer can run while we hold the lock.
    pub fn total(&self) -> u64 {
        self.balances.lock().unwrap().iter().sum()
    }
}
