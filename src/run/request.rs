//! What to run: the program, its arguments, folder and environment, the
//! limits it runs under ([`Limits`]), what the sandbox lets it read and
//! write, and the descriptors and stdin it is handed ([`Request`]).

use crate::sandbox::{self, Selection};
use std::ffi::OsString;
use std::os::fd::{OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Limits of one run.
#[derive(Debug, Clone)]
pub struct Limits {
    pub wall: Duration,
    /// CPU seconds of each process (all its threads); rounded up to a second.
    pub cpu: Duration,
    /// stdout + stderr bytes kept; one more byte stops the run.
    pub output_bytes: usize,
    /// Largest file the program may write (RLIMIT_FSIZE).
    pub file_bytes: u64,
    /// Address-space cap, used where no cgroup limits memory. Kept far above
    /// what threads reserve: a cap at or below ~2.6 GB broke a legitimate
    /// 1,000-thread program (research/sandbox.md).
    pub address_space_bytes: u64,
    /// Memory of the whole run, where a cgroup enforces it.
    pub memory_bytes: u64,
    /// Threads and processes at once (a cgroup's pids.max, or RLIMIT_NPROC
    /// inside the run's user namespace).
    pub tasks: u64,
}

impl Limits {
    pub fn from_spec(l: &crate::spec::Limits) -> Limits {
        Limits {
            wall: Duration::from_millis(l.wall_ms),
            cpu: Duration::from_millis(l.cpu_ms),
            output_bytes: l.output_bytes,
            file_bytes: l.file_bytes,
            address_space_bytes: (l.memory_mb.max(4096)) << 20,
            memory_bytes: l.memory_mb << 20,
            tasks: l.tasks,
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Request {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub cwd: PathBuf,
    /// The whole environment of the child: nothing of the grader's own
    /// environment is passed on unless it is listed here.
    pub env: Vec<(OsString, OsString)>,
    pub limits: Limits,
    /// Where Landlock applies: folders and files the program may read and
    /// execute, besides the system's ([`sandbox::SYSTEM_READ`]), the program
    /// itself and the libraries named in `LD_PRELOAD`.
    pub read: Vec<PathBuf>,
    /// Folders the program may also write in, besides `cwd`. Files it
    /// creates must be in one of them (a log file: grant its folder).
    pub write: Vec<PathBuf>,
    /// Which mechanisms to use; all that the machine gives by default.
    pub selection: Selection,
    /// Descriptors the program gets open, each at its number (the timing
    /// shim's configuration and trace); every other descriptor of the
    /// grader stays closed to it.
    pub inherit: Vec<(Arc<OwnedFd>, RawFd)>,
    /// A socket the grader reads while the program runs, into
    /// [`Outcome::collected`] (the other end of a pair whose one end is in
    /// [`Request::inherit`]): the timing shim's trace.
    pub collect: Option<Arc<OwnedFd>>,
    /// What the program finds on its stdin (a pipe that holds these bytes
    /// and then ends); `None`: stdin is `/dev/null`. A secret handed over
    /// this way is gone once the program has read it: nothing in its
    /// arguments, environment or files shows it.
    pub stdin: Option<Vec<u8>>,
}

impl Request {
    pub fn new(program: impl Into<PathBuf>, cwd: impl Into<PathBuf>, limits: Limits) -> Request {
        Request {
            program: program.into(),
            args: Vec::new(),
            cwd: cwd.into(),
            env: base_env(),
            limits,
            read: Vec::new(),
            write: Vec::new(),
            selection: Selection::all(),
            inherit: Vec::new(),
            collect: None,
            stdin: None,
        }
    }

    /// Reads `socket` while the program runs (see [`Request::collect`]).
    pub fn collect(mut self, socket: Arc<OwnedFd>) -> Request {
        self.collect = Some(socket);
        self
    }

    /// Gives the program `fd` as descriptor number `at` (3 to 9).
    pub fn inherit(mut self, fd: Arc<OwnedFd>, at: RawFd) -> Request {
        debug_assert!((3..10).contains(&at));
        self.inherit.push((fd, at));
        self
    }

    /// Hands the program `bytes` on its stdin (at most
    /// [`crate::sandbox::protocol::STDIN_MAX`]).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Request {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Request {
        let key = key.into();
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.into()));
        self
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Request {
        self.args.push(arg.into());
        self
    }

    /// Lets the program read (and execute) beneath `path`.
    pub fn read(mut self, path: impl Into<PathBuf>) -> Request {
        self.read.push(path.into());
        self
    }

    /// Paths for Landlock: (read, write), absolute.
    pub(super) fn access(&self) -> (Vec<PathBuf>, Vec<PathBuf>) {
        let abs = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
        let mut read: Vec<PathBuf> = sandbox::SYSTEM_READ.iter().map(PathBuf::from).collect();
        read.push(abs(&self.program));
        read.extend(self.read.iter().map(abs));
        // The dynamic loader opens preloaded libraries by their path.
        for (k, v) in &self.env {
            if k == "LD_PRELOAD" {
                let v = v.to_string_lossy();
                read.extend(
                    v.split([':', ' '])
                        .filter(|p| p.starts_with('/'))
                        .map(PathBuf::from),
                );
            }
        }
        let mut write: Vec<PathBuf> = sandbox::SYSTEM_WRITE.iter().map(PathBuf::from).collect();
        write.push(abs(&self.cwd));
        write.extend(self.write.iter().map(abs));
        (read, write)
    }
}

/// The environment every child starts from. `RUST_BACKTRACE=0`: with it set,
/// a panic took 60 ms instead of 2, and under an address-space cap the panic
/// path deadlocked (research/speed.md, research/sandbox.md).
pub fn base_env() -> Vec<(OsString, OsString)> {
    vec![
        ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
        ("LANG".into(), "C.UTF-8".into()),
        ("RUST_BACKTRACE".into(), "0".into()),
    ]
}
