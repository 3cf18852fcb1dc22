//! Landlock for one run: the program may read and execute the system's and
//! the toolchain's files, read and write its scratch folder, and nothing
//! else; it may neither bind nor connect TCP, and it may not signal a process
//! outside its own domain (the launcher, the grader).
//!
//! Measured on this kind of machine (research/sandbox.md): Landlock ABI 7,
//! fully enforced without privileges; a program on the grader's own uid
//! SIGKILLed the grader through user and network namespaces alike, and only
//! `Scope::Signal` (ABI 6) stopped it. The grader asks for ABI 6's rights,
//! the ones it has tested; on an older kernel the crate's best-effort mode
//! enforces what it can, and the run's report says "partially enforced".

use landlock::{
    ABI, Access, AccessFs, AccessNet, LandlockStatus, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, Scope,
};
use std::path::PathBuf;

/// The ABI whose rights the grader asks for and has tested.
const TESTED: ABI = ABI::V6;

/// Restricts the calling process (and everything it will execute).
/// `Ok(detail)` when fully enforced; `Err(detail)` when not or only partly.
pub fn restrict(read: &[PathBuf], write: &[PathBuf]) -> Result<String, String> {
    let all = AccessFs::from_all(TESTED);
    let read_rights = AccessFs::from_read(TESTED);
    let file_rights = AccessFs::from_file(TESTED);
    let mut ruleset = Ruleset::default()
        .handle_access(all)
        .and_then(|r| r.handle_access(AccessNet::from_all(TESTED)))
        .and_then(|r| r.scope(Scope::from_all(TESTED)))
        .and_then(|r| r.create())
        .map_err(|e| format!("cannot create a ruleset: {e}"))?;
    for (paths, rights) in [(read, read_rights), (write, all)] {
        for path in paths {
            // A folder the machine lacks (`/lib32`) is simply not granted.
            let Ok(fd) = PathFd::new(path) else {
                continue;
            };
            let rights = if path.is_dir() {
                rights
            } else {
                rights & file_rights
            };
            ruleset = ruleset
                .add_rule(PathBeneath::new(fd, rights))
                .map_err(|e| format!("cannot add a rule for {}: {e}", path.display()))?;
        }
    }
    let status = ruleset
        .restrict_self()
        .map_err(|e| format!("cannot restrict: {e}"))?;
    let abi = match status.landlock {
        LandlockStatus::Available {
            kernel_abi,
            effective_abi,
        } => {
            format!("ABI {}", kernel_abi.unwrap_or(effective_abi as i32))
        }
        LandlockStatus::NotEnabled => "not enabled at boot".to_string(),
        LandlockStatus::NotImplemented => "not built into this kernel".to_string(),
    };
    match status.ruleset {
        RulesetStatus::FullyEnforced => Ok(format!("{abi}, fully enforced")),
        RulesetStatus::PartiallyEnforced => Err(format!(
            "{abi}, partially enforced (TCP or signal scoping need ABI {})",
            TESTED as i32
        )),
        RulesetStatus::NotEnforced => Err(format!("{abi}, not enforced")),
    }
}

/// The kernel's Landlock ABI, or why there is none (for `grader doctor`).
pub fn kernel_abi() -> Result<i32, String> {
    // SAFETY: LANDLOCK_CREATE_RULESET_VERSION with a null attribute only
    // returns the ABI version.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            1u32,
        )
    };
    if v >= 0 {
        return Ok(v as i32);
    }
    let e = std::io::Error::last_os_error();
    Err(match e.raw_os_error() {
        Some(libc::EOPNOTSUPP) => "Landlock is built in but not enabled at boot (lsm=)".into(),
        Some(libc::ENOSYS) => {
            "this kernel has no Landlock (Linux 5.13+ with CONFIG_SECURITY_LANDLOCK)".into()
        }
        _ => format!("Landlock probe failed: {e}"),
    })
}

/// The ABI the grader needs for every right it asks for.
pub fn needed_abi() -> i32 {
    TESTED as i32
}
