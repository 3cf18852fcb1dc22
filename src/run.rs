//! Run stage: one child process under the grader's control, inside the
//! sandbox (see [`crate::sandbox`] for the layers and why each exists).
//!
//! Every run gets its own process group (killed whole), stdin closed, a
//! cleared environment, limits on wall time, CPU, output, file size, memory
//! and tasks, and on Linux the launcher ([`crate::sandbox::launcher`]), which
//! adds the namespaces, Landlock, seccomp, cgroup and uid the machine gives
//! and kills every descendant when the program ends. stdout and stderr are
//! read concurrently in one `poll` loop with a byte cap: a pipe nobody reads
//! blocks its writer at 64 KiB (research/sandbox.md), and a flood must end
//! as a verdict, not as the grader running out of memory.
//!
//! Everything this module reports is a grader-side fact (exit status,
//! signal, bytes captured, clock and CPU time, the cgroup's counters, the
//! task count at the deadline); it never interprets what the program
//! printed.

use crate::sandbox::{self, Mechanism, Selection};
use std::ffi::OsString;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

    /// Hands the program `bytes` on its stdin (at most [`STDIN_MAX`]).
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
    fn access(&self) -> (Vec<PathBuf>, Vec<PathBuf>) {
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

pub use crate::sandbox::protocol::STDIN_MAX;

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
    /// The run's cgroup ran out of memory and the kernel killed the program.
    MemoryLimit,
    /// The program did not end well after reaching its task limit (the
    /// cgroup refused a fork or thread, or the run was at the limit when
    /// its time ran out: a fork bomb).
    TaskLimit,
}

/// What the program's threads were doing when the grader stopped it at its
/// time limit, from the kernel's view of each thread.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Activity {
    /// On a CPU or ready to run: computing.
    pub running: usize,
    /// In `nanosleep`/`clock_nanosleep`: sleeping.
    pub sleeping: usize,
    /// Asleep in any other call: waiting for something (a join, a lock, a
    /// channel, a timed wait).
    pub waiting: usize,
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
    /// What came through [`Request::collect`], message after message.
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

/// Runs the request to completion and reports what happened.
pub fn run(req: &Request) -> Result<Outcome, RunError> {
    #[cfg(target_os = "linux")]
    if req.selection.wants(Mechanism::Launcher)
        && let Some(exe) = launcher_exe()
    {
        return linux::run(req, &exe);
    }
    run_direct(req)
}

/// The grader binary, re-executed as the launcher. `/proc/self/exe` names
/// this very binary even if its file was replaced since it started. Unit
/// tests run in the test harness, which is not the grader: they use the
/// grader binary cargo built beside it when there is one.
#[cfg(target_os = "linux")]
fn launcher_exe() -> Option<PathBuf> {
    if cfg!(test) {
        let exe = std::env::current_exe().ok()?;
        let grader = exe.parent()?.parent()?.join("grader");
        return grader.is_file().then_some(grader);
    }
    Some(PathBuf::from("/proc/self/exe"))
}

