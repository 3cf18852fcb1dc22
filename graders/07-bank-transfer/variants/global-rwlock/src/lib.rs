use std::sync::RwLock;

/// One reader-writer lock for the whole bank: transfers write, the
/// queries read (and may run together).
pub struct Bank {
    balances: RwLock<Vec<u64>>,
}

impl Bank {
    pub fn new(balances: Vec<u64>) -> Bank {
        Bank {
            balances: RwLock::new(balances),
        }
    }

    pub fn transfer(&self, from: usize, to: usize, amount: u64) -> bool {
        let mut balances = self.balances.write().unwrap();
        if from >= balances.len() || to >= balances.len() || balances[from] < amount {
            return false;
        }
        balances[from] -= amount;
        balances[to] += amount;
        true
    }

    pub fn balance(&self, account: usize) -> u64 {
        self.balances.read().unwrap()[account]
    }

    pub fn total(&self) -> u64 {
        self.balances.read().unwrap().iter().sum()
    }
}
