//! What the facade's `Mutex` and `RwLock` share: a held loom guard that
//! records where it was taken and what it held, whether the value was
//! borrowed mutably, and its release ([`Held`]); waiting for a lock as a
//! traced block ([`acquire`]); and printing a lock as std does
//! ([`fmt_lock`]).

use crate::peek::peek;
use crate::trace::{self, Loc, ObjId, Wait};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, PoisonError};

/// How a lock is held: a `Mutex`'s lock, an `RwLock`'s read or write lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Lock,
    Read,
    Write,
}

impl Mode {
    /// What a thread that waits for lock `id` in this mode waits for.
    fn wait(self, id: ObjId) -> Wait {
        match self {
            Mode::Lock => Wait::Lock(id),
            Mode::Read => Wait::Read(id),
            Mode::Write => Wait::Write(id),
        }
    }

    /// The mode as the trace records what a thread holds.
    fn held(self) -> &'static str {
        match self {
            Mode::Lock => "lock",
            Mode::Read => "read",
            Mode::Write => "write",
        }
    }

    /// The event of taking the lock.
    fn taken(self) -> &'static str {
        match self {
            Mode::Lock => "lock",
            Mode::Read => "read-lock",
            Mode::Write => "write-lock",
        }
    }

    /// The event of releasing it.
    fn released(self) -> &'static str {
        match self {
            Mode::Lock => "unlock",
            Mode::Read => "read-unlock",
            Mode::Write => "write-unlock",
        }
    }
}

/// Takes lock `id` in `mode` with `take`, recorded as a wait at `loc` for
/// as long as it blocks. Poisoning never happens under the model.
pub(crate) fn acquire<G>(
    mode: Mode,
    id: ObjId,
    loc: Loc,
    take: impl FnOnce() -> LockResult<G>,
) -> G {
    trace::blocked(mode.wait(id), loc);
    let guard = take().unwrap_or_else(PoisonError::into_inner);
    trace::unblocked();
    guard
}

/// A loom guard, traced: taking it records the value the lock held, and
/// dropping it records the release (a write when the value was borrowed
/// mutably) before loom's guard lets the lock go.
pub(crate) struct Held<G: Deref>
where
    G::Target: Sized,
{
    /// `None` only while `Condvar::wait` has handed the lock back.
    pub(crate) guard: Option<G>,
    pub(crate) id: ObjId,
    mode: Mode,
    /// Whether the value was borrowed mutably (the release is a write).
    wrote: bool,
}

impl<G: Deref> Held<G>
where
    G::Target: Sized,
{
    /// Records that lock `id` was taken in `mode` at `loc`, with the value
    /// it held.
    pub(crate) fn taken(guard: G, id: ObjId, mode: Mode, loc: Loc) -> Held<G> {
        trace::acquired(id, mode.held(), loc);
        trace::event(Some(id), Some(loc), mode.taken(), [peek(&*guard), None]);
        Held {
            guard: Some(guard),
            id,
            mode,
            wrote: false,
        }
    }

    /// Records the release of the lock, once (a read lock's release shows
    /// no value: it changed nothing).
    pub(crate) fn release(&mut self) {
        if let Some(guard) = self.guard.as_ref() {
            let values = match self.mode {
                Mode::Read => [None, None],
                Mode::Lock | Mode::Write => {
                    let wrote = self.wrote.then(|| "w".to_string());
                    [peek(&**guard), wrote]
                }
            };
            trace::event(Some(self.id), None, self.mode.released(), values);
            self.wrote = false;
            trace::released(self.id);
        }
    }

    pub(crate) fn value(&self) -> &G::Target {
        self.guard
            .as_deref()
            .expect("guard is present outside Condvar::wait")
    }
}

impl<G: DerefMut> Held<G>
where
    G::Target: Sized,
{
    pub(crate) fn value_mut(&mut self) -> &mut G::Target {
        self.wrote = true;
        self.guard
            .as_deref_mut()
            .expect("guard is present outside Condvar::wait")
    }
}

impl<G: Deref> Drop for Held<G>
where
    G::Target: Sized,
{
    fn drop(&mut self) {
        self.release();
    }
}

/// The value of lock `id` taken out by `into_inner` or `get_mut`: for an
/// observed call, a read.
pub(crate) fn consumed(id: ObjId) {
    if crate::observe::active() {
        crate::observe::consumed(id.0);
    }
}

/// A lock as std prints it: `Name { data: .., poisoned: false, .. }`, the
/// value read with `try_lock` (which the trace records, as std's does it),
/// or `locked` when the lock is taken. A library must not be able to tell
/// the model from a real run by what it prints.
pub(crate) fn fmt_lock<G: Deref>(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    try_lock: impl FnOnce() -> Option<G>,
    locked: &dyn fmt::Debug,
) -> fmt::Result
where
    G::Target: fmt::Debug,
{
    let mut d = f.debug_struct(name);
    match try_lock() {
        Some(guard) => d.field("data", &&*guard),
        None => d.field("data", locked),
    };
    d.field("poisoned", &false);
    d.finish_non_exhaustive()
}
