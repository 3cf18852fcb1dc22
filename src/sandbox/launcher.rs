//! The launcher: `grader __sandbox`, the small process between the grader
//! and a program, which sets the sandbox up and makes sure nothing of the
//! run survives it.
//!
//! Why a re-executed process rather than a `pre_exec` closure: the grader
//! is multi-threaded (batch workers), and between `fork` and `exec` of a
//! multi-threaded process only async-signal-safe calls are allowed, while
//! Landlock and seccomp set-up allocate. The launcher is a fresh,
//! single-threaded process, so it may allocate, fork twice and read `/proc`.
//! Measured (research/sandbox.md): a `setsid` + double-fork daemon survives a
//! process-group kill and, holding stdout, stalls the reader forever; a child
//! subreaper, or a PID namespace whose init exits, kills it.
//!
//! The processes of one run:
//!
//! ```text
//! grader ── L: launcher (subreaper; cgroup; namespaces)
//!              └─ I: init of the new PID namespace (only when there is one)
//!                   └─ P: the program (uid, rlimits, Landlock, seccomp, exec)
//! ```
//!
//! - **L** reads its [`Plan`] from stdin (then points stdin at `/dev/null`),
//!   joins the run's cgroup, creates the namespaces, forks, waits for the
//!   program, and then kills every process left: `kill(I)` ends the whole
//!   PID namespace; without one, L kills each child it has (orphans are
//!   re-parented to it, the subreaper) until none is left. On `SIGTERM`
//!   (the grader's stop: a timeout, an output flood) it does the same at
//!   once. L keeps the grader's uid, so a program on a uid of its own
//!   cannot signal it.
//! - **I** is PID 1 of the namespace and only reaps; the program is not PID 1
//!   because PID 1 ignores the signals it has no handler for (`SIGXCPU`,
//!   `SIGXFSZ`, `SIGABRT` would not end it). When the program ends, I
//!   reports its status and exits, and the kernel kills the namespace.
//! - **P** switches to the run's uid (root graders), and then makes its own
//!   user namespace: a process that has entered a user namespace can map
//!   only its own uid, so a root launcher could not map the run's uid for
//!   it, and the kernel exempts uid 0 from `RLIMIT_NPROC` even inside one
//!   (measured: a 3,000-process bomb went through a root-mapped namespace).
//!   Unprivileged, L makes the user namespace itself, since it is what lets
//!   it make the others. P then sets its limits (`RLIMIT_NPROC` after the
//!   user namespace exists, so it counts this run only: research/sandbox.md),
//!   restricts itself with Landlock and seccomp, and executes the program.
//!
//! Each of them reports to the grader on fd 3 (one JSON [`Message`] a line):
//! what it applied, the program's wait status, or why `exec` failed. The
//! grader decides the verdict; nothing here reads what the program printed.

use super::protocol::{Message, Plan, REPORT_FD, Rlimits, SETUP_FAILED, STDIN_MAX, os, send};
use super::{Mechanism, Report, rlimit};
use std::ffi::CString;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
/// The launcher's child (init or program), for the signal handler.
static CHILD: AtomicI32 = AtomicI32::new(0);
/// How the launcher stops its child: `SIGTERM` to init (which kills and
/// reaps the namespace), `SIGKILL` to the program.
static CHILD_STOP: AtomicI32 = AtomicI32::new(libc::SIGKILL);

/// The grader's stop, in the launcher: stop the child at once (`kill` is
/// async-signal-safe), so that `waitpid` returns even if the signal came
/// just before it blocked; the sweep then does the rest. Every process is
/// reaped by a `waitpid` rather than by the kernel, so that its CPU time
/// reaches the grader's `wait4` (a killed PID namespace's init discards
/// it: a busy loop stopped at its deadline showed 7 ms of CPU).
extern "C" fn on_term(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
    let child = CHILD.load(Ordering::SeqCst);
    if child > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(child, CHILD_STOP.load(Ordering::SeqCst)) };
    }
}

/// The grader's stop, in the namespace's init: kill every other process of
/// the namespace; init's loop reaps them.
extern "C" fn on_init_term(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
    // SAFETY: kill is async-signal-safe; -1 from a namespace's init reaches
    // every process of the namespace but itself.
    unsafe { libc::kill(-1, libc::SIGKILL) };
}

