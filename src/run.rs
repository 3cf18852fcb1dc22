//! Run stage: one child process under the grader's control.
//!
//! The child gets its own process group (so it is killed whole, grandchildren
//! included), stdin closed, a cleared environment, resource limits set between
//! `fork` and `exec`, and a wall-clock deadline. stdout and stderr are read
//! concurrently in one `poll` loop with a byte cap: a pipe nobody reads blocks
//! its writer at 64 KiB (research/sandbox.md), and a flood must end as a
//! verdict, not as the grader running out of memory.
//!
//! Everything this module reports is a grader-side fact (exit status, signal,
//! bytes captured, clock and CPU time); it never interprets what the program
//! printed.

use std::ffi::OsString;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Limits of one run.
#[derive(Debug, Clone)]
pub struct Limits {
    pub wall: Duration,
    /// CPU seconds of the whole process (all threads); rounded up to a second.
    pub cpu: Duration,
    /// stdout + stderr bytes kept; one more byte stops the run.
    pub output_bytes: usize,
    /// Largest file the program may write (RLIMIT_FSIZE).
    pub file_bytes: u64,
    /// Address-space cap. Kept far above what threads reserve: a cap at or
    /// below ~2.6 GB broke a legitimate 1,000-thread program (research/sandbox.md).
    pub address_space_bytes: u64,
}

