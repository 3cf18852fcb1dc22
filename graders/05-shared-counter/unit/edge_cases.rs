//! The counter's contract at its edges, called from one thread.

use shared_counter::count_concurrently;

pub fn test() {
    check_eq!(
        count_concurrently(1, 5),
        5,
        "count_concurrently(1, 5) (one thread)"
    );
    check_eq!(
        count_concurrently(3, 0),
        0,
        "count_concurrently(3, 0) (no increments)"
    );
    check_eq!(
        count_concurrently(0, 3),
        0,
        "count_concurrently(0, 3) (no threads)"
    );
    check_eq!(count_concurrently(8, 50), 400, "count_concurrently(8, 50)");
}