fn on_sigterm(handler: extern "C" fn(libc::c_int)) {
    let action = libc::sigaction {
        sa_sigaction: handler as *const () as usize,
        // SAFETY: an all-zero sigset is a valid empty set.
        sa_mask: unsafe { std::mem::zeroed() },
        // No SA_RESTART: the signal must interrupt waitpid.
        sa_flags: 0,
        sa_restorer: None,
    };
    // SAFETY: installing a handler that only stores to atomics and calls
    // kill.
    unsafe { libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut()) };
}

fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

fn check(r: libc::c_int, what: &str) -> Result<(), String> {
    if r < 0 {
        Err(format!("{what}: {}", errno()))
    } else {
        Ok(())
    }
}

/// The entry point of `grader __sandbox`. Never returns.
pub fn main() -> ! {
    // SAFETY: setting a close-on-exec flag on our own descriptor.
    unsafe { libc::fcntl(REPORT_FD, libc::F_SETFD, libc::FD_CLOEXEC) };
    let code = match read_plan().and_then(|plan| launch(&plan)) {
        Ok(()) => 0,
        Err(e) => {
            send(&Message::SetupFailed(e));
            SETUP_FAILED
        }
    };
    std::process::exit(code)
}

fn read_plan() -> Result<Plan, String> {
    let mut raw = Vec::new();
    std::io::stdin()
        .read_to_end(&mut raw)
        .map_err(|e| format!("cannot read the plan: {e}"))?;
    let plan = serde_json::from_slice(&raw).map_err(|e| format!("malformed plan: {e}"))?;
    // The program gets stdin closed: /dev/null, like `Stdio::null()`.
    let null = CString::new("/dev/null").expect("no NUL");
    // SAFETY: plain syscalls on descriptors we own.
    unsafe {
        let fd = libc::open(null.as_ptr(), libc::O_RDONLY);
        if fd < 0 || libc::dup2(fd, 0) < 0 {
            return Err(format!("cannot open /dev/null: {}", errno()));
        }
        libc::close(fd);
    }
    Ok(plan)
}

/// Dies with the grader: the parent-death signal, set again after every
/// change of credentials (which resets it), and a check that the parent is
/// still there (it may have died before the signal was set).
fn tie_to_parent(parent: i32) -> Result<(), String> {
    // SAFETY: prctl with integer arguments; getppid has no preconditions.
    unsafe {
        check(
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0),
            "PR_SET_PDEATHSIG",
        )?;
        if libc::getppid() != parent {
            return Err("the grader is gone".into());
        }
    }
    Ok(())
}

fn launch(plan: &Plan) -> Result<(), String> {
    let mut report = Report::default();
    tie_to_parent(plan.parent)?;
    // SAFETY: prctl with integer arguments.
    check(
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) },
        "PR_SET_CHILD_SUBREAPER",
    )?;
    report.set(
        Mechanism::Launcher,
        true,
        "subreaper sweep, parent-death signal, own process group",
    );

    for procs in &plan.cgroup_procs {
        std::fs::write(os(procs), b"0").map_err(|e| {
            format!(
                "cannot join the run's cgroup ({}): {e}",
                os(procs).to_string_lossy()
            )
        })?;
    }

    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut ns_other: Result<(), String> = Err("not attempted".into());
    // Root needs no user namespace for the network and PID namespaces, and
    // its runs' user namespace is made by the program's process after it
    // has switched to the run's uid (see `Exec::run`). Without privileges,
    // the user namespace comes first: it gives the right to make the others.
    let mut userns: Result<(), String> = Err("not asked for".into());
    if plan.namespaces {
        if root {
            ns_other = unshare_others();
        } else {
            userns = unshare_user();
            if userns.is_ok() {
                tie_to_parent(plan.parent)?;
            }
            ns_other = unshare_others();
            match &userns {
                Ok(()) => report.set(Mechanism::UserNamespace, true, "own uid mapped to itself"),
                Err(e) => report.set(Mechanism::UserNamespace, false, e.clone()),
            }
        }
        let (ok, why) = match &ns_other {
            Ok(()) => (true, String::new()),
            Err(e) => (false, e.clone()),
        };
        report.set(
            Mechanism::NetworkNamespace,
            ok,
            if ok {
                "no interface but a down loopback"
            } else {
                &why
            },
        );
        report.set(
            Mechanism::PidNamespace,
            ok,
            if ok {
                "the program is pid 2 under its own init"
            } else {
                &why
            },
        );
    }
    let pidns = plan.namespaces && ns_other.is_ok();

    if pidns {
        CHILD_STOP.store(libc::SIGTERM, Ordering::SeqCst);
    }
    on_sigterm(on_term);

    let exec = Exec::prepare(plan, userns.is_ok(), plan.namespaces && root)?;
    // SAFETY: this process is single-threaded; the child only runs code of
    // this module before it executes the program or exits.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return Err(format!("fork: {}", errno()));
    }
    if child == 0 {
        if pidns {
            init(&exec);
        }
        exec.run(exec.launcher);
    }
    CHILD.store(child, Ordering::SeqCst);
    if STOP.load(Ordering::SeqCst) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child, CHILD_STOP.load(Ordering::SeqCst)) };
    }

    // Wait for the child, whether it ends by itself or by the grader's stop
    // (the handler has signalled it); orphans reaped meanwhile are ignored.
    let mut main_status = None;
    loop {
        let mut status = 0;
        // SAFETY: pointer to a local for the duration of the call.
        let r = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if r == child {
            main_status = Some(status);
            break;
        }
        if r < 0 && errno().raw_os_error() == Some(libc::ECHILD) {
            break;
        }
    }
    let stopped = STOP.load(Ordering::SeqCst);
    sweep(if pidns && main_status.is_none() {
        Some(child)
    } else {
        None
    });
    if !pidns
        && !stopped
        && let Some(status) = main_status
    {
        send(&Message::Exited(status));
    }
    send(&Message::Done { report, stopped });
    Ok(())
}

