use std::sync::Mutex;

/// One lock per account, always taken in index order, so two transfers
/// never wait for each other in a circle.
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
        if from >= self.accounts.len() || to >= self.accounts.len() {
            return false;
        }
        if from == to {
            return *self.accounts[from].lock().unwrap() >= amount;
        }
        let (low, high) = if from < to { (from, to) } else { (to, from) };
        let mut low_guard = self.accounts[low].lock().unwrap();
        let mut high_guard = self.accounts[high].lock().unwrap();
        let (source, target) = if from < to {
            (&mut *low_guard, &mut *high_guard)
        } else {
            (&mut *high_guard, &mut *low_guard)
        };
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
