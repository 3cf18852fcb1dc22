//! `std::sync::mpsc` for model checking, built on loom's `Mutex` and
//! `Condvar`.
//!
//! loom 0.7's own channel lacks what students write: it does not track
//! senders, so `recv` never returns `Err` once every `Sender` is dropped
//! (the end of a `for x in rx` loop), and it has no iterators. This one
//! counts live senders, so "the loop never ends because a sender is still
//! alive" is a deadlock the model finds, and it records which senders are
//! still alive for the explanation.

use crate::peek::peek;
use crate::trace::{self, ObjId, Wait};
use loom::sync::{Condvar, Mutex};
use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;

pub use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

struct State<T> {
    queue: VecDeque<T>,
    senders: usize,
    receiver: bool,
    /// Messages taken so far (a rendezvous sender waits for its own).
    taken: u64,
    sent: u64,
    /// Receivers blocked in `recv` and senders blocked on a full channel:
    /// a notification with nobody waiting is skipped, since every loom
    /// operation multiplies the interleavings to explore.
    receiving: usize,
    sending: usize,
}

struct Chan<T> {
    state: Mutex<State<T>>,
    /// Signalled when a message arrives or the last sender leaves.
    ready: Condvar,
    /// Signalled when a message is taken or the receiver leaves.
    space: Condvar,
    /// `None`: unbounded; `Some(0)`: rendezvous.
    bound: Option<usize>,
    id: ObjId,
}

impl<T> Chan<T> {
    fn lock(&self) -> loom::sync::MutexGuard<'_, State<T>> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    #[track_caller]
    fn new(bound: Option<usize>, kind: &str) -> Arc<Chan<T>> {
        Arc::new(Chan {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                senders: 1,
                receiver: true,
                taken: 0,
                sent: 0,
                receiving: 0,
                sending: 0,
            }),
            ready: Condvar::new(),
            space: Condvar::new(),
            bound,
            id: trace::register(kind.into(), Location::caller()),
        })
    }

    #[track_caller]
    fn send(&self, msg: T) -> Result<(), SendError<T>> {
        let loc = Location::caller();
        let mut st = self.lock();
        if let Some(bound) = self.bound {
            while st.receiver && st.queue.len() >= bound.max(1) {
                st = self.wait_space(st, loc);
            }
        }
        if !st.receiver {
            trace::event(Some(self.id), Some(loc), "send-failed", [peek(&msg), None]);
            return Err(SendError(msg));
        }
        trace::event(Some(self.id), Some(loc), "send", [peek(&msg), None]);
        st.queue.push_back(msg);
        st.sent += 1;
        let ticket = st.sent;
        if st.receiving > 0 {
            self.ready.notify_one();
        }
        if self.bound == Some(0) {
            while st.receiver && st.taken < ticket {
                st = self.wait_space(st, loc);
            }
        }
        Ok(())
    }

    fn wait_space<'a>(
        &self,
        mut st: loom::sync::MutexGuard<'a, State<T>>,
        loc: trace::Loc,
    ) -> loom::sync::MutexGuard<'a, State<T>> {
        st.sending += 1;
        trace::blocked(Wait::Send(self.id), loc);
        let mut st = self
            .space
            .wait(st)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        trace::unblocked();
        st.sending -= 1;
        st
    }

    fn took(&self, st: &mut State<T>) {
        st.taken += 1;
        if st.sending > 0 {
            self.space.notify_all();
        }
    }

    #[track_caller]
    fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        let loc = Location::caller();
        let mut st = self.lock();
        if !st.receiver {
            return Err(TrySendError::Disconnected(msg));
        }
        if let Some(bound) = self.bound {
            if st.queue.len() >= bound.max(1) {
                return Err(TrySendError::Full(msg));
            }
        }
        trace::event(Some(self.id), Some(loc), "send", [peek(&msg), None]);
        st.queue.push_back(msg);
        st.sent += 1;
        if st.receiving > 0 {
            self.ready.notify_one();
        }
        Ok(())
    }

    #[track_caller]
    fn recv(&self) -> Result<T, RecvError> {
        let loc = Location::caller();
        let mut st = self.lock();
        loop {
            if let Some(msg) = st.queue.pop_front() {
                self.took(&mut st);
                trace::event(Some(self.id), Some(loc), "recv", [peek(&msg), None]);
                return Ok(msg);
            }
            if st.senders == 0 {
                trace::event(Some(self.id), Some(loc), "recv-closed", [None, None]);
                return Err(RecvError);
            }
            st.receiving += 1;
            trace::blocked(Wait::Recv(self.id), loc);
            st = self
                .ready
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            trace::unblocked();
            st.receiving -= 1;
        }
    }

    #[track_caller]
    fn try_recv(&self) -> Result<T, TryRecvError> {
        let loc = Location::caller();
        let mut st = self.lock();
        if let Some(msg) = st.queue.pop_front() {
            self.took(&mut st);
            trace::event(Some(self.id), Some(loc), "recv", [peek(&msg), None]);
            Ok(msg)
        } else if st.senders == 0 {
            Err(TryRecvError::Disconnected)
        } else {
            trace::event(Some(self.id), Some(loc), "try-recv-empty", [None, None]);
            Err(TryRecvError::Empty)
        }
    }

    fn add_sender(&self) {
        self.lock().senders += 1;
    }

    fn drop_sender(&self) {
        let mut st = self.lock();
        st.senders -= 1;
        if st.senders == 0 && st.receiving > 0 {
            self.ready.notify_all();
        }
    }
}

