//! The side channel of a run ([`super::Request::collect`]): a message
//! socket the grader reads while the program runs, without blocking and
//! into a capped buffer (the timing shim's trace comes this way).

use super::sys::set_nonblocking;
use std::io;
use std::os::fd::RawFd;

/// The reading side of [`super::Request::collect`]: a message socket, read
/// without blocking whenever it has something, into a capped buffer.
pub struct Collector {
    pub fd: RawFd,
    pub open: bool,
    pub bytes: Vec<u8>,
}

impl Collector {
    /// Far more than the shim writes (it stops at its own limit).
    const CAP: usize = 64 << 20;

    pub fn new(fd: RawFd) -> io::Result<Collector> {
        set_nonblocking(fd)?;
        Ok(Collector {
            fd,
            open: true,
            bytes: Vec::new(),
        })
    }

    /// Reads every message waiting; past the cap they are read and dropped,
    /// so that the writer never blocks on a full socket.
    pub fn drain(&mut self) {
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
