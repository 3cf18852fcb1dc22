//! Two threads add 1 twice each: under every interleaving of their steps
//! the count must come out as 4. A read-then-write "add 1" loses an
//! increment when both threads read the same value.

use shared_counter::count_concurrently;

pub fn scenario() {
    let count = count_concurrently(2, 2);
    ensure!(
        count == 4,
        "count_concurrently(2, 2) returned {count} instead of 4"
    );
}
