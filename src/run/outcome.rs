//! What came of a run: how it ended ([`Termination`]), what it printed,
//! its clock and CPU time, the sandbox it really got, what its threads were
//! doing when it was stopped ([`Activity`]), or why it could not run at all
//! ([`RunError`]).

pub use crate::sandbox::Activity;

use crate::sandbox;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// The process exited with this code.
    Exited(i32),
    /// The process was killed by this signal (not by the grader).
    Signaled(i32),
    /// The wall-clock limit passed. `blocked` is true when, at that moment,
    /// every thread of the program was waiting (not running, not sleeping on
    /// a timer): a deadlock rather than a busy loop.
    WallTimeout { blocked: bool },
    /// More output than the cap; the grader stopped the run.
    OutputLimit,
    /// The run's cgroup ran out of memory and the kernel killed the program.
    MemoryLimit,
    /// The program did not end well after reaching its task limit (the
    /// cgroup refused a fork or thread, or the run was at the limit when
    /// its time ran out: a fork bomb).
    TaskLimit,
}

/// Everything observed about one run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub termination: Termination,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub wall: Duration,
    /// User + system CPU time of the program and every process it started.
    pub cpu: Duration,
    /// The sandbox mechanisms this run really got.
    pub sandbox: sandbox::Report,
    /// At the time limit, what the program was doing (`None` when it ended
    /// by itself, or where `/proc` cannot say).
    pub stopped_while: Option<Activity>,
    /// What came through [`super::Request::collect`], message after message.
    pub collected: Vec<u8>,
}

impl Outcome {
    pub fn stdout_text(&self) -> String {
        normalize(&self.stdout)
    }

    pub fn stderr_text(&self) -> String {
        normalize(&self.stderr)
    }
}

/// Output that is not UTF-8 is shown lossily; `\r\n` becomes `\n`.
pub fn normalize(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace("\r\n", "\n")
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("lost track of {program}: {source}")]
    Wait {
        program: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot set up the sandbox for {program}: {message}")]
    Sandbox { program: PathBuf, message: String },
}
