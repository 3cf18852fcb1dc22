//! `std::sync` for model checking: `Arc`, `Mutex`, `RwLock`, `Condvar`,
//! `Barrier`, plus the `atomic` and `mpsc` modules.
//!
//! Each lock wraps loom's and records acquisitions, releases (with the
//! guarded value where [`peek`](crate::peek) can show it) and blocking, so a
//! failing interleaving reads as "thread 1 locked the Mutex at lib.rs:9 and
//! saw 0". Poisoning never happens under the model (a panic ends the
//! exploration), so the `LockResult`s are always `Ok`. What `Mutex` and
//! `RwLock` share (the traced guard, the wait, the printing) is `lock.rs`.

use crate::peek::peek;
use crate::trace::{self, Loc, ObjId, Wait};
use lock::{Held, Mode};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::panic::Location;

pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

#[path = "atomic.rs"]
pub mod atomic;
#[path = "mpsc.rs"]
pub mod mpsc;
#[path = "lock.rs"]
mod lock;

fn short_type<T: ?Sized>() -> String {
    // "alloc::vec::Vec<u64>" -> "Vec<u64>": students see their own words.
    let full = std::any::type_name::<T>();
    let mut out = String::new();
    let mut word = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            out.push_str(word.rsplit("::").next().unwrap_or(""));
            word.clear();
            out.push(c);
        }
    }
    out.push_str(word.rsplit("::").next().unwrap_or(""));
    out
}

// ---------------------------------------------------------------- Arc

/// `std::sync::Arc` over loom's, whose reference counting is modelled.
pub struct Arc<T: ?Sized>(loom::sync::Arc<T>);

impl<T> Arc<T> {
    #[track_caller]
    pub fn new(value: T) -> Arc<T> {
        Arc(loom::sync::Arc::new(value))
    }

    pub fn try_unwrap(this: Arc<T>) -> Result<T, Arc<T>> {
        loom::sync::Arc::try_unwrap(this.0).map_err(Arc)
    }

    pub fn into_inner(this: Arc<T>) -> Option<T> {
        Arc::try_unwrap(this).ok()
    }
}

impl<T: ?Sized> Arc<T> {
    pub fn strong_count(this: &Arc<T>) -> usize {
        loom::sync::Arc::strong_count(&this.0)
    }

    pub fn ptr_eq(this: &Arc<T>, other: &Arc<T>) -> bool {
        loom::sync::Arc::ptr_eq(&this.0, &other.0)
    }

    pub fn get_mut(this: &mut Arc<T>) -> Option<&mut T> {
        loom::sync::Arc::get_mut(&mut this.0)
    }
}

impl<T: ?Sized> Clone for Arc<T> {
    fn clone(&self) -> Self {
        Arc(self.0.clone())
    }
}

impl<T: ?Sized> Deref for Arc<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> AsRef<T> for Arc<T> {
    fn as_ref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> std::borrow::Borrow<T> for Arc<T> {
    fn borrow(&self) -> &T {
        &self.0
    }
}

impl<T: Default> Default for Arc<T> {
    fn default() -> Self {
        Arc::new(T::default())
    }
}

impl<T> From<T> for Arc<T> {
    fn from(value: T) -> Self {
        Arc::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Arc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for Arc<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + PartialEq> PartialEq for Arc<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: ?Sized + Eq> Eq for Arc<T> {}

// ---------------------------------------------------------------- Mutex

/// `std::sync::Mutex`, traced.
pub struct Mutex<T> {
    inner: loom::sync::Mutex<T>,
    id: ObjId,
}

/// `std::sync::MutexGuard`, traced: dropping it records the release.
pub struct MutexGuard<'a, T> {
    held: Held<loom::sync::MutexGuard<'a, T>>,
}

impl<T> Mutex<T> {
    #[track_caller]
    pub fn new(value: T) -> Mutex<T> {
        let id = trace::register(format!("Mutex<{}>", short_type::<T>()), Location::caller());
        Mutex {
            inner: loom::sync::Mutex::new(value),
            id,
        }
    }

    #[track_caller]
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        let loc = Location::caller();
        let guard = lock::acquire(Mode::Lock, self.id, loc, || self.inner.lock());
        Ok(self.locked(guard, loc))
    }