/// Kills every process left of the run and reaps it. With a PID namespace,
/// killing its init is enough (the kernel kills the rest); without one,
/// every child of the launcher (the program's orphans come back to it, the
/// subreaper) is killed until none is left.
fn sweep(init: Option<i32>) {
    if let Some(pid) = init {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let me = std::process::id() as i32;
    for round in 0..10_000 {
        // The usual case, nothing left, needs no scan of /proc.
        if round > 0 {
            for pid in super::procfs::children(me) {
                // SAFETY: signalling our own child.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        loop {
            let mut status = 0;
            // SAFETY: pointer to a local for the duration of the call.
            let r = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG | libc::__WALL) };
            if r > 0 {
                continue;
            }
            if r < 0 {
                // ECHILD: nothing of the run is left.
                return;
            }
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// PID 1 of the namespace: starts the program, reaps everything, and when
/// the program ends reports its status and exits (which ends the namespace).
fn init(exec: &Exec) -> ! {
    STOP.store(false, Ordering::SeqCst);
    on_sigterm(on_init_term);
    // SAFETY: prctl with integer arguments; fork in a single-threaded
    // process.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        let program = libc::fork();
        if program < 0 {
            send(&Message::SetupFailed(format!("fork: {}", errno())));
            libc::_exit(SETUP_FAILED);
        }
        if program == 0 {
            exec.run(1);
        }
        loop {
            let mut status = 0;
            let r = libc::waitpid(-1, &mut status, libc::__WALL);
            let stopping = STOP.load(Ordering::SeqCst);
            if r == program && !stopping {
                send(&Message::Exited(status));
                libc::_exit(0);
            }
            if r < 0 && errno().raw_os_error() == Some(libc::ECHILD) {
                libc::_exit(0);
            }
            if stopping {
                // A process forked while the last round ran.
                libc::kill(-1, libc::SIGKILL);
            }
        }
    }
}

/// A user namespace in which the calling process keeps its ids, each
/// mapped to itself: the only map an unprivileged process may write (after
/// giving up setgroups). Writing any other map needs CAP_SETUID in the
/// parent namespace, which a process loses the moment it enters the new one.
fn unshare_user() -> Result<(), String> {
    // SAFETY: geteuid/getegid have no preconditions.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    // SAFETY: unshare with flags only.
    check(
        unsafe { libc::unshare(libc::CLONE_NEWUSER) },
        "unshare(CLONE_NEWUSER)",
    )?;
    let write = |file: &str, text: String| {
        std::fs::write(file, text).map_err(|e| format!("cannot write {file}: {e}"))
    };
    write("/proc/self/setgroups", "deny".into())?;
    write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
    write("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    Ok(())
}

fn unshare_others() -> Result<(), String> {
    // SAFETY: unshare with flags only.
    check(
        unsafe { libc::unshare(libc::CLONE_NEWNET | libc::CLONE_NEWPID | libc::CLONE_NEWIPC) },
        "unshare(CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC)",
    )
}

/// Switches the program's process to the run's uid and gid, with no
/// supplementary groups. The launcher and the namespace's init keep the
/// grader's uid, so the program cannot signal them.
fn drop_to(uid: u32) -> Result<(), String> {
    // SAFETY: credential syscalls with plain integer arguments; the order
    // (groups, gid, uid) is the one that leaves no privilege behind.
    unsafe {
        check(libc::setgroups(0, std::ptr::null()), "setgroups")?;
        check(libc::setresgid(uid, uid, uid), "setresgid")?;
        check(libc::setresuid(uid, uid, uid), "setresuid")?;
        // A change of uid makes the process non-dumpable, which leaves its
        // /proc/self files to root: the user namespace's maps could not be
        // written. `exec` decides dumpability again for the program.
        check(
            libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0),
            "PR_SET_DUMPABLE",
        )?;
    }
    Ok(())
}

/// The program's side, prepared before `fork` (C strings, the seccomp
/// program) so the child has little left to do.
struct Exec {
    program: CString,
    argv: Vec<CString>,
    envp: Vec<CString>,
    cwd: CString,
    rlimits: Rlimits,
    read: Vec<PathBuf>,
    write: Vec<PathBuf>,
    landlock: bool,
    seccomp: Option<Result<super::seccomp::Filters, String>>,
    /// NPROC counts this run only when a user namespace was made.
    own_userns: bool,
    /// The program's process makes the user namespace (root graders).
    make_userns: bool,
    uid: Option<u32>,
    launcher: i32,
    stdin: Option<Vec<u8>>,
}

fn cstring(bytes: &[u8]) -> Result<CString, String> {
    CString::new(bytes.to_vec())
        .map_err(|_| "a NUL byte in a path, argument or variable".to_string())
}

impl Exec {
    fn prepare(plan: &Plan, own_userns: bool, make_userns: bool) -> Result<Exec, String> {
        let program = cstring(&plan.program)?;
        let mut argv = vec![program.clone()];
        for a in &plan.args {
            argv.push(cstring(a)?);
        }
        let mut envp = Vec::new();
        for (k, v) in &plan.env {
            let mut kv = k.clone();
            kv.push(b'=');
            kv.extend_from_slice(v);
            envp.push(cstring(&kv)?);
        }
        let paths = |list: &[Vec<u8>]| list.iter().map(|p| PathBuf::from(os(p))).collect();
        Ok(Exec {
            program,
            argv,
            envp,
            cwd: cstring(&plan.cwd)?,
            rlimits: plan.rlimits.clone(),
            read: paths(&plan.read),
            write: paths(&plan.write),
            landlock: plan.landlock,
            seccomp: plan.seccomp.then(super::seccomp::compile),
            own_userns,
            make_userns,
            uid: plan.uid,
            launcher: std::process::id() as i32,
            stdin: plan.stdin.clone(),
        })
    }

    /// In the program's process: limits, confinement, `exec`. `parent` is
    /// the pid it must see as its parent (the launcher, or 1 under init).
    fn run(&self, parent: i32) -> ! {
        let mut report = Report::default();
        if let Some(uid) = self.uid {
            match drop_to(uid) {
                Ok(()) => report.set(Mechanism::Uid, true, format!("uid and gid {uid}")),
                Err(e) => {
                    send(&Message::SetupFailed(format!(
                        "cannot switch to uid {uid}: {e}"
                    )));
                    // SAFETY: leaving the child without the parent's destructors.
                    unsafe { libc::_exit(SETUP_FAILED) };
                }
            }
        }
        let mut own_userns = self.own_userns;
        if self.make_userns {
            match unshare_user() {
                Ok(()) => {
                    own_userns = true;
                    report.set(
                        Mechanism::UserNamespace,
                        true,
                        "the run's uid mapped to itself",
                    );
                }
                Err(e) => report.set(Mechanism::UserNamespace, false, e),
            }
        }
        // SAFETY: prctl/getppid/chdir with valid arguments. The parent-death
        // signal is set after the change of uid, which clears it.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            if libc::getppid() != parent {
                libc::_exit(SETUP_FAILED);
            }
            if libc::chdir(self.cwd.as_ptr()) != 0 {
                self.fail(errno().raw_os_error().unwrap_or(libc::ENOENT));
            }
        }
        if let Some(bytes) = &self.stdin
            && let Err(e) = stdin_pipe(bytes)
        {
            send(&Message::SetupFailed(e));
            // SAFETY: leaving the child without the parent's destructors.
            unsafe { libc::_exit(SETUP_FAILED) };
        }
        report.set(Mechanism::Rlimits, true, self.set_rlimits(own_userns));
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            // Root in the run (no uid of its own): executing the program must
            // not hand it root's capabilities back.
            // SAFETY: prctl with integer arguments.
            unsafe {
                libc::prctl(
                    libc::PR_SET_SECUREBITS,
                    0x01 | 0x02 | 0x04 | 0x08, // NOROOT, its lock, NO_SETUID_FIXUP, its lock
                    0,
                    0,
                    0,
                );
            }
        }
        if self.landlock {
            match super::landlock::restrict(&self.read, &self.write) {
                Ok(d) => report.set(Mechanism::Landlock, true, d),
                Err(d) => report.set(Mechanism::Landlock, false, d),
            }
        }
        match &self.seccomp {
            Some(Ok(filters)) => match filters.apply() {
                Ok(d) => report.set(Mechanism::Seccomp, true, d),
                Err(d) => report.set(Mechanism::Seccomp, false, d),
            },
            Some(Err(e)) => report.set(Mechanism::Seccomp, false, e.clone()),
            None => {}
        }
        send(&Message::Confined(report));
        // SAFETY: an empty mask and default handlers for the program; the
        // argument vectors are NULL-terminated arrays of live C strings.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            libc::signal(libc::SIGTERM, libc::SIG_DFL);
            let mut argv: Vec<*const libc::c_char> = self.argv.iter().map(|a| a.as_ptr()).collect();
            argv.push(std::ptr::null());
            let mut envp: Vec<*const libc::c_char> = self.envp.iter().map(|a| a.as_ptr()).collect();
            envp.push(std::ptr::null());
            libc::execve(self.program.as_ptr(), argv.as_ptr(), envp.as_ptr());
        }
        self.fail(errno().raw_os_error().unwrap_or(libc::ENOEXEC))
    }

    fn fail(&self, errno: i32) -> ! {
        send(&Message::ExecFailed(errno));
        // SAFETY: leaving the child without running the parent's destructors.
        unsafe { libc::_exit(127) }
    }

    /// Sets the program's limits; returns the report's detail.
    fn set_rlimits(&self, own_userns: bool) -> String {
        let l = &self.rlimits;
        let cpu = l.cpu_secs.max(1);
        // Hard = soft + 1: SIGXCPU at the soft limit, SIGKILL a second later.
        set(libc::RLIMIT_CPU, cpu, cpu + 1);
        set(libc::RLIMIT_FSIZE, l.file_bytes, l.file_bytes);
        set(libc::RLIMIT_CORE, 0, 0);
        set(libc::RLIMIT_NOFILE, l.nofile, l.nofile);
        if let Some(bytes) = l.address_space {
            set(libc::RLIMIT_AS, bytes, bytes);
        }
        set(libc::RLIMIT_NPROC, l.tasks, l.tasks);
        // SAFETY: geteuid has no preconditions.
        let tasks = match (unsafe { libc::geteuid() } == 0, own_userns) {
            (true, _) => "no task limit: the kernel exempts root from RLIMIT_NPROC".to_string(),
            (false, true) => format!("{} tasks in this run", l.tasks),
            (false, false) => format!("{} tasks for the whole uid", l.tasks),
        };
        format!(
            "CPU {} s, file {} MiB, {}, {}",
            cpu,
            l.file_bytes >> 20,
            match l.address_space {
                Some(b) => format!("address space {} MiB", b >> 20),
                None => "memory left to the cgroup".to_string(),
            },
            tasks
        )
    }
}

