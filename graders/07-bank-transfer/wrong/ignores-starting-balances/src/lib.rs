use std::sync::Mutex;

pub struct Bank {
    balances: Mutex<Vec<u64>>,
}

impl Bank {
    pub fn new(balances: Vec<u64>) -> Bank {
        Bank {
            balances: Mutex::new(vec![0; balances.len()]),
        }
    }

    pub fn transfer(&self, from: usize, to: usize, amount: u64) -> bool {
        let mut balances = self.balances.lock().unwrap();
        if balances[from] < amount {
            return false;
        }
        balances[from] -= amount;
        balances[to] += amount;
        true
    }

    pub fn balance(&self, account: usize) -> u64 {
        self.balances.lock().unwrap()[account]
    }

    pub fn total(&self) -> u64 {
        self.balances.lock().unwrap().iter().sum()
    }
}
