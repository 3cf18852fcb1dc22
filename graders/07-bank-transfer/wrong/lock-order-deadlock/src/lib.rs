use std::sync::{Mutex, MutexGuard};

pub struct Bank {
    accounts: Vec<Mutex<u64>>,
}

impl Bank {
    pub fn new(balances: Vec<u64>) -> Bank {
        Bank {
            accounts: balances.into_iter().map(Mutex::new).collect(),
        }
    }

    fn pair(&self, first: usize, second: usize) -> (MutexGuard<'_, u64>, MutexGuard<'_, u64>) {
        let a = self.accounts[first].lock().unwrap();
        let b = self.accounts[second].lock().unwrap();
        (a, b)
    }

    pub fn transfer(&self, from: usize, to: usize, amount: u64) -> bool {
        if from == to {
            return *self.accounts[from].lock().unwrap() >= amount;
        }
        let (mut source, mut target) = self.pair(from, to);
        if *source < amount {
            return false;
        }
        *source -= amount;
        *target += amount;
        true
    }

    pub fn balance(&self, account: usize) -> u64 {
        *self.accounts[account].lock().unwrap()
    }

    pub fn total(&self) -> u64 {
        let guards: Vec<_> = self.accounts.iter().map(|a| a.lock().unwrap()).collect();
        guards.iter().map(|g| **g).sum()
    }
}