/// Makes stdin a pipe that holds `bytes` and then ends: the program reads
/// them once, and nothing is left to read (no file, no argument, no
/// variable). Written before `exec`, so it must fit in the pipe at once.
fn stdin_pipe(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() > STDIN_MAX {
        return Err(format!(
            "{} bytes for stdin, more than a pipe holds at once",
            bytes.len()
        ));
    }
    let mut fds = [0; 2];
    // SAFETY: plain syscalls on descriptors this function creates; `bytes`
    // is a live slice for the duration of the write.
    unsafe {
        check(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), "pipe2")?;
        let n = libc::write(fds[1], bytes.as_ptr().cast(), bytes.len());
        libc::close(fds[1]);
        if n != bytes.len() as isize {
            libc::close(fds[0]);
            return Err(format!("cannot fill the stdin pipe: {}", errno()));
        }
        // dup2 clears close-on-exec on the copy: stdin survives `exec`.
        let r = libc::dup2(fds[0], 0);
        libc::close(fds[0]);
        check(r, "dup2 onto stdin")?;
    }
    Ok(())
}

/// The program's limit on `resource`; a limit it cannot have is left lower
/// (see [`rlimit::set`]), and the report says what was asked for.
fn set(resource: rlimit::Resource, soft: u64, hard: u64) {
    let _ = rlimit::set(resource, soft, hard);
}
