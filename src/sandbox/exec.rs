//! P, the program's process of a launched run, from `fork` to `execve`:
//! it switches to the run's uid, makes its own user namespace where it
//! must, sets its limits, confines itself and executes the program.
//!
//! Everything it needs is prepared before the `fork` ([`Exec::prepare`]),
//! so the child has little left to do; what it applied is reported to the
//! grader as one [`Message::Confined`] line just before `exec`.

use super::namespaces::{check, drop_to, errno, unshare_user};
use super::protocol::{Message, Plan, Rlimits, SETUP_FAILED, STDIN_MAX, os, send};
use super::{Mechanism, Report, rlimit};
use std::ffi::CString;
use std::path::PathBuf;

/// The program's side, prepared before `fork` (C strings, the seccomp
/// program) so the child has little left to do.
pub struct Exec {
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
    /// The launcher's pid: the parent the program's process must see
    /// when there is no PID namespace.
    pub launcher: i32,
    stdin: Option<Vec<u8>>,
}

fn cstring(bytes: &[u8]) -> Result<CString, String> {
    CString::new(bytes.to_vec())
        .map_err(|_| "a NUL byte in a path, argument or variable".to_string())
}

impl Exec {
    pub fn prepare(plan: &Plan, own_userns: bool, make_userns: bool) -> Result<Exec, String> {
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
    pub fn run(&self, parent: i32) -> ! {
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