    #[track_caller]
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        let loc = Location::caller();
        match self.inner.try_lock() {
            Ok(guard) => Ok(self.locked(guard, loc)),
            Err(_) => {
                trace::event(Some(self.id), Some(loc), "try-lock-failed", [None, None]);
                Err(TryLockError::WouldBlock)
            }
        }
    }

    fn locked<'a>(&'a self, guard: loom::sync::MutexGuard<'a, T>, loc: Loc) -> MutexGuard<'a, T> {
        MutexGuard {
            held: Held::taken(guard, self.id, Mode::Lock, loc),
        }
    }

    pub fn into_inner(self) -> LockResult<T> {
        lock::consumed(self.id);
        Ok(self
            .inner
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner))
    }

    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        lock::consumed(self.id);
        Ok(self.inner.get_mut().unwrap_or_else(PoisonError::into_inner))
    }
}

impl<T: Default> Default for Mutex<T> {
    #[track_caller]
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    #[track_caller]
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

/// As std writes it (a `try_lock`, then the value or `"<locked>"`, quoted
/// as std quotes it): a library must not be able to tell the model from a
/// real run by what it prints.
impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        lock::fmt_lock(f, "Mutex", || self.try_lock().ok(), &"<locked>")
    }
}

// ---------------------------------------------------------------- RwLock

/// `std::sync::RwLock`, traced.
pub struct RwLock<T> {
    inner: loom::sync::RwLock<T>,
    id: ObjId,
}

/// `std::sync::RwLockReadGuard`, traced.
pub struct RwLockReadGuard<'a, T> {
    held: Held<loom::sync::RwLockReadGuard<'a, T>>,
}

/// `std::sync::RwLockWriteGuard`, traced.
pub struct RwLockWriteGuard<'a, T> {
    held: Held<loom::sync::RwLockWriteGuard<'a, T>>,
}

impl<T> RwLock<T> {
    #[track_caller]
    pub fn new(value: T) -> RwLock<T> {
        let id = trace::register(format!("RwLock<{}>", short_type::<T>()), Location::caller());
        RwLock {
            inner: loom::sync::RwLock::new(value),
            id,
        }
    }

    #[track_caller]
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let loc = Location::caller();
        let guard = lock::acquire(Mode::Read, self.id, loc, || self.inner.read());
        Ok(self.read_locked(guard, loc))
    }

    fn read_locked<'a>(
        &'a self,
        guard: loom::sync::RwLockReadGuard<'a, T>,
        loc: Loc,
    ) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard {
            held: Held::taken(guard, self.id, Mode::Read, loc),
        }
    }

    #[track_caller]
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let loc = Location::caller();
        let guard = lock::acquire(Mode::Write, self.id, loc, || self.inner.write());
        Ok(self.write_locked(guard, loc))
    }

    fn write_locked<'a>(
        &'a self,
        guard: loom::sync::RwLockWriteGuard<'a, T>,
        loc: Loc,
    ) -> RwLockWriteGuard<'a, T> {
        RwLockWriteGuard {
            held: Held::taken(guard, self.id, Mode::Write, loc),
        }
    }

    #[track_caller]
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        let loc = Location::caller();
        match self.inner.try_read() {
            Ok(guard) => Ok(self.read_locked(guard, loc)),
            Err(_) => Err(TryLockError::WouldBlock),
        }
    }

    #[track_caller]
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        let loc = Location::caller();
        match self.inner.try_write() {
            Ok(guard) => Ok(self.write_locked(guard, loc)),
            Err(_) => Err(TryLockError::WouldBlock),
        }
    }

    pub fn into_inner(self) -> LockResult<T> {
        lock::consumed(self.id);
        Ok(self
            .inner
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner))
    }

    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        lock::consumed(self.id);
        Ok(self.inner.get_mut().unwrap_or_else(PoisonError::into_inner))
    }
}

impl<T: Default> Default for RwLock<T> {
    #[track_caller]
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

/// As std writes it (a `try_read`, then the value or `<locked>`, unquoted
/// as std leaves it).
impl<T: fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        lock::fmt_lock(f, "RwLock", || self.try_read().ok(), &format_args!("<locked>"))
    }
}

// ---------------------------------------------------------------- guards

