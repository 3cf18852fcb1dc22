//! What the model checker can represent: the items of `std::sync`,
//! `std::thread` and `std::hint` that the facade models, the names that
//! are refused wherever they appear (the clock, introspection of types and
//! of the process), and the [`Rejection`] that says why, at a line.

/// Something the model checker cannot check, at a line of a file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rejection {
    /// Path relative to the submission's `src/`, e.g. `lib.rs`.
    pub file: String,
    pub line: usize,
    /// What was found, in the student's words (`std::sync::OnceLock`).
    pub what: String,
    /// Why it cannot be model-checked, and what to use instead.
    pub why: String,
}

impl Rejection {
    /// `lib.rs:12`; or only the file (or function) when the line is not
    /// known (line 0).
    pub fn at(&self) -> String {
        match self.line {
            0 => self.file.clone(),
            n => format!("{}:{n}", self.file),
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at {}: {}", self.what, self.at(), self.why)
    }
}

pub(super) const SYNC: &[&str] = &[
    "Arc",
    "Mutex",
    "MutexGuard",
    "RwLock",
    "RwLockReadGuard",
    "RwLockWriteGuard",
    "Condvar",
    "WaitTimeoutResult",
    "Barrier",
    "BarrierWaitResult",
    "LockResult",
    "PoisonError",
    "TryLockError",
    "TryLockResult",
    "atomic",
    "mpsc",
];
pub(super) const ATOMIC: &[&str] = &[
    "AtomicBool",
    "AtomicUsize",
    "AtomicIsize",
    "AtomicU8",
    "AtomicU16",
    "AtomicU32",
    "AtomicU64",
    "AtomicI8",
    "AtomicI16",
    "AtomicI32",
    "AtomicI64",
    "Ordering",
    "fence",
    "compiler_fence",
    "spin_loop_hint",
];
pub(super) const MPSC: &[&str] = &[
    "channel",
    "sync_channel",
    "Sender",
    "SyncSender",
    "Receiver",
    "SendError",
    "RecvError",
    "TryRecvError",
    "RecvTimeoutError",
    "TrySendError",
    "Iter",
    "TryIter",
    "IntoIter",
];
pub(super) const THREAD: &[&str] = &[
    "spawn",
    "scope",
    "Scope",
    "ScopedJoinHandle",
    "JoinHandle",
    "Builder",
    "sleep",
    "yield_now",
    "current",
    "Thread",
    "ThreadId",
    "park",
    "park_timeout",
    "available_parallelism",
    "panicking",
    "Result",
];
pub(super) const HINT: &[&str] = &["spin_loop", "black_box"];

/// Type names that make a `static` a shared, stateful object.
pub(super) const STATEFUL: &[&str] = &[
    "Mutex", "RwLock", "Condvar", "Barrier", "OnceLock", "LazyLock", "Once", "OnceCell",
];

pub(super) const CLOCK: &[&str] = &["Instant", "SystemTime"];

/// What tells a library's own types apart, some of it at compile time
/// (`size_of` is a `const fn`, so no call of it need reach the compiled
/// code that [`crate::model::bypass`] reads): the facade's types are not std's,
/// and a library that branches on them could be right under the model
/// and racy in a real run.
pub(super) const INTROSPECT: &[&str] = &[
    "size_of",
    "size_of_val",
    "align_of",
    "align_of_val",
    "type_name",
    "type_name_of_val",
    "type_id",
    "TypeId",
    "Layout",
    "needs_drop",
    "offset_of",
];

/// Why a library may not look at its types or at the process it runs in.
pub(crate) const INTROSPECT_WHY: &str = "lets the library tell the model check from a real run \
     (its types and the process around it differ between the two), so code that is right \
     under the model could race in a real run; a library for this course has no need of it";

/// Why an item of a modelled module is not available, or `None` when it is.
pub(super) fn unsupported(segments: &[String]) -> Option<String> {
    let seg = |i: usize| segments.get(i).map(String::as_str);
    let (allowed, item): (&[&str], Option<&str>) = match (seg(1), seg(2), seg(3)) {
        (Some("sync"), Some("atomic"), item) => (ATOMIC, item),
        (Some("sync"), Some("mpsc"), item) => (MPSC, item),
        (Some("sync"), item, _) => (SYNC, item),
        (Some("thread"), item, _) => (THREAD, item),
        (Some("hint"), item, _) => (HINT, item),
        _ => return None,
    };
    let item = item?;
    if item == "self" || allowed.contains(&item) {
        return None;
    }
    Some(match item {
        "OnceLock" | "LazyLock" | "Once" | "OnceState" => {
            "one-time initialisation is not modelled by the model checker; \
             create the value before spawning the threads and share it"
                .to_string()
        }
        "Weak" => "weak references are not modelled; use `Arc`".to_string(),
        _ => format!(
            "the model checker does not model `{item}`; the course's exercises need only \
             threads, `Arc`, `Mutex`, `RwLock`, `Condvar`, atomics and channels"
        ),
    })
}
