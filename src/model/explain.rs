//! Turns what a model harness reported (protocol lines on its stderr) into
//! a verdict a student can follow: a numbered interleaving with their own
//! line numbers, the lost update or stale read called out, and for a
//! deadlock which thread holds which lock and waits where. A raw loom panic
//! never reaches the student.
//!
//! The harness only dumps facts (events, objects, thread states); every
//! word the student reads is written here, so it can be tested without
//! running loom.
//!
//! The parts: `report.rs` parses the report, `races.rs` finds what went
//! wrong in the interleaving, `steps.rs` words its steps, `verdict.rs` (with
//! `assertion.rs` and `deadlock.rs`) words the verdict, and `evidence.rs`
//! points at the student's lines.

mod assertion;
mod deadlock;
mod evidence;
mod races;
mod report;
mod steps;
mod verdict;

pub use evidence::Evidence;
pub use report::{Report, parse};
pub use verdict::Verdict;
