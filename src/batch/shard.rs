//! `--shard K/N`: which part of a class one machine grades.
//!
//! The class is cut by student, never inside one: every entry of the class
//! folder is keyed by the student it belongs to (`alice/` and `alice.zip`
//! share the key `alice`), the keys are sorted by name, and shard K takes
//! every N-th key starting with the K-th. Every machine that sees the same
//! class folder cuts it the same way, the shards are disjoint and cover the
//! class, and their sizes differ by at most one student.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// 1-based.
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Whether the `position`-th key (0-based, in sorted order) is ours.
    pub fn takes(&self, position: usize) -> bool {
        position % self.count == self.index - 1
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: write K/N with 1 <= K <= N, e.g. 2/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "x/2", "3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shards_partition_the_keys() {
        let n = 3;
        for pos in 0..20 {
            let owners: Vec<usize> = (1..=n)
                .filter(|&k| Shard { index: k, count: n }.takes(pos))
                .collect();
            assert_eq!(owners.len(), 1);
        }
    }
}