/// A guard's access to its value (a mutable borrow makes the release a
/// write), and its printing, which is its value's as in std.
macro_rules! guard {
    ($guard:ident $(, $mutable:ident)?) => {
        impl<T> Deref for $guard<'_, T> {
            type Target = T;
            fn deref(&self) -> &T {
                self.held.value()
            }
        }

        $(guard!(@$mutable $guard);)?

        impl<T: fmt::Debug> fmt::Debug for $guard<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                (**self).fmt(f)
            }
        }

        impl<T: fmt::Display> fmt::Display for $guard<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                (**self).fmt(f)
            }
        }
    };
    (@mutable $guard:ident) => {
        impl<T> DerefMut for $guard<'_, T> {
            fn deref_mut(&mut self) -> &mut T {
                self.held.value_mut()
            }
        }
    };
}

guard!(MutexGuard, mutable);
guard!(RwLockReadGuard);
guard!(RwLockWriteGuard, mutable);

// ---------------------------------------------------------------- Condvar

/// `std::sync::WaitTimeoutResult`. Under the model a timed wait never times
/// out: it behaves as `wait` (the timeout is taken to be long enough).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

/// `std::sync::Condvar`, traced.
pub struct Condvar {
    inner: loom::sync::Condvar,
    id: ObjId,
}

impl Condvar {
    #[track_caller]
    pub fn new() -> Condvar {
        Condvar {
            inner: loom::sync::Condvar::new(),
            id: trace::register("Condvar".into(), Location::caller()),
        }
    }

    #[track_caller]
    pub fn wait<'a, T>(&self, mut guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        let loc = Location::caller();
        let mutex = guard.held.id;
        guard.held.release();
        let inner = guard.held.guard.take().expect("guard is present");
        trace::event(Some(self.id), Some(loc), "wait", [None, None]);
        trace::blocked(Wait::Condvar(self.id, mutex), loc);
        let inner = self
            .inner
            .wait(inner)
            .unwrap_or_else(PoisonError::into_inner);
        trace::unblocked();
        trace::acquired(mutex, "lock", loc);
        trace::event(Some(mutex), Some(loc), "relock", [peek(&*inner), None]);
        guard.held.guard = Some(inner);
        Ok(guard)
    }

    #[track_caller]
    pub fn wait_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    #[track_caller]
    pub fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        _timeout: std::time::Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let guard = self.wait(guard).unwrap_or_else(PoisonError::into_inner);
        Ok((guard, WaitTimeoutResult(false)))
    }

    #[track_caller]
    pub fn wait_timeout_while<'a, T, F>(
        &self,
        guard: MutexGuard<'a, T>,
        _timeout: std::time::Duration,
        condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        let guard = self
            .wait_while(guard, condition)
            .unwrap_or_else(PoisonError::into_inner);
        Ok((guard, WaitTimeoutResult(false)))
    }

    #[track_caller]
    pub fn notify_one(&self) {
        self.inner.notify_one();
        trace::event(
            Some(self.id),
            Some(Location::caller()),
            "notify-one",
            [None, None],
        );
    }

    #[track_caller]
    pub fn notify_all(&self) {
        self.inner.notify_all();
        trace::event(
            Some(self.id),
            Some(Location::caller()),
            "notify-all",
            [None, None],
        );
    }
}

impl Default for Condvar {
    #[track_caller]
    fn default() -> Self {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Condvar { .. }")
    }
}

// ---------------------------------------------------------------- Barrier

/// `std::sync::Barrier` (loom has none): a generation counter under a
/// loom mutex and condvar.
pub struct Barrier {
    state: loom::sync::Mutex<(usize, usize)>,
    cvar: loom::sync::Condvar,
    parties: usize,
    id: ObjId,
}

/// `std::sync::BarrierWaitResult`.
#[derive(Debug)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    #[track_caller]
    pub fn new(n: usize) -> Barrier {
        Barrier {
            state: loom::sync::Mutex::new((0, 0)),
            cvar: loom::sync::Condvar::new(),
            parties: n,
            id: trace::register("Barrier".into(), Location::caller()),
        }
    }

    #[track_caller]
    pub fn wait(&self) -> BarrierWaitResult {
        let loc = Location::caller();
        trace::event(Some(self.id), Some(loc), "barrier-wait", [None, None]);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let generation = state.1;
        state.0 += 1;
        if state.0 < self.parties {
            trace::blocked(Wait::Barrier(self.id), loc);
            while generation == state.1 {
                state = self
                    .cvar
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            trace::unblocked();
            BarrierWaitResult(false)
        } else {
            state.0 = 0;
            state.1 = state.1.wrapping_add(1);
            self.cvar.notify_all();
            BarrierWaitResult(true)
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Barrier { .. }")
    }
}
