//! Layer 0 alone, in the grader's own process: a child in its own process
//! group, with its limits set between `fork` and `exec` and a cleared
//! environment. Used where there is no launcher, and to measure its cost.

use super::outcome::{Outcome, RunError};
use super::request::{Limits, Request};
use super::supervise::{Stop, supervise};
use super::sys::{fd_moves, install_fds};
use crate::sandbox::protocol::STDIN_MAX;
use crate::sandbox::{self, Mechanism, rlimit};
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Layer 0 in the grader's own process: group, limits set between `fork`
/// and `exec`, cleared environment. Used where there is no launcher, and to
/// measure what the launcher costs.
pub fn run(req: &Request) -> Result<Outcome, RunError> {
    let mut cmd = Command::new(&req.program);
    cmd.args(&req.args)
        .current_dir(&req.cwd)
        .env_clear()
        .envs(req.env.iter().map(|(k, v)| (k, v)))
        .stdin(if req.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let limits = req.limits.clone();
    let fds = fd_moves(&req.inherit);
    // SAFETY: the closure runs in the forked child before exec and only
    // makes async-signal-safe calls (fcntl, dup2, close, setrlimit, prctl).
    unsafe {
        cmd.pre_exec(move || {
            install_fds(&fds)?;
            apply_limits(&limits)
        });
    }
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|source| RunError::Spawn {
        program: req.program.clone(),
        source,
    })?;
    if let (Some(bytes), Some(mut stdin)) = (&req.stdin, child.stdin.take()) {
        use std::io::Write as _;
        // At most a pipe's worth: this never blocks. A program that died
        // at once shows in its status; EPIPE is ignored.
        let _ = stdin.write_all(&bytes[..bytes.len().min(STDIN_MAX)]);
    }
    let mut report = sandbox::Report::default();
    report.set(
        Mechanism::Rlimits,
        true,
        "CPU, file size, address space, open files",
    );
    let why = if cfg!(target_os = "linux") {
        "not used for this run"
    } else {
        "Linux only"
    };
    report.complete(why);
    let observed = supervise(child, req, start, Stop::Group).map_err(|source| RunError::Wait {
        program: req.program.clone(),
        source,
    })?;
    Ok(observed.into_outcome(report))
}

fn apply_limits(l: &Limits) -> io::Result<()> {
    let cpu = l.cpu.as_secs() + u64::from(l.cpu.subsec_nanos() > 0);
    // Hard = soft + 1: SIGXCPU at the soft limit, SIGKILL a second later.
    rlimit::set(libc::RLIMIT_CPU, cpu.max(1), cpu.max(1) + 1)?;
    rlimit::set(libc::RLIMIT_FSIZE, l.file_bytes, l.file_bytes)?;
    rlimit::set(libc::RLIMIT_CORE, 0, 0)?;
    rlimit::set(libc::RLIMIT_NOFILE, 256, 256)?;
    rlimit::set(
        libc::RLIMIT_AS,
        l.address_space_bytes,
        l.address_space_bytes,
    )?;
    // If the grader dies, so does the program.
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with integer arguments.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
    }
    Ok(())
}
