//! `parallel_sum(vec![5], 2)`: one of the two workers has nothing to sum;
//! every interleaving must still give 5 and finish.

use channel_sum::parallel_sum;

pub fn scenario() {
    let sum = parallel_sum(vec![5], 2);
    ensure!(
        sum == 5,
        "parallel_sum(vec![5], 2) returned {sum} instead of 5"
    );
}
