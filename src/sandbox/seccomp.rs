//! The seccomp filter of a run: a deny list, so that the programs of the
//! course (threads, channels, files in the scratch folder) and the compiler
//! run unchanged, while the system calls that reach out of the run fail.
//!
//! Denied with `EPERM`: sockets of any family but `AF_UNIX`; `ptrace` and
//! reading or writing another process's memory; mounting; new namespaces
//! (`unshare`, `setns`, and `clone` with a namespace flag: a nested user
//! namespace would give the program capabilities over its own sandbox);
//! `bpf`, keyrings, `io_uring` (a large kernel surface; io_uring operations
//! also bypass this filter), `perf_event_open`, `userfaultfd`, module
//! loading, `open_by_handle_at`. `clone3` answers `ENOSYS`: its flags are in
//! memory a filter cannot read, and the C library then falls back to
//! `clone`, whose flags it can.
//!
//! Unprivileged filters need `PR_SET_NO_NEW_PRIVS` (measured: `EACCES`
//! without it); `seccompiler::apply_filter` sets it.
//!
//! Not covered: x32 system call numbers (bit 30 set) on x86-64 kernels
//! built with the x32 ABI; a Rust submission cannot make a raw system call
//! without `unsafe`, and Landlock and the network namespace hold there.

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};
use std::collections::BTreeMap;

/// The two filters of a run, compiled before `fork` so the child only
/// installs them.
pub struct Filters {
    deny: BpfProgram,
    no_clone3: BpfProgram,
}

fn arch() -> Result<TargetArch, String> {
    TargetArch::try_from(std::env::consts::ARCH).map_err(|e| e.to_string())
}

/// Namespace flags of `clone` (and `unshare`).
const NAMESPACE_FLAGS: [libc::c_int; 7] = [
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWCGROUP,
];

pub fn compile() -> Result<Filters, String> {
    let arch = arch()?;
    let always = [
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_bpf,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_kexec_load,
        libc::SYS_open_by_handle_at,
        libc::SYS_name_to_handle_at,
        libc::SYS_fsopen,
        libc::SYS_fsmount,
        libc::SYS_move_mount,
        libc::SYS_open_tree,
    ];
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for nr in always {
        rules.insert(nr, Vec::new());
    }
    let cond = |arg, op, value: u64| {
        SeccompCondition::new(arg, SeccompCmpArgLen::Dword, op, value).map_err(|e| e.to_string())
    };
    rules.insert(
        libc::SYS_socket,
        vec![
            SeccompRule::new(vec![cond(0, SeccompCmpOp::Ne, libc::AF_UNIX as u64)?])
                .map_err(|e| e.to_string())?,
        ],
    );
    let mut clone_rules = Vec::new();
    for flag in NAMESPACE_FLAGS {
        let flag = flag as u64;
        clone_rules.push(
            SeccompRule::new(vec![cond(0, SeccompCmpOp::MaskedEq(flag), flag)?])
                .map_err(|e| e.to_string())?,
        );
    }
    rules.insert(libc::SYS_clone, clone_rules);
    let deny = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .and_then(BpfProgram::try_from)
    .map_err(|e| e.to_string())?;
    let no_clone3 = SeccompFilter::new(
        BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .and_then(BpfProgram::try_from)
    .map_err(|e| e.to_string())?;
    Ok(Filters { deny, no_clone3 })
}

impl Filters {
    /// Installs both filters on the calling thread (with no_new_privs).
    pub fn apply(&self) -> Result<String, String> {
        seccompiler::apply_filter(&self.deny).map_err(|e| e.to_string())?;
        seccompiler::apply_filter(&self.no_clone3).map_err(|e| e.to_string())?;
        Ok(format!(
            "{} + {} BPF instructions: no sockets but AF_UNIX, no ptrace, mount, namespaces, bpf, keyrings, io_uring",
            self.deny.len(),
            self.no_clone3.len()
        ))
    }
}