/// `std::sync::mpsc::Sender`.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
    number: usize,
}

/// `std::sync::mpsc::SyncSender`.
pub struct SyncSender<T> {
    chan: Arc<Chan<T>>,
    number: usize,
}

/// `std::sync::mpsc::Receiver`.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

/// `std::sync::mpsc::channel`.
#[track_caller]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let chan = Chan::new(None, "channel");
    let number = trace::sender_created(chan.id, Location::caller());
    (
        Sender {
            chan: chan.clone(),
            number,
        },
        Receiver { chan },
    )
}

/// `std::sync::mpsc::sync_channel`.
#[track_caller]
pub fn sync_channel<T>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    let chan = Chan::new(Some(bound), "sync_channel");
    let number = trace::sender_created(chan.id, Location::caller());
    (
        SyncSender {
            chan: chan.clone(),
            number,
        },
        Receiver { chan },
    )
}

macro_rules! sender_common {
    ($name:ident) => {
        impl<T> $name<T> {
            #[track_caller]
            pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
                self.chan.send(msg)
            }
        }

        impl<T> Clone for $name<T> {
            #[track_caller]
            fn clone(&self) -> Self {
                self.chan.add_sender();
                let number = trace::sender_created(self.chan.id, Location::caller());
                $name {
                    chan: self.chan.clone(),
                    number,
                }
            }
        }

        impl<T> Drop for $name<T> {
            fn drop(&mut self) {
                trace::sender_dropped(self.chan.id, self.number);
                self.chan.drop_sender();
            }
        }

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), " { .. }"))
            }
        }
    };
}

sender_common!(Sender);
sender_common!(SyncSender);

impl<T> SyncSender<T> {
    #[track_caller]
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(msg)
    }
}

impl<T> Receiver<T> {
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.chan.recv()
    }

    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Under the model the timeout never expires: this waits as `recv`
    /// does (a wait with a timeout in a loop would be a busy-wait that the
    /// model checker cannot explore).
    #[track_caller]
    pub fn recv_timeout(&self, _timeout: std::time::Duration) -> Result<T, RecvTimeoutError> {
        self.chan.recv().map_err(|_| RecvTimeoutError::Disconnected)
    }

    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut st = self.chan.lock();
        st.receiver = false;
        // Messages still queued are dropped with the channel, as in std.
        if st.sending > 0 {
            self.chan.space.notify_all();
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Receiver { .. }")
    }
}

/// `std::sync::mpsc::Iter`.
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

/// `std::sync::mpsc::TryIter`.
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

/// `std::sync::mpsc::IntoIter`.
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    #[track_caller]
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}
