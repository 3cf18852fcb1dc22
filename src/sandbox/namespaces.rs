//! Namespaces and credentials for the launcher's processes: a user
//! namespace that maps the caller's ids to themselves, the network, PID
//! and IPC namespaces, the switch to the run's uid, and the tie to the
//! grader that a change of credentials resets.

/// The last system call's error.
pub fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// A system call's result as the launcher reports it: `what` and the error.
pub fn check(r: libc::c_int, what: &str) -> Result<(), String> {
    if r < 0 {
        Err(format!("{what}: {}", errno()))
    } else {
        Ok(())
    }
}

/// Dies with the grader: the parent-death signal, set again after every
/// change of credentials (which resets it), and a check that the parent is
/// still there (it may have died before the signal was set).
pub fn tie_to_parent(parent: i32) -> Result<(), String> {
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

/// A user namespace in which the calling process keeps its ids, each
/// mapped to itself: the only map an unprivileged process may write (after
/// giving up setgroups). Writing any other map needs CAP_SETUID in the
/// parent namespace, which a process loses the moment it enters the new one.
pub fn unshare_user() -> Result<(), String> {
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

pub fn unshare_others() -> Result<(), String> {
    // SAFETY: unshare with flags only.
    check(
        unsafe { libc::unshare(libc::CLONE_NEWNET | libc::CLONE_NEWPID | libc::CLONE_NEWIPC) },
        "unshare(CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC)",
    )
}

/// Switches the program's process to the run's uid and gid, with no
/// supplementary groups. The launcher and the namespace's init keep the
/// grader's uid, so the program cannot signal them.
pub fn drop_to(uid: u32) -> Result<(), String> {
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
