//! `parallel_sum(vec![1, 2, 3], 2)` under every interleaving: the partial
//! sums must add up to 6, and receiving must end (a receive loop that
//! waits for a sender nobody will use never does).

use channel_sum::parallel_sum;

pub fn scenario() {
    let sum = parallel_sum(vec![1, 2, 3], 2);
    ensure!(
        sum == 6,
        "parallel_sum(vec![1, 2, 3], 2) returned {sum} instead of 6"
    );
}
