//! `grader_conc`: the standard library as seen by a submission under the
//! model checker.
//!
//! The grader rewrites a submission's `std::sync`, `std::thread` and
//! `std::hint` paths (and `use std::{...}` trees) to this crate. `sync`,
//! `thread` and `hint` are loom-backed and traced; everything else is
//! `std`'s own (re-exported by the glob below), so rewriting a whole
//! `use std::{collections::HashMap, sync::Mutex}` tree is harmless.
//! Items that cannot be modelled (`OnceLock`, `LazyLock`, `Weak`, ...) are
//! deliberately absent: the rewriter rejects them by name first.

#![allow(deprecated)]

pub use std::*;

mod peek;
#[doc(hidden)]
pub mod trace;

pub mod sync;
pub mod thread;

#[doc(hidden)]
pub mod model;

/// `std::hint`, with `spin_loop` as a yield point in the model.
pub mod hint {
    pub use std::hint::black_box;

    /// `std::hint::spin_loop`: lets the other threads run.
    pub fn spin_loop() {
        loom::thread::yield_now();
    }
}

/// Checks a scenario's expectation; when it does not hold, the model stops
/// with the message (the scenario's assertion in plain words).
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            $crate::model::assertion_failed(&::std::format!($($msg)+));
        }
    };
}
