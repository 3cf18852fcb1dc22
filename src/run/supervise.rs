//! Watching one child until it ends: its stdout and stderr read together
//! in one `poll` loop with a byte cap, the wall-clock deadline, the stop
//! (of its group, or through the launcher), and what was seen meanwhile.

use super::collect::Collector;
use super::outcome::{Activity, Outcome, Termination};
use super::request::Request;
use super::sys::{
    kill_group, pidfd_open, poll, set_nonblocking, signal, timeval, try_wait, wait_blocking,
};
#[cfg(target_os = "linux")]
use crate::sandbox;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::process::Child;
use std::time::{Duration, Instant};

/// How the grader stops a run early (timeout, output flood).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub enum Stop {
    /// SIGKILL to the child's process group.
    Group,
    /// SIGTERM to the launcher, which kills everything of the run and
    /// reports; its process group is killed if it has not exited in time.
    Launcher,
}

/// What the supervision saw, before the launcher's report is added.
pub struct Observed {
    pub verdict: Option<Termination>,
    pub status: libc::c_int,
    pub rusage: libc::rusage,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub wall: Duration,
    /// Tasks of the run when its time ran out.
    pub tasks_at_deadline: usize,
    pub stopped_while: Option<Activity>,
    pub collected: Vec<u8>,
}

impl Observed {
    pub fn own_termination(&self) -> Termination {
        self.verdict
            .unwrap_or_else(|| status_termination(self.status))
    }

    pub fn cpu(&self) -> Duration {
        timeval(self.rusage.ru_utime) + timeval(self.rusage.ru_stime)
    }

    pub fn into_outcome(self, sandbox: sandbox::Report) -> Outcome {
        Outcome {
            termination: self.own_termination(),
            cpu: self.cpu(),
            stdout: self.stdout,
            stderr: self.stderr,
            wall: self.wall,
            sandbox,
            stopped_while: self.stopped_while,
            collected: self.collected,
        }
    }
}

pub fn status_termination(status: libc::c_int) -> Termination {
    if libc::WIFSIGNALED(status) {
        Termination::Signaled(libc::WTERMSIG(status))
    } else {
        Termination::Exited(libc::WEXITSTATUS(status))
    }
}

struct Stream {
    fd: RawFd,
    open: bool,
}

pub fn supervise(
    mut child: Child,
    req: &Request,
    start: Instant,
    stop: Stop,
) -> io::Result<Observed> {
    let limits = &req.limits;
    let mut collect = req
        .collect
        .as_ref()
        .map(|fd| Collector::new(fd.as_raw_fd()))
        .transpose()?;
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().expect("stdout is piped");
    let mut err = child.stderr.take().expect("stderr is piped");
    set_nonblocking(out.as_raw_fd())?;
    set_nonblocking(err.as_raw_fd())?;
    let pidfd = pidfd_open(pid);
    let mut deadline = start + limits.wall;

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
    let mut tasks_at_deadline = 0;
    let mut stopped_while = None;

    // Phase 1: until the process exits, the deadline passes or output floods.
    while exit.is_none() && verdict.is_none() {
        let now = Instant::now();
        if now >= deadline {
            if let Some(more) = starved(pid, stop, limits.wall, now - start) {
                deadline = now + more;
                continue;
            }
            let (blocked, tasks, activity) = inspect_tree(pid, stop);
            tasks_at_deadline = tasks;
            stopped_while = activity;
            verdict = Some(Termination::WallTimeout { blocked });
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
        if let Some(c) = collect.as_ref().filter(|c| c.open) {
            fds.push(libc::pollfd {
                fd: c.fd,
                events: libc::POLLIN,
                revents: 0,
            });
        }
        poll(&mut fds, timeout)?;
        if let Some(c) = &mut collect {
            c.drain();
        }
        if read_streams(
            &mut streams,
            &mut bufs,
            &mut out,
            &mut err,
            limits.output_bytes,
        )? {
            verdict = Some(Termination::OutputLimit);
            break;
        }
        exit = try_wait(pid)?;
    }

    if exit.is_none() && stop == Stop::Launcher {
        // The launcher kills the run's every process, reports and exits.
        signal(pid, libc::SIGTERM);
        let grace = Instant::now() + Duration::from_secs(2);
        while exit.is_none() && Instant::now() < grace {
            std::thread::sleep(Duration::from_millis(1));
            // Keep the pipes flowing so nothing blocks on a full one.
            let _ = read_streams(
                &mut streams,
                &mut bufs,
                &mut out,
                &mut err,
                limits.output_bytes,
            );
            exit = try_wait(pid)?;
        }
    }
    // Whatever happened, nothing of the child's group outlives the run.
    kill_group(pid);
    // What the program wrote before it ended is all in the socket now.
    if let Some(c) = &mut collect {
        c.drain();
    }
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
            if read_streams(
                &mut streams,
                &mut bufs,
                &mut out,
                &mut err,
                limits.output_bytes,
            )? {
                verdict = Some(Termination::OutputLimit);
                break;
            }
        }
    }
    let [stdout, stderr] = bufs;
    Ok(Observed {
        verdict,
        status,
        rusage,
        stdout,
        stderr,
        wall: start.elapsed(),
        tasks_at_deadline,
        stopped_while,
        collected: collect.map(|c| c.bytes).unwrap_or_default(),
    })
}

