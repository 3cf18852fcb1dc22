//! A uid of its own for each run, when the grader runs as root.
//!
//! Measured (research/sandbox.md): a root grader without a uid drop let a
//! student program read `/etc/shadow` and overwrite another student's file;
//! on its own uid the same program was denied both, and `RLIMIT_NPROC`
//! (ignored for root) applies again. The uid is never in `/etc/passwd`:
//! `RUN_UID_BASE + (grader pid << 8 | run counter)`, unique among the runs
//! alive at once on the machine (pids are, and 256 concurrent runs in one
//! grader are far more than its jobs).
//!
//! The run's program, its working folder and every path it is granted must
//! be reachable by a stranger for this to work: a course tree under a `0700`
//! home folder is not, and then the run keeps the grader's uid (and says so).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// First uid of the range; far above any distribution's users and subuid
/// ranges.
pub const RUN_UID_BASE: u32 = 0x4000_0000;

/// A fresh uid (used as the gid too).
pub fn allocate() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed) & 0xff;
    RUN_UID_BASE + ((std::process::id() & 0x3f_ffff) << 8 | n)
}

/// Why a stranger could not use `path` (`None` when it can): every folder
/// above it must be searchable by others, and the path itself must grant
/// others the permission `bits` (`0o004` read, `0o001` search or execute,
/// `0` when the run will own it).
pub fn unreachable(path: &Path, bits: u32) -> Option<String> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut ancestors: Vec<&Path> = path.ancestors().skip(1).collect();
    ancestors.reverse();
    for dir in ancestors {
        let Ok(meta) = std::fs::metadata(dir) else {
            return Some(format!("{} cannot be read", dir.display()));
        };
        if meta.permissions().mode() & 0o001 == 0 {
            return Some(format!(
                "{} is not searchable by other users",
                dir.display()
            ));
        }
    }
    let meta = std::fs::metadata(&path).ok()?;
    if meta.permissions().mode() & bits != bits {
        return Some(format!("{} is not readable by other users", path.display()));
    }
    None
}

/// Why `dir` cannot be handed to a run's uid (`None` when it can): it must
/// be a real folder of the grader's (or of an earlier run's), and not
/// shared with other users (`/tmp`, `/`).
pub fn unassignable(dir: &Path) -> Option<String> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) => return Some(format!("{}: {e}", dir.display())),
    };
    if !meta.is_dir() {
        return Some(format!("{} is not a folder", dir.display()));
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if dir.parent().is_none() || meta.mode() & 0o002 != 0 {
        return Some(format!("{} is shared with other users", dir.display()));
    }
    if meta.uid() != me && meta.uid() < RUN_UID_BASE {
        return Some(format!("{} belongs to another user", dir.display()));
    }
    None
}

/// Gives `dir` to `uid`, and with it whatever earlier runs left in it (files
/// of other run uids); the grader's own files in it stay the grader's.
/// Links are changed, never followed.
pub fn assign(dir: &Path, uid: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(dir, Some(uid), Some(uid))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.uid() < RUN_UID_BASE {
            continue;
        }
        if meta.is_dir() {
            assign(&entry.path(), uid)?;
        } else {
            std::os::unix::fs::lchown(entry.path(), Some(uid), Some(uid))?;
        }
    }
    Ok(())
}

/// The first path of `paths` a stranger cannot use, and why.
pub fn first_unreachable(read: &[PathBuf], write: &[PathBuf]) -> Option<String> {
    read.iter()
        .filter(|p| p.exists())
        .find_map(|p| unreachable(p, if p.is_dir() { 0o001 } else { 0o004 }))
        .or_else(|| {
            write
                .iter()
                .filter(|p| p.exists())
                .find_map(|p| unreachable(p, 0))
        })
}
