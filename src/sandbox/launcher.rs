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

use super::exec::Exec;
use super::namespaces::{check, errno, tie_to_parent, unshare_others, unshare_user};
use super::protocol::{Message, Plan, REPORT_FD, SETUP_FAILED, os, send};
use super::{Mechanism, Report};
use std::ffi::CString;
use std::io::Read;
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
