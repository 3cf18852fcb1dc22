//! How one run's shim gets its configuration and gives back its trace,
//! without a name the program could find.
//!
//! - The configuration is written into a pipe before the program starts;
//!   the program gets the read end as descriptor [`super::CONFIG_FD`], and
//!   the shim's constructor reads and closes it before `main`. The normal
//!   run gets one too (it says "trace only"), so the program's descriptors,
//!   environment and argv are the same in every run.
//! - The trace goes through a socket pair (`SOCK_SEQPACKET`: one message
//!   a line, whole): the program gets one end as [`super::LOG_FD`], the
//!   grader reads the other while the program runs
//!   ([`crate::run::Request::collect`]), so nothing is lost when the program
//!   is killed.
//!
//! Neither has a path. A program could write to descriptor 5 only through
//! `unsafe` code (forbidden by the build: `-F unsafe-code` also rejects
//! `#[no_mangle]`, `#[export_name]` and `#[link_section]`, which could
//! replace the shim's functions): safe `std` has no call that turns a number
//! into a file, and a socket, unlike a pipe or a file, cannot be opened
//! again through `/proc/self/fd/5` or `/dev/fd/5` (the kernel refuses with
//! `ENXIO`). So what the trace says was written by the shim, and the grader
//! may decide a category from it. (A memfd was the first design: a program
//! appended forged lines to it through `/proc/self/fd/5`, Landlock or not;
//! the fixture `02-hello-thread/wrong/forges-its-trace` keeps trying.)

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;

/// The two descriptors of one run, and the grader's end of the trace.
pub struct Channel {
    config: Arc<OwnedFd>,
    program_log: Arc<OwnedFd>,
    grader_log: Arc<OwnedFd>,
}

impl Channel {
    /// A pipe holding `config` (see [`super::config`]) and a socket pair for
    /// the trace.
    pub fn new(config: &str) -> io::Result<Channel> {
        let mut fds = [0; 2];
        // SAFETY: fds is a valid array of two ints.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and are owned by nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // Far below PIPE_BUF: the write is whole, and nothing blocks.
        std::io::Write::write_all(&mut std::fs::File::from(write), config.as_bytes())?;
        // SAFETY: fds is a valid array of two ints.
        if unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: as above.
        let (grader_log, program_log) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok(Channel {
            config: Arc::new(read),
            program_log: Arc::new(program_log),
            grader_log: Arc::new(grader_log),
        })
    }

    /// The descriptors to hand the program, each with the number it must
    /// have there (see [`crate::run::Request::inherit`]).
    pub fn fds(&self) -> Vec<(Arc<OwnedFd>, RawFd)> {
        vec![
            (self.config.clone(), super::CONFIG_FD),
            (self.program_log.clone(), super::LOG_FD),
        ]
    }

    /// The grader's end of the trace, for [`crate::run::Request::collect`].
    pub fn trace_socket(&self) -> Arc<OwnedFd> {
        self.grader_log.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;

    #[test]
    fn the_config_is_readable_once_and_lines_arrive_whole() {
        let channel = Channel::new("log=1 vt=1").unwrap();
        let fds = channel.fds();
        assert_eq!(fds[0].1, super::super::CONFIG_FD);
        assert_eq!(fds[1].1, super::super::LOG_FD);
        let mut text = String::new();
        std::fs::File::from(fds[0].0.try_clone().unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "log=1 vt=1");
        let mut log = std::fs::File::from(fds[1].0.try_clone().unwrap());
        log.write_all(b"ev=init\n").unwrap();
        log.write_all(b"ev=exit\n").unwrap();
        let mut got = [0u8; 64];
        let mut grader = std::fs::File::from(channel.trace_socket().try_clone().unwrap());
        // One message a read: a line never comes in pieces.
        assert_eq!(grader.read(&mut got).unwrap(), 8);
        assert_eq!(&got[..8], b"ev=init\n");
    }

    #[test]
    fn the_trace_cannot_be_opened_again_by_name() {
        let channel = Channel::new("").unwrap();
        let fd = channel.fds()[1].0.as_raw_fd();
        for path in [format!("/proc/self/fd/{fd}"), format!("/dev/fd/{fd}")] {
            let opened = std::fs::OpenOptions::new().append(true).open(&path);
            assert!(opened.is_err(), "{path} opened");
        }
    }
}
