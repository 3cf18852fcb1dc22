use std::sync::Mutex;

pub struct Bank {
    accounts: Vec<Mutex<u64>>,
}

impl Bank {
    pub fn new(balances: Vec<u64>) -> Bank {
        Bank {
            accounts: balances.into_iter().map(Mutex::new).collect(),
        }
    }

    pub fn transfer(&self, from: usize, to: usize, amount: u64) -> bool {
        let balance = *self.accounts[from].lock().unwrap();
        if balance < amount {
            return false;
        }
        *self.accounts[from].lock().unwrap() = balance - amount;
        *self.accounts[to].lock().unwrap() += amount;
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
