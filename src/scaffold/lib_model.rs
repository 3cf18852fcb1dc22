//! A model scenario is `pub fn scenario()` in `graders/<id>/model/<name>.rs`:
//! the model checker runs it under every interleaving of the threads the
//! student's code spawns, and `ensure!(condition, "message")` fails the
//! interleaving that breaks it. Keep it small: two threads, a step or two
//! each.

use {crate_name}::parallel_total;

pub fn scenario() {
    let total = parallel_total(vec![vec![1], vec![2]]);
    ensure!(
        total == 3,
        "parallel_total(vec![vec![1], vec![2]]) returned {total} instead of 3"
    );
}
