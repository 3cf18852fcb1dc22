//! What the grader and the launcher say to each other: the [`Plan`] the
//! grader writes on the launcher's stdin, and the [`Message`] lines the
//! launcher's processes write back on [`REPORT_FD`].
//!
//! Both sides use this module and nothing else of each other: the run stage
//! ([`crate::run`]) encodes plans and parses messages, the launcher
//! ([`super::launcher`]) decodes plans and sends messages.

// Only the stdin cap is used where there is no launcher.
#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

use super::Report;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// The file descriptor the launcher reports on.
pub const REPORT_FD: i32 = 3;

/// Exit status of the launcher when it could not set the run up at all.
pub const SETUP_FAILED: i32 = 125;

/// The most a program's stdin may hold: what fits in a pipe at once, so
/// that writing it never waits for the program.
pub const STDIN_MAX: usize = 4096;

/// Everything the launcher needs to know, sent by the grader on its stdin.
/// Paths and strings are bytes: Unix paths need not be UTF-8.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub program: Vec<u8>,
    pub args: Vec<Vec<u8>>,
    pub cwd: Vec<u8>,
    pub env: Vec<(Vec<u8>, Vec<u8>)>,
    pub rlimits: Rlimits,
    /// Landlock: read and execute beneath these.
    pub read: Vec<Vec<u8>>,
    /// Landlock: everything beneath these.
    pub write: Vec<Vec<u8>>,
    pub namespaces: bool,
    pub landlock: bool,
    pub seccomp: bool,
    /// `cgroup.procs` files the launcher joins (already limited by the
    /// grader).
    pub cgroup_procs: Vec<Vec<u8>>,
    /// Drop to this uid (and gid) before anything else: root graders only.
    pub uid: Option<u32>,
    /// The grader's pid: the launcher's parent, checked after each change of
    /// credentials (the parent-death signal is reset by them).
    pub parent: i32,
    /// The program's stdin: a pipe holding these bytes, then its end
    /// (`None`: `/dev/null`). At most [`STDIN_MAX`] bytes.
    #[serde(default)]
    pub stdin: Option<Vec<u8>>,
}

/// Limits set in the program's process.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rlimits {
    pub cpu_secs: u64,
    pub file_bytes: u64,
    /// `None` where a cgroup limits memory: an address-space cap at or below
    /// ~2.6 GB broke a legitimate 1,000-thread program (research/sandbox.md).
    pub address_space: Option<u64>,
    pub nofile: u64,
    /// `RLIMIT_NPROC`: ignored by the kernel for root outside a user
    /// namespace, which the report then says.
    pub tasks: u64,
}

/// One line on the report descriptor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Message {
    /// From P: what it applied before `exec`.
    Confined(Report),
    /// From P: `exec` failed with this errno.
    ExecFailed(i32),
    /// From I (or L when there is no PID namespace): the program's raw wait
    /// status.
    Exited(i32),
    /// From L, last: what it applied, and whether the grader stopped the run.
    Done { report: Report, stopped: bool },
    /// From L: the run could not be set up.
    SetupFailed(String),
}

/// A path, argument or variable of the plan, back from its bytes.
pub fn os(bytes: &[u8]) -> OsString {
    OsString::from_vec(bytes.to_vec())
}

/// A path, argument or variable as the plan carries it.
pub fn bytes(s: impl AsRef<std::ffi::OsStr>) -> Vec<u8> {
    s.as_ref().as_bytes().to_vec()
}

/// Writes one message to the report descriptor, in one `write` (a line is
/// far below `PIPE_BUF`, so lines of L, I and P never interleave).
pub fn send(msg: &Message) {
    let mut line = serde_json::to_vec(msg).unwrap_or_default();
    line.push(b'\n');
    // SAFETY: REPORT_FD is inherited from the grader and stays open; a
    // failed write only loses the report, which the grader treats as such.
    unsafe {
        libc::write(REPORT_FD, line.as_ptr().cast(), line.len());
    }
}

/// Parses the launcher's report lines.
pub fn parse_messages(raw: &[u8]) -> Vec<Message> {
    raw.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect()
}

/// Serialises a plan for the launcher's stdin.
pub fn encode(plan: &Plan) -> Vec<u8> {
    serde_json::to_vec(plan).expect("a plan serialises")
}