/// How many times its wall limit a computing run may take when the machine
/// starves it of the CPU.
const STARVED_CEILING: u32 = 4;

/// At the deadline: more time for a run that is computing but was starved
/// of the CPU by a loaded machine, so that its verdict is the one it gets
/// on an idle machine (SPEC §8: one submission, one verdict). Starved means
/// some thread is running or ready, none is asleep on a timer, and the run
/// has had less than half its limit in CPU time; it is then looked at again
/// a quarter second later, up to [`STARVED_CEILING`] times its limit. A
/// run that sleeps or waits is judged at its limit, however busy the
/// machine: only the CPU is shared.
#[cfg(target_os = "linux")]
fn starved(pid: libc::pid_t, stop: Stop, limit: Duration, elapsed: Duration) -> Option<Duration> {
    if elapsed >= limit * STARVED_CEILING {
        return None;
    }
    let (_, program) = tree(pid, stop);
    let activity = sandbox::procfs::activity(&program)?;
    let computing = activity.running > 0 && activity.sleeping == 0;
    (computing && sandbox::procfs::cpu_time(&program) < limit / 2)
        .then_some(Duration::from_millis(250))
}

#[cfg(not(target_os = "linux"))]
fn starved(_: libc::pid_t, _: Stop, _: Duration, _: Duration) -> Option<Duration> {
    None
}

/// The run's processes beneath `pid`, and of those the program's own: with
/// the launcher, its own processes (the PID namespace's init) wait for the
/// program and are not the program's threads.
#[cfg(target_os = "linux")]
fn tree(pid: libc::pid_t, stop: Stop) -> (Vec<i32>, Vec<i32>) {
    let pids = match stop {
        // The program and all it started, beneath the launcher.
        Stop::Launcher => sandbox::procfs::descendants(pid),
        Stop::Group => {
            let mut p = sandbox::procfs::descendants(pid);
            p.push(pid);
            p
        }
    };
    let launcher = match stop {
        Stop::Launcher => sandbox::procfs::comm(pid),
        Stop::Group => None,
    };
    let program = pids
        .iter()
        .copied()
        .filter(|&p| launcher.is_none() || sandbox::procfs::comm(p) != launcher)
        .collect();
    (pids, program)
}

/// At the deadline: whether every thread of the run is waiting (a
/// deadlock), how many tasks the run has, and what its threads were doing.
fn inspect_tree(pid: libc::pid_t, stop: Stop) -> (bool, usize, Option<Activity>) {
    #[cfg(target_os = "linux")]
    {
        let (pids, program) = tree(pid, stop);
        (
            sandbox::procfs::all_blocked(&pids),
            sandbox::procfs::task_count(&pids),
            sandbox::procfs::activity(&program),
        )
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (pid, stop);
        (false, 0, None)
    }
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
