//! The library called from one thread. A unit test is `pub fn test()` in
//! `graders/<id>/unit/<test>.rs`; it imports the student's crate by its
//! library name and reports with `check_eq!(got, want, "what was called")`
//! or `check!(condition, "message")`.

use {crate_name}::parallel_total;

pub fn test() {
    check_eq!(parallel_total(vec![]), 0, "parallel_total(vec![]) (no parts)");
    check_eq!(parallel_total(vec![vec![7]]), 7, "parallel_total(vec![vec![7]])");
    check_eq!(
        parallel_total(vec![vec![1, 2], vec![], vec![3]]),
        6,
        "parallel_total with an empty part"
    );
}
