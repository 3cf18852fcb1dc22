//! A run through the launcher (`grader __sandbox`, [`crate::sandbox::launcher`]):
//! the cgroup and uid set up here, the [`Plan`] sent, the child supervised,
//! and the verdict from the launcher's report and the kernel's counters.

use super::outcome::{Outcome, RunError, Termination};
use super::request::Request;
use super::supervise::{Stop, status_termination, supervise};
use super::sys::{fd_moves, install_fds, set_nonblocking};
use crate::sandbox::cgroup::RunCgroup;
use crate::sandbox::protocol::{self, Message, Plan, Rlimits, bytes};
use crate::sandbox::{self, Mechanism};
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
