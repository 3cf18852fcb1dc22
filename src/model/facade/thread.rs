//! `std::thread` for model checking: `spawn`, `Builder`, `JoinHandle`,
//! `scope` (loom has none; built here over loom threads, joining every
//! scoped thread when the scope ends), `sleep` and `yield_now` (yield points:
//! the model explores every order anyway, so a sleep only lets others run),
//! `park`, `current` and `available_parallelism`.

use crate::trace::{self, Wait};
use std::marker::PhantomData;
use std::num::NonZeroUsize;
use std::panic::Location;
use std::sync::Mutex as StdMutex;
use std::time::Duration;

pub use loom::thread::{Thread, ThreadId};
pub use std::thread::{Result, panicking};

/// The message of the panic that stops a model which spawns more threads
/// than loom can model; the harness recognises it.
pub const TOO_MANY_THREADS: &str = "grader-model: too many threads";

#[track_caller]
fn spawn_traced<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + 'static,
    T: 'static,
{
    let loc = Location::caller();
    let Some(child) = trace::spawning(loc) else {
        panic!("{TOO_MANY_THREADS}");
    };
    trace::event(None, Some(loc), "spawn", [Some(child.to_string()), None]);
    // A plain flag, not a loom atomic: an extra loom operation per thread
    // would multiply the interleavings of every model for a method that
    // students rarely call.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    let inner = loom::thread::spawn(move || {
        trace::started(child);
        let value = f();
        if crate::observe::active() {
            crate::observe::returned(child, &value);
        }
        trace::finished();
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        value
    });
    JoinHandle { inner, child, done }
}

/// `std::thread::spawn`.
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    spawn_traced(f)
}

/// `std::thread::JoinHandle`.
pub struct JoinHandle<T> {
    inner: loom::thread::JoinHandle<T>,
    child: usize,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl<T> JoinHandle<T> {
    #[track_caller]
    pub fn join(self) -> Result<T> {
        let loc = Location::caller();
        trace::blocked(Wait::Join(self.child), loc);
        let r = self.inner.join();
        trace::unblocked();
        trace::event(
            None,
            Some(loc),
            "join",
            [Some(self.child.to_string()), None],
        );
        r
    }

    pub fn thread(&self) -> &Thread {
        self.inner.thread()
    }

    pub fn is_finished(&self) -> bool {
        self.done.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl<T> std::fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JoinHandle { .. }")
    }
}

/// `std::thread::Builder` (the name and stack size are accepted and
/// ignored by the model).
#[derive(Debug, Default)]
pub struct Builder {
    _private: (),
}

impl Builder {
    pub fn new() -> Builder {
        Builder { _private: () }
    }

    pub fn name(self, _name: String) -> Builder {
        self
    }

    pub fn stack_size(self, _size: usize) -> Builder {
        self
    }

    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> std::io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        Ok(spawn_traced(f))
    }

    #[track_caller]
    pub fn spawn_scoped<'scope, 'env, F, T>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        f: F,
    ) -> std::io::Result<ScopedJoinHandle<'scope, T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        Ok(scope.spawn(f))
    }
}

/// `std::thread::sleep`: a yield point. Under the model every order of the
/// threads is explored, so sleeping never makes an order impossible.
#[track_caller]
pub fn sleep(_dur: Duration) {
    trace::event(None, Some(Location::caller()), "sleep", [None, None]);
    loom::thread::yield_now();
}

/// `std::thread::yield_now`.
#[track_caller]
pub fn yield_now() {
    loom::thread::yield_now();
}

/// `std::thread::current`.
pub fn current() -> Thread {
    loom::thread::current()
}

/// `std::thread::park`.
#[track_caller]
pub fn park() {
    let loc = Location::caller();
    trace::blocked(Wait::Park, loc);
    loom::thread::park();
    trace::unblocked();
}

/// `std::thread::park_timeout`: returns at once, as a spurious wake-up may.
pub fn park_timeout(_dur: Duration) {
    loom::thread::yield_now();
}

/// `std::thread::available_parallelism`: the models run two workers.
pub fn available_parallelism() -> std::io::Result<NonZeroUsize> {
    Ok(NonZeroUsize::new(2).expect("2 is not zero"))
}

// ---------------------------------------------------------------- scope

type Slot<T> = std::sync::Arc<StdMutex<Option<Result<T>>>>;

/// `std::thread::Scope`.
pub struct Scope<'scope, 'env: 'scope> {
    handles: StdMutex<Vec<Option<JoinHandle<()>>>>,
    _scope: PhantomData<&'scope mut &'scope ()>,
    _env: PhantomData<&'env mut &'env ()>,
}

/// `std::thread::ScopedJoinHandle`.
pub struct ScopedJoinHandle<'scope, T> {
    index: usize,
    slot: Slot<T>,
    handles: &'scope StdMutex<Vec<Option<JoinHandle<()>>>>,
}

impl<'scope> Scope<'scope, '_> {
    #[track_caller]
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let slot: Slot<T> = std::sync::Arc::new(StdMutex::new(None));
        let out = slot.clone();
        let body: Box<dyn FnOnce() + 'scope> = Box::new(move || {
            let value = f();
            if crate::observe::active() {
                crate::observe::returned(trace::me(), &value);
            }
            *out.lock().unwrap_or_else(|e| e.into_inner()) = Some(Ok(value));
        });
        // SAFETY: the thread borrows from 'scope, and `scope` joins every
        // thread spawned here before 'scope ends (and aborts the process
        // rather than unwind past live scoped threads).
        let body: Box<dyn FnOnce() + 'static> = unsafe { std::mem::transmute(body) };
        let handle = spawn_traced(body);
        let mut handles = self.handles.lock().unwrap_or_else(|e| e.into_inner());
        handles.push(Some(handle));
        ScopedJoinHandle {
            index: handles.len() - 1,
            slot,
            handles: &self.handles,
        }
    }
}

impl<T> ScopedJoinHandle<'_, T> {
    #[track_caller]
    pub fn join(self) -> Result<T> {
        let handle = self.handles.lock().unwrap_or_else(|e| e.into_inner())[self.index].take();
        if let Some(handle) = handle {
            handle.join()?;
        }
        let value = self.slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        value.expect("a joined scoped thread has stored its result")
    }

    pub fn is_finished(&self) -> bool {
        match &self.handles.lock().unwrap_or_else(|e| e.into_inner())[self.index] {
            Some(h) => h.is_finished(),
            None => true,
        }
    }
}

/// Aborts instead of unwinding past scoped threads that may still borrow
/// the stack. The harness's panic hook has already reported the panic.
struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        if std::thread::panicking() {
            std::process::abort();
        }
    }
}

/// `std::thread::scope`: every thread spawned in the scope is joined before
/// it returns.
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let loc = Location::caller();
    let guard = AbortOnUnwind;
    let scope = Scope {
        handles: StdMutex::new(Vec::new()),
        _scope: PhantomData,
        _env: PhantomData,
    };
    let value = f(&scope);
    loop {
        let next = {
            let mut handles = scope.handles.lock().unwrap_or_else(|e| e.into_inner());
            handles.iter_mut().find_map(Option::take)
        };
        match next {
            Some(handle) => {
                let child = handle.child;
                trace::blocked(Wait::Join(child), loc);
                let _ = handle.inner.join();
                trace::unblocked();
                trace::event(
                    None,
                    Some(loc),
                    "scope-join",
                    [Some(child.to_string()), None],
                );
            }
            None => break,
        }
    }
    drop(guard);
    value
}
