//! The sum's contract at its edges, called from one thread.

use channel_sum::parallel_sum;

pub fn test() {
    check_eq!(
        parallel_sum(vec![], 3),
        0,
        "parallel_sum(vec![], 3) (an empty vector)"
    );
    check_eq!(
        parallel_sum(vec![7], 4),
        7,
        "parallel_sum(vec![7], 4) (more workers than numbers)"
    );
    check_eq!(
        parallel_sum((1..=10).collect(), 1),
        55,
        "parallel_sum(1..=10, 1) (one worker)"
    );
    check_eq!(
        parallel_sum((1..=10).collect(), 10),
        55,
        "parallel_sum(1..=10, 10) (one number per worker)"
    );
    check_eq!(
        parallel_sum((1..=1000).collect(), 7),
        500_500,
        "parallel_sum(1..=1000, 7)"
    );
}