/// Layer 0 in the grader's own process: group, limits set between `fork`
/// and `exec`, cleared environment. Used where there is no launcher, and to
/// measure what the launcher costs.
fn run_direct(req: &Request) -> Result<Outcome, RunError> {
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

/// `(descriptor in the grader, number in the child)` for [`install_fds`].
fn fd_moves(inherit: &[(Arc<OwnedFd>, RawFd)]) -> Vec<(RawFd, RawFd)> {
    inherit
        .iter()
        .map(|(fd, at)| (fd.as_raw_fd(), *at))
        .collect()
}

/// In a forked child: puts each descriptor at its number, open across
/// `exec`. Each is first copied above the targets, so that placing one
/// never closes another that happens to sit on its number. No allocation:
/// async-signal-safe calls only.
fn install_fds(moves: &[(RawFd, RawFd)]) -> io::Result<()> {
    const MOST: usize = 8;
    if moves.len() > MOST {
        return Err(io::Error::from_raw_os_error(libc::EMFILE));
    }
    let mut temps = [(-1, -1); MOST];
    for (slot, &(from, to)) in temps.iter_mut().zip(moves) {
        // SAFETY: fcntl on a descriptor the child inherited.
        let temp = unsafe { libc::fcntl(from, libc::F_DUPFD_CLOEXEC, 10) };
        if temp < 0 {
            return Err(io::Error::last_os_error());
        }
        *slot = (temp, to);
    }
    for &(temp, to) in &temps[..moves.len()] {
        // SAFETY: dup2 and close on the child's own descriptors; dup2 clears
        // close-on-exec on the copy.
        unsafe {
            if libc::dup2(temp, to) < 0 {
                return Err(io::Error::last_os_error());
            }
            libc::close(temp);
        }
    }
    Ok(())
}

fn apply_limits(l: &Limits) -> io::Result<()> {
    let cpu = l.cpu.as_secs() + u64::from(l.cpu.subsec_nanos() > 0);
    // Hard = soft + 1: SIGXCPU at the soft limit, SIGKILL a second later.
    sandbox::rlimit::set(libc::RLIMIT_CPU, cpu.max(1), cpu.max(1) + 1)?;
    sandbox::rlimit::set(libc::RLIMIT_FSIZE, l.file_bytes, l.file_bytes)?;
    sandbox::rlimit::set(libc::RLIMIT_CORE, 0, 0)?;
    sandbox::rlimit::set(libc::RLIMIT_NOFILE, 256, 256)?;
    sandbox::rlimit::set(
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

/// How the grader stops a run early (timeout, output flood).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
enum Stop {
    /// SIGKILL to the child's process group.
    Group,
    /// SIGTERM to the launcher, which kills everything of the run and
    /// reports; its process group is killed if it has not exited in time.
    Launcher,
}

/// What the supervision saw, before the launcher's report is added.
struct Observed {
    verdict: Option<Termination>,
    status: libc::c_int,
    rusage: libc::rusage,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    wall: Duration,
    /// Tasks of the run when its time ran out.
    tasks_at_deadline: usize,
    stopped_while: Option<Activity>,
    collected: Vec<u8>,
}

impl Observed {
    fn own_termination(&self) -> Termination {
        self.verdict
            .unwrap_or_else(|| status_termination(self.status))
    }

    fn cpu(&self) -> Duration {
        timeval(self.rusage.ru_utime) + timeval(self.rusage.ru_stime)
    }

    fn into_outcome(self, sandbox: sandbox::Report) -> Outcome {
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

fn status_termination(status: libc::c_int) -> Termination {
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

fn supervise(mut child: Child, req: &Request, start: Instant, stop: Stop) -> io::Result<Observed> {
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
    let mut tasks_at_deadline = 0;
    let mut stopped_while = None;

    // Phase 1: until the process exits, the deadline passes or output floods.
    while exit.is_none() && verdict.is_none() {
        let now = Instant::now();
        if now >= deadline {
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

/// The reading side of [`Request::collect`]: a message socket, read
/// without blocking whenever it has something, into a capped buffer.
struct Collector {
    fd: RawFd,
    open: bool,
    bytes: Vec<u8>,
}

impl Collector {
    /// Far more than the shim writes (it stops at its own limit).
    const CAP: usize = 64 << 20;

    fn new(fd: RawFd) -> io::Result<Collector> {
        set_nonblocking(fd)?;
        Ok(Collector {
            fd,
            open: true,
            bytes: Vec::new(),
        })
    }

    /// Reads every message waiting; past the cap they are read and dropped,
    /// so that the writer never blocks on a full socket.
    fn drain(&mut self) {
        let mut chunk = [0u8; 16 * 1024];
        while self.open {
            // SAFETY: recv into a local buffer of the given length.
            let n = unsafe {
                libc::recv(
                    self.fd,
                    chunk.as_mut_ptr().cast(),
                    chunk.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            match n {
                0 => self.open = false,
                n if n > 0 => {
                    let n = n as usize;
                    if self.bytes.len() + n <= Self::CAP {
                        self.bytes.extend_from_slice(&chunk[..n]);
                    }
                }
                _ => {
                    if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                        return;
                    }
                }
            }
        }
    }
}

/// At the deadline: whether every thread of the run is waiting (a
/// deadlock), how many tasks the run has, and what its threads were doing.
fn inspect_tree(pid: libc::pid_t, stop: Stop) -> (bool, usize, Option<Activity>) {
    #[cfg(target_os = "linux")]
    {
        let pids = match stop {
            // The program and all it started, beneath the launcher.
            Stop::Launcher => sandbox::procfs::descendants(pid),
            Stop::Group => {
                let mut p = sandbox::procfs::descendants(pid);
                p.push(pid);
                p
            }
        };
        // The launcher's own processes (the PID namespace's init) wait for
        // the program: they are not the program's threads.
        let launcher = match stop {
            Stop::Launcher => sandbox::procfs::comm(pid),
            Stop::Group => None,
        };
        let program: Vec<i32> = pids
            .iter()
            .copied()
            .filter(|&p| launcher.is_none() || sandbox::procfs::comm(p) != launcher)
            .collect();
        let activity = sandbox::procfs::activity(&program);
        (
            sandbox::procfs::all_blocked(&pids),
            sandbox::procfs::task_count(&pids),
            activity,
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

#[cfg(target_os = "linux")]
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

#[cfg(not(target_os = "linux"))]
fn pidfd_open(_pid: libc::pid_t) -> Option<std::os::fd::OwnedFd> {
    None
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

fn signal(pid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(pid, sig);
    }
}

fn kill_group(pid: libc::pid_t) {
    signal(-pid, libc::SIGKILL);
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// The launcher's side of [`run`]: plan, cgroup, uid, spawn, supervise, and
/// the verdict from the launcher's report and the kernel's counters.
#[cfg(target_os = "linux")]
mod linux {
    use super::*;
    use crate::sandbox::cgroup::RunCgroup;
    use crate::sandbox::protocol::{self, Message, Plan, Rlimits, bytes};
    use std::io::Write;
    use std::os::fd::{FromRawFd, OwnedFd};

    pub fn run(req: &Request, exe: &std::path::Path) -> Result<Outcome, RunError> {
        let sandbox_err = |message: String| RunError::Sandbox {
            program: req.program.clone(),
            message,
        };
        let sel = &req.selection;
        let mut report = sandbox::Report::default();
        let (read, write) = req.access();

        let cgroup = if sel.wants(Mechanism::Cgroup) {
            match RunCgroup::create(req.limits.memory_bytes, req.limits.tasks) {
                Ok(cg) => {
                    report.set(
                        Mechanism::Cgroup,
                        true,
                        format!(
                            "{}: memory {} MiB, {} tasks",
                            cg.describe(),
                            req.limits.memory_bytes >> 20,
                            req.limits.tasks
                        ),
                    );
                    Some(cg)
                }
                Err(e) => {
                    report.set(Mechanism::Cgroup, false, e);
                    None
                }
            }
        } else {
            None
        };

        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let mut uid = None;
        // The folders the run writes in become the run uid's.
        let own: Vec<PathBuf> = std::iter::once(&req.cwd)
            .chain(&req.write)
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
            .collect();
        if sel.wants(Mechanism::Uid) {
            if !root {
                report.set(
                    Mechanism::Uid,
                    false,
                    "not root: the run keeps the grader's uid",
                );
            } else if let Some(why) = sandbox::uid::unreachable(&req.program, 0o001)
                .or_else(|| sandbox::uid::first_unreachable(&read, &write))
                .or_else(|| own.iter().find_map(|d| sandbox::uid::unassignable(d)))
            {
                report.set(Mechanism::Uid, false, format!("{why}: the run keeps uid 0"));
            } else {
                let id = sandbox::uid::allocate();
                for dir in &own {
                    sandbox::uid::assign(dir, id).map_err(|e| {
                        sandbox_err(format!("cannot give {} to uid {id}: {e}", dir.display()))
                    })?;
                }
                report.set(Mechanism::Uid, true, format!("uid {id}"));
                uid = Some(id);
            }
        }

        let plan = Plan {
            program: bytes(resolve(&req.program, &req.env)),
            args: req.args.iter().map(bytes).collect(),
            cwd: bytes(std::path::absolute(&req.cwd).unwrap_or_else(|_| req.cwd.clone())),
            env: req.env.iter().map(|(k, v)| (bytes(k), bytes(v))).collect(),
            rlimits: Rlimits {
                cpu_secs: req.limits.cpu.as_secs() + u64::from(req.limits.cpu.subsec_nanos() > 0),
                file_bytes: req.limits.file_bytes,
                address_space: cgroup.is_none().then_some(req.limits.address_space_bytes),
                nofile: 256,
                tasks: req.limits.tasks,
            },
            read: read.iter().map(bytes).collect(),
            write: write.iter().map(bytes).collect(),
            namespaces: sel.wants(Mechanism::UserNamespace),
            landlock: sel.wants(Mechanism::Landlock),
            seccomp: sel.wants(Mechanism::Seccomp),
            cgroup_procs: cgroup
                .as_ref()
                .map(|c| c.procs_files().iter().map(bytes).collect())
                .unwrap_or_default(),
            uid,
            parent: std::process::id() as i32,
            stdin: req.stdin.clone(),
        };

        let (report_r, report_w) = pipe().map_err(|e| sandbox_err(format!("pipe: {e}")))?;
        // The report pipe at its number, and the program's own descriptors
        // at theirs: the launcher keeps them open through to the program.
        let mut fds = vec![(report_w.as_raw_fd(), protocol::REPORT_FD)];
        fds.extend(fd_moves(&req.inherit));
        let mut cmd = Command::new(exe);
        cmd.arg(sandbox::LAUNCHER_ARG)
            .current_dir("/")
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        // SAFETY: install_fds makes async-signal-safe calls only.
        unsafe {
            cmd.pre_exec(move || install_fds(&fds));
        }
        let start = Instant::now();
        let mut child = cmd.spawn().map_err(|source| RunError::Spawn {
            program: exe.to_path_buf(),
            source,
        })?;
        drop(report_w);
        if let Some(mut stdin) = child.stdin.take() {
            // A launcher that died early shows in its status; ignore EPIPE.
            let _ = stdin.write_all(&protocol::encode(&plan));
        }
        let observed =
            supervise(child, req, start, Stop::Launcher).map_err(|source| RunError::Wait {
                program: req.program.clone(),
                source,
            })?;
        let messages = protocol::parse_messages(&read_all(report_r));

        let mut program_status = None;
        for m in messages {
            match m {
                Message::Confined(r) => report.merge(r),
                Message::Done { report: r, .. } => report.merge(r),
                Message::Exited(s) => program_status = Some(s),
                Message::ExecFailed(errno) => {
                    return Err(RunError::Spawn {
                        program: req.program.clone(),
                        source: io::Error::from_raw_os_error(errno),
                    });
                }
                Message::SetupFailed(message) => return Err(sandbox_err(message)),
            }
        }
        if !sel.wants(Mechanism::UserNamespace) {
            for m in [
                Mechanism::UserNamespace,
                Mechanism::NetworkNamespace,
                Mechanism::PidNamespace,
            ] {
                report.set(m, false, "not used for this run");
            }
        }
        report.complete("not used for this run");

        let facts = cgroup.as_ref().map(|c| c.facts()).unwrap_or_default();
        drop(cgroup);
        let mut termination = match (observed.verdict, program_status) {
            (Some(v), _) => v,
            (None, Some(s)) => status_termination(s),
            // The launcher died before the program did (killed by it, where
            // nothing scoped its signals): its own status is what is known.
            (None, None) => observed.own_termination(),
        };
        let at_task_limit =
            req.limits.tasks > 0 && observed.tasks_at_deadline as u64 * 10 >= req.limits.tasks * 9;
        termination = match termination {
            Termination::Exited(0) | Termination::OutputLimit => termination,
            _ if facts.oom_kills > 0 => Termination::MemoryLimit,
            _ if facts.task_limit_hits > 0 => Termination::TaskLimit,
            Termination::WallTimeout { .. } if at_task_limit => Termination::TaskLimit,
            other => other,
        };
        Ok(Outcome {
            termination,
            cpu: observed.cpu(),
            stdout: observed.stdout,
            stderr: observed.stderr,
            wall: observed.wall,
            sandbox: report,
            stopped_while: observed.stopped_while,
            collected: observed.collected,
        })
    }

    /// The program's path as the launcher executes it: `execve` neither
    /// searches `PATH` nor knows the grader's working folder, which
    /// `Command` would have used.
    fn resolve(program: &std::path::Path, env: &[(OsString, OsString)]) -> PathBuf {
        if program.components().count() > 1 || program.is_absolute() {
            return std::path::absolute(program).unwrap_or_else(|_| program.to_path_buf());
        }
        let path = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
            .unwrap_or_else(|| program.to_path_buf())
    }

    fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
        let mut fds = [0; 2];
        // SAFETY: fds is a valid array of two ints.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and are owned by nobody else.
        Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
    }

    /// The launcher's report: everything on the pipe. Every writer (the
    /// launcher, its init, the program before `exec`) is gone once the
    /// launcher is reaped, so this ends at once; it is bounded anyway.
    fn read_all(fd: OwnedFd) -> Vec<u8> {
        let _ = set_nonblocking(fd.as_raw_fd());
        let mut file = std::fs::File::from(fd);
        let mut raw = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut chunk = [0u8; 4096];
        while Instant::now() < deadline {
            match file.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => raw.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        raw
    }
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
            memory_bytes: 1 << 30,
            tasks: 1100,
        }
    }

    fn sh(script: &str, wall_ms: u64) -> Outcome {
        let req = Request::new("/bin/sh", "/tmp", limits(wall_ms))
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
        assert!(o.wall < Duration::from_secs(3), "{:?}", o.wall);
    }

    #[test]
    fn a_signal_is_reported() {
        let o = sh("kill -SEGV $$", 5000);
        assert_eq!(o.termination, Termination::Signaled(libc::SIGSEGV));
    }

    #[test]
    fn a_program_is_found_on_the_path_of_its_environment() {
        let req = Request::new("sh", "/tmp", limits(5000))
            .arg("-c")
            .arg("echo found");
        assert_eq!(run(&req).unwrap().stdout, b"found\n");
    }

    #[test]
    fn a_missing_program_cannot_start() {
        let req = Request::new("/nonexistent/program", "/tmp", limits(5000));
        assert!(matches!(run(&req), Err(RunError::Spawn { .. })));
    }

    #[test]
    fn the_bare_selection_runs_without_the_launcher() {
        let mut req = Request::new("/bin/sh", "/tmp", limits(5000))
            .arg("-c")
            .arg("echo hi");
        req.selection = Selection::bare();
        let o = run(&req).unwrap();
        assert_eq!(o.stdout, b"hi\n");
        assert!(!o.sandbox.applied(Mechanism::Launcher));
        assert!(o.sandbox.applied(Mechanism::Rlimits));
    }
}
