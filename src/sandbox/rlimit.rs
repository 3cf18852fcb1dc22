//! Resource limits set with `setrlimit`, in a process about to become the
//! program: shared by the grader's direct runs (between `fork` and `exec`)
//! and the launcher's program process. Async-signal-safe calls only.

use std::io;

/// The resource type `setrlimit` takes on this platform.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub type Resource = libc::__rlimit_resource_t;
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub type Resource = libc::c_int;

/// Sets `resource` to `soft` and `hard`. Lowering is always allowed;
/// raising above the process's own hard limit is not, and then whatever is
/// lower is kept.
pub fn set(resource: Resource, soft: u64, hard: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: plain syscall on a stack value.
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        let mut cur = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: as above.
        unsafe { libc::getrlimit(resource, &mut cur) };
        let clamped = libc::rlimit {
            rlim_cur: lim.rlim_cur.min(cur.rlim_max),
            rlim_max: lim.rlim_max.min(cur.rlim_max),
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(resource, &clamped) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