impl Limits {
    pub fn from_spec(l: &crate::spec::Limits) -> Limits {
        Limits {
            wall: Duration::from_millis(l.wall_ms),
            cpu: Duration::from_millis(l.cpu_ms),
            output_bytes: l.output_bytes,
            file_bytes: l.file_bytes,
            address_space_bytes: (l.memory_mb.max(4096)) << 20,
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
}

impl Request {
    pub fn new(program: impl Into<PathBuf>, cwd: impl Into<PathBuf>, limits: Limits) -> Request {
        Request {
            program: program.into(),
            args: Vec::new(),
            cwd: cwd.into(),
            env: base_env(),
            limits,
        }
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
}

/// Everything observed about one run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub termination: Termination,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub wall: Duration,
    /// User + system CPU time of the process.
    pub cpu: Duration,
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
}

/// Runs the request to completion and reports what happened.
pub fn run(req: &Request) -> Result<Outcome, RunError> {
    let mut cmd = Command::new(&req.program);
    cmd.args(&req.args)
        .current_dir(&req.cwd)
        .env_clear()
        .envs(req.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let limits = req.limits.clone();
    // SAFETY: the closure runs in the forked child before exec and only
    // makes async-signal-safe calls (setrlimit, prctl).
    unsafe {
        cmd.pre_exec(move || apply_limits(&limits));
    }
    let start = Instant::now();
    let child = cmd.spawn().map_err(|source| RunError::Spawn {
        program: req.program.clone(),
        source,
    })?;
    supervise(child, &req.limits, start).map_err(|source| RunError::Wait {
        program: req.program.clone(),
        source,
    })
}

fn apply_limits(l: &Limits) -> io::Result<()> {
    let cpu = l.cpu.as_secs() + u64::from(l.cpu.subsec_nanos() > 0);
    // Hard = soft + 1: SIGXCPU at the soft limit, SIGKILL a second later.
    set_rlimit(libc::RLIMIT_CPU, cpu.max(1), cpu.max(1) + 1)?;
    set_rlimit(libc::RLIMIT_FSIZE, l.file_bytes, l.file_bytes)?;
    set_rlimit(libc::RLIMIT_CORE, 0, 0)?;
    set_rlimit(libc::RLIMIT_NOFILE, 256, 256)?;
    set_rlimit(libc::RLIMIT_AS, l.address_space_bytes, l.address_space_bytes)?;
    // If the grader dies, so does the program.
    // SAFETY: prctl with integer arguments.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
    }
    Ok(())
}

fn set_rlimit(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: plain syscall on a stack value.
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        // Lowering is always allowed; raising above the grader's own hard
        // limit is not. Keep whatever is lower then.
        let mut cur = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as above.
        unsafe { libc::getrlimit(resource, &mut cur) };
        let clamped = libc::rlimit {
            rlim_cur: lim.rlim_cur.min(cur.rlim_max),
            rlim_max: lim.rlim_max.min(cur.rlim_max),
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(resource, &clamped) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

struct Stream {
    fd: RawFd,
    open: bool,
}

fn supervise(mut child: Child, limits: &Limits, start: Instant) -> io::Result<Outcome> {
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().expect("stdout is piped");
    let mut err = child.stderr.take().expect("stderr is piped");
    set_nonblocking(out.as_raw_fd())?;
    set_nonblocking(err.as_raw_fd())?;
    let pidfd = pidfd_open(pid);
    let deadline = start + limits.wall;

    let mut streams = [
        Stream {
            fd: out.as_raw_fd(),
            open: true,
        },
        Stream {
            fd: err.as_raw_fd(),
            open: true,
        },
    ];
    let mut bufs: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut verdict: Option<Termination> = None;
    let mut exit: Option<(libc::c_int, libc::rusage)> = None;

    // Phase 1: until the process exits, the deadline passes or output floods.
    while exit.is_none() && verdict.is_none() {
        let now = Instant::now();
        if now >= deadline {
            verdict = Some(Termination::WallTimeout {
                blocked: all_threads_blocked(pid),
            });
            break;
        }
        let mut timeout = deadline - now;
        if pidfd.is_none() {
            // Without a pidfd the exit is noticed by polling.
            timeout = timeout.min(Duration::from_millis(5));
        }
        let mut fds = Vec::with_capacity(3);
        for s in streams.iter().filter(|s| s.open) {
            fds.push(libc::pollfd {
                fd: s.fd,
                events: libc::POLLIN,
                revents: 0,
            });
        }
        if let Some(fd) = &pidfd {
            fds.push(libc::pollfd {
                fd: fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        poll(&mut fds, timeout)?;
        if read_streams(&mut streams, &mut bufs, &mut out, &mut err, limits.output_bytes)? {
            verdict = Some(Termination::OutputLimit);
            break;
        }
        exit = try_wait(pid)?;
    }

    // Whatever happened, nothing of the program's group outlives the run.
    kill_group(pid);
    if exit.is_none() {
        exit = Some(wait_blocking(pid)?);
    }
    let (status, rusage) = exit.expect("reaped above");

    // Phase 2: drain what is left in the pipes. A grandchild that escaped the
    // group could hold them open forever, so this is bounded.
    if verdict.is_none() {
        let drain_deadline = Instant::now() + Duration::from_millis(100);
        while streams.iter().any(|s| s.open) && Instant::now() < drain_deadline {
            let mut fds: Vec<libc::pollfd> = streams
                .iter()
                .filter(|s| s.open)
                .map(|s| libc::pollfd {
                    fd: s.fd,
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            poll(&mut fds, Duration::from_millis(20))?;
            if read_streams(&mut streams, &mut bufs, &mut out, &mut err, limits.output_bytes)? {
                verdict = Some(Termination::OutputLimit);
                break;
            }
        }
    }
    let wall = start.elapsed();
    let termination = verdict.unwrap_or_else(|| {
        if libc::WIFSIGNALED(status) {
            Termination::Signaled(libc::WTERMSIG(status))
        } else {
            Termination::Exited(libc::WEXITSTATUS(status))
        }
    });
    let cpu = timeval(rusage.ru_utime) + timeval(rusage.ru_stime);
    let [stdout, stderr] = bufs;
    Ok(Outcome {
        termination,
        stdout,
        stderr,
        wall,
        cpu,
    })
}

/// Reads whatever is ready. Returns true when the output cap was passed.
fn read_streams(
    streams: &mut [Stream; 2],
    bufs: &mut [Vec<u8>; 2],
    out: &mut impl Read,
    err: &mut impl Read,
    cap: usize,
) -> io::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    for i in 0..2 {
        while streams[i].open {
            let r = if i == 0 {
                out.read(&mut chunk)
            } else {
                err.read(&mut chunk)
            };
            match r {
                Ok(0) => streams[i].open = false,
                Ok(n) => {
                    let room = (cap + 1).saturating_sub(bufs[0].len() + bufs[1].len());
                    bufs[i].extend_from_slice(&chunk[..n.min(room)]);
                    if bufs[0].len() + bufs[1].len() > cap {
                        let total = bufs[0].len() + bufs[1].len();
                        let excess = total - cap;
                        let keep = bufs[i].len() - excess.min(bufs[i].len());
                        bufs[i].truncate(keep);
                        return Ok(true);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(false)
}

fn poll(fds: &mut [libc::pollfd], timeout: Duration) -> io::Result<()> {
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // Round up so a sub-millisecond remainder does not spin.
    let ms = if ms == 0 && !timeout.is_zero() { 1 } else { ms };
    if fds.is_empty() {
        std::thread::sleep(timeout);
        return Ok(());
    }
    // SAFETY: fds is a valid slice of pollfd for the duration of the call.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(())
}

fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

fn pidfd_open(pid: libc::pid_t) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: raw syscall; a non-negative result is a new descriptor we own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        None
    } else {
        // SAFETY: fd was just returned by the kernel and is owned by nobody else.
        Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as RawFd) })
    }
}

fn try_wait(pid: libc::pid_t) -> io::Result<Option<(libc::c_int, libc::rusage)>> {
    wait4(pid, libc::WNOHANG)
}

fn wait_blocking(pid: libc::pid_t) -> io::Result<(libc::c_int, libc::rusage)> {
    loop {
        if let Some(r) = wait4(pid, 0)? {
            return Ok(r);
        }
    }
}

fn wait4(pid: libc::pid_t, flags: libc::c_int) -> io::Result<Option<(libc::c_int, libc::rusage)>> {
    let mut status = 0;
    // SAFETY: rusage is plain data; zeroed is a valid value.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pointers to locals for the duration of the call.
        let r = unsafe { libc::wait4(pid, &mut status, flags, &mut rusage) };
        if r == pid {
            return Ok(Some((status, rusage)));
        }
        if r == 0 {
            return Ok(None);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn kill_group(pid: libc::pid_t) {
    // SAFETY: signalling our own child's process group.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// True when every thread of `pid` is asleep in the kernel and none of them
/// is sleeping on a timer: they are all waiting for each other (or for
/// nothing), which is a deadlock, not a slow program.
fn all_threads_blocked(pid: libc::pid_t) -> bool {
    let task_dir = PathBuf::from(format!("/proc/{pid}/task"));
    let Ok(entries) = std::fs::read_dir(&task_dir) else {
        return false;
    };
    // Sample twice: a thread between two short sleeps looks blocked once.
    let first = snapshot(&task_dir, entries);
    std::thread::sleep(Duration::from_millis(20));
    let Ok(entries) = std::fs::read_dir(&task_dir) else {
        return false;
    };
    let second = snapshot(&task_dir, entries);
    first == Some(true) && second == Some(true)
}

fn snapshot(task_dir: &Path, entries: std::fs::ReadDir) -> Option<bool> {
    let mut any = false;
    for entry in entries.flatten() {
        any = true;
        let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
        // The state follows the command name, which is in parentheses and
        // may itself contain spaces or parentheses.
        let state = stat.rsplit_once(')')?.1.split_whitespace().next()?;
        if state != "S" && state != "D" {
            return Some(false);
        }
        if let Ok(syscall) = std::fs::read_to_string(task_dir.join(entry.file_name()).join("syscall"))
        {
            let nr: i64 = syscall.split_whitespace().next()?.parse().ok()?;
            if nr == libc::SYS_clock_nanosleep || nr == libc::SYS_nanosleep {
                return Some(false);
            }
        }
    }
    Some(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(wall_ms: u64) -> Limits {
        Limits {
            wall: Duration::from_millis(wall_ms),
            cpu: Duration::from_secs(10),
            output_bytes: 1 << 16,
            file_bytes: 1 << 20,
            address_space_bytes: 4 << 30,
        }
    }

    fn sh(script: &str, wall_ms: u64) -> Outcome {
        let req = Request::new("/bin/sh", "/", limits(wall_ms))
            .arg("-c")
            .arg(script);
        run(&req).unwrap()
    }

    #[test]
    fn captures_both_streams_and_the_exit_code() {
        let o = sh("echo out; echo err >&2; exit 3", 5000);
        assert_eq!(o.termination, Termination::Exited(3));
        assert_eq!(o.stdout, b"out\n");
        assert_eq!(o.stderr, b"err\n");
    }

    #[test]
    fn the_environment_is_cleared() {
        // SAFETY: tests in this module do not read this variable concurrently.
        unsafe { std::env::set_var("GRADER_TEST_CANARY", "secret") };
        let o = sh("env", 5000);
        assert!(!o.stdout_text().contains("secret"), "{}", o.stdout_text());
        assert!(o.stdout_text().contains("RUST_BACKTRACE=0"));
    }

    #[test]
    fn a_flood_is_stopped_at_the_cap() {
        let o = sh("yes flood", 10_000);
        assert_eq!(o.termination, Termination::OutputLimit);
        assert_eq!(o.stdout.len(), 1 << 16);
        assert!(o.wall < Duration::from_secs(5));
    }

    #[test]
    fn a_sleeper_times_out_and_its_group_is_killed() {
        let o = sh("sleep 30 & exec sleep 30", 300);
        assert_eq!(o.termination, Termination::WallTimeout { blocked: false });
        assert!(o.wall < Duration::from_secs(2), "{:?}", o.wall);
    }

    #[test]
    fn a_signal_is_reported() {
        let o = sh("kill -SEGV $$", 5000);
        assert_eq!(o.termination, Termination::Signaled(libc::SIGSEGV));
    }
}
