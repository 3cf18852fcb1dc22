//! Exercise 07: a bank that many threads use at once.

use std::sync::Mutex;

/// Accounts numbered from 0, each holding a balance.
///
/// A `Bank` is shared between threads (it is `Send + Sync`), so every method
/// takes `&self`; the locks inside make the changes safe.
pub struct Bank {
    // One lock per account, so that transfers between different accounts
    // do not have to wait for each other.
    accounts: Vec<Mutex<u64>>,
}

impl Bank {
    /// A bank whose account `i` starts with `balances[i]`.
    pub fn new(balances: Vec<u64>) -> Bank {
        Bank {
            accounts: balances.into_iter().map(Mutex::new).collect(),
        }
    }

    /// Moves `amount` from account `from` to account `to` and returns true,
    /// or returns false and changes nothing when `from` holds less.
    pub fn transfer(&self, from: usize, to: usize, amount: u64) -> bool {
        // TODO: this can freeze the whole program. One thread moving money
        // from account 0 to account 1 locks 0, then waits for 1; another
        // moving money from 1 to 0 locks 1, then waits for 0. Each holds what
        // the other needs, and neither will ever let go: a deadlock. Make
        // every thread take the locks it needs in the same order (whatever
        // the direction of the transfer), or use a single lock for the
        // whole bank.
        let mut source = self.accounts[from].lock().unwrap();
        if *source < amount {
            return false;
        }
        let mut target = self.accounts[to].lock().unwrap();
        *source -= amount;
        *target += amount;
        true
    }

    /// The balance of one account.
    pub fn balance(&self, account: usize) -> u64 {
        *self.accounts[account].lock().unwrap()
    }

    /// The sum of all balances. Transfers only move money, so this never
    /// changes, even while transfers are running.
    pub fn total(&self) -> u64 {
        // Hold every account's lock at once (taken in index order), so that
        // no transfer can move money between two accounts while we add.
        let guards: Vec<_> = self
            .accounts
            .iter()
            .map(|account| account.lock().unwrap())
            .collect();
        guards.iter().map(|balance| **balance).sum()
    }
}
