use std::sync::atomic::{AtomicU64, Ordering};

pub struct Bank {
    accounts: Vec<AtomicU64>,
}

impl Bank {
    pub fn new(balances: Vec<u64>) -> Bank {
        Bank {
            accounts: balances.into_iter().map(AtomicU64::new).collect(),
        }
    }

    pub fn transfer(&self, from: usize, to: usize, amount: u64) -> bool {
        // Never below zero: the subtraction happens only if it fits.
        let taken = self.accounts[from].fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| {
            b.checked_sub(amount)
        });
        if taken.is_err() {
            return false;
        }
        self.accounts[to].fetch_add(amount, Ordering::SeqCst);
        true
    }

    pub fn balance(&self, account: usize) -> u64 {
        self.accounts[account].load(Ordering::SeqCst)
    }

    pub fn total(&self) -> u64 {
        self.accounts.iter().map(|a| a.load(Ordering::SeqCst)).sum()
    }
}
