//! The system calls of the run stage, each wrapped once: descriptors put
//! in place in a forked child, `poll`, non-blocking reads, pidfds, `wait4`
//! with the child's resource usage, and signals to a process or its group.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

/// `(descriptor in the grader, number in the child)` for [`install_fds`].
pub fn fd_moves(inherit: &[(Arc<OwnedFd>, RawFd)]) -> Vec<(RawFd, RawFd)> {
    inherit
        .iter()
        .map(|(fd, at)| (fd.as_raw_fd(), *at))
        .collect()
}

/// In a forked child: puts each descriptor at its number, open across
/// `exec`. Each is first copied above the targets, so that placing one
/// never closes another that happens to sit on its number. No allocation:
/// async-signal-safe calls only.
pub fn install_fds(moves: &[(RawFd, RawFd)]) -> io::Result<()> {
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

pub fn poll(fds: &mut [libc::pollfd], timeout: Duration) -> io::Result<()> {
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

pub fn set_nonblocking(fd: RawFd) -> io::Result<()> {
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
pub fn pidfd_open(pid: libc::pid_t) -> Option<std::os::fd::OwnedFd> {
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
pub fn pidfd_open(_pid: libc::pid_t) -> Option<std::os::fd::OwnedFd> {
    None
}

pub fn try_wait(pid: libc::pid_t) -> io::Result<Option<(libc::c_int, libc::rusage)>> {
    wait4(pid, libc::WNOHANG)
}

pub fn wait_blocking(pid: libc::pid_t) -> io::Result<(libc::c_int, libc::rusage)> {
    loop {
        if let Some(r) = wait4(pid, 0)? {
            return Ok(r);
        }
    }
}

pub fn wait4(
    pid: libc::pid_t,
    flags: libc::c_int,
) -> io::Result<Option<(libc::c_int, libc::rusage)>> {
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

pub fn signal(pid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(pid, sig);
    }
}

pub fn kill_group(pid: libc::pid_t) {
    signal(-pid, libc::SIGKILL);
}

pub fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}
