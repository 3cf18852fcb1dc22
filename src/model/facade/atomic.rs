//! `std::sync::atomic` for model checking: every load, store and
//! read-modify-write is recorded with the value it saw or wrote, so a lost
//! update reads as "thread 1 read 0 ... thread 2 wrote 1".
//!
//! loom's atomics have no `const fn new`, so atomics in `static` items
//! cannot be modelled (the rewriter rejects them before compiling).

use crate::trace::{self, ObjId};
use std::fmt;
use std::panic::Location;

pub use std::sync::atomic::{Ordering, compiler_fence};

/// `std::sync::atomic::fence`.
pub fn fence(order: Ordering) {
    loom::sync::atomic::fence(order);
}

/// `std::sync::atomic::spin_loop_hint`: a yield point in the model.
#[deprecated(note = "use std::hint::spin_loop instead")]
pub fn spin_loop_hint() {
    loom::thread::yield_now();
}

fn show<T: ToString>(v: T) -> Option<String> {
    Some(v.to_string())
}

macro_rules! common {
    ($name:ident, $t:ty, $identity:ident, $unit:expr) => {
        impl $name {
            #[track_caller]
            pub fn new(v: $t) -> $name {
                let id = trace::register(stringify!($name).into(), Location::caller());
                if crate::observe::active() {
                    crate::observe::initial(id.0, show(v));
                }
                $name {
                    inner: loom::sync::atomic::$name::new(v),
                    id,
                }
            }

            #[track_caller]
            pub fn load(&self, order: Ordering) -> $t {
                // loom treats SeqCst as AcqRel (its README), so a SeqCst
                // load could read a stale value that no SeqCst execution
                // shows, and the explanation would be false. An identity
                // read-modify-write always reads the latest value.
                let v = if order == Ordering::SeqCst {
                    self.inner.$identity($unit, order)
                } else {
                    self.inner.load(order)
                };
                let order_name = match order {
                    Ordering::SeqCst => "SeqCst",
                    Ordering::Acquire => "Acquire",
                    _ => "Relaxed",
                };
                trace::event(
                    Some(self.id),
                    Some(Location::caller()),
                    "load",
                    [show(v), Some(order_name.to_string())],
                );
                v
            }

            #[track_caller]
            pub fn store(&self, v: $t, order: Ordering) {
                // Recorded after the operation: loom switches threads only
                // inside an operation, so the log follows execution order.
                if order == Ordering::SeqCst {
                    // As for `load`: loom orders a plain store only by
                    // coherence, so a later SeqCst store could land before
                    // an earlier one; a swap is ordered after the latest.
                    self.inner.swap(v, order);
                } else {
                    self.inner.store(v, order);
                }
                trace::event(
                    Some(self.id),
                    Some(Location::caller()),
                    "store",
                    [show(v), None],
                );
            }

            #[track_caller]
            pub fn swap(&self, v: $t, order: Ordering) -> $t {
                let old = self.inner.swap(v, order);
                self.rmw("swap", old, v);
                old
            }

            #[track_caller]
            pub fn compare_exchange(
                &self,
                current: $t,
                new: $t,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$t, $t> {
                let r = self.inner.compare_exchange(current, new, success, failure);
                self.cas(current, new, r);
                r
            }

            #[track_caller]
            pub fn compare_exchange_weak(
                &self,
                current: $t,
                new: $t,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$t, $t> {
                let r = self
                    .inner
                    .compare_exchange_weak(current, new, success, failure);
                self.cas(current, new, r);
                r
            }

            #[track_caller]
            pub fn fetch_update<F>(
                &self,
                set_order: Ordering,
                fetch_order: Ordering,
                mut f: F,
            ) -> Result<$t, $t>
            where
                F: FnMut($t) -> Option<$t>,
            {
                let mut prev = self.load(fetch_order);
                while let Some(next) = f(prev) {
                    match self.compare_exchange_weak(prev, next, set_order, fetch_order) {
                        Ok(v) => return Ok(v),
                        Err(v) => prev = v,
                    }
                }
                Err(prev)
            }

            pub fn into_inner(self) -> $t {
                if crate::observe::active() {
                    crate::observe::consumed(self.id.0);
                }
                self.inner.into_inner()
            }

            #[track_caller]
            fn rmw(&self, op: &'static str, old: $t, new: $t) {
                trace::event(
                    Some(self.id),
                    Some(Location::caller()),
                    op,
                    [show(old), show(new)],
                );
            }

            #[track_caller]
            fn cas(&self, current: $t, new: $t, r: Result<$t, $t>) {
                let loc = Some(Location::caller());
                match r {
                    Ok(_) => trace::event(Some(self.id), loc, "cas-ok", [show(current), show(new)]),
                    Err(seen) => trace::event(
                        Some(self.id),
                        loc,
                        "cas-failed",
                        [show(current), show(seen)],
                    ),
                }
            }
        }

        impl Default for $name {
            #[track_caller]
            fn default() -> Self {
                $name::new(Default::default())
            }
        }

        impl From<$t> for $name {
            #[track_caller]
            fn from(v: $t) -> Self {
                $name::new(v)
            }
        }

        /// As std writes it: the value, loaded with `Relaxed`.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.load(Ordering::Relaxed), f)
            }
        }
    };
}

macro_rules! fetch_ops {
    ($name:ident, $t:ty, $($op:ident),*) => {
        impl $name {
            $(
                #[track_caller]
                pub fn $op(&self, v: $t, order: Ordering) -> $t {
                    let old = self.inner.$op(v, order);
                    // The new value, as the operation computed it.
                    let probe = loom_free::$name::new(old);
                    probe.$op(v, Ordering::Relaxed);
                    self.rmw(stringify!($op), old, probe.into_inner());
                    old
                }
            )*
        }
    };
}

/// Plain std atomics, used only to compute what a read-modify-write wrote
/// (wrapping arithmetic exactly as the real operation), never shared.
mod loom_free {
    pub use std::sync::atomic::*;
}

macro_rules! int_atomic {
    ($($name:ident: $t:ty),*) => {
        $(
            /// The `std` atomic of the same name, traced.
            pub struct $name {
                inner: loom::sync::atomic::$name,
                id: ObjId,
            }
            common!($name, $t, fetch_add, 0);
            fetch_ops!($name, $t, fetch_add, fetch_sub, fetch_and, fetch_nand, fetch_or, fetch_xor, fetch_max, fetch_min);
        )*
    };
}

int_atomic!(
    AtomicUsize: usize, AtomicIsize: isize,
    AtomicU8: u8, AtomicU16: u16, AtomicU32: u32, AtomicU64: u64,
    AtomicI8: i8, AtomicI16: i16, AtomicI32: i32, AtomicI64: i64
);

/// `std::sync::atomic::AtomicBool`, traced.
pub struct AtomicBool {
    inner: loom::sync::atomic::AtomicBool,
    id: ObjId,
}
common!(AtomicBool, bool, fetch_or, false);
fetch_ops!(AtomicBool, bool, fetch_and, fetch_nand, fetch_or, fetch_xor);
