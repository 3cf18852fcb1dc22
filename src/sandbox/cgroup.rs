//! A cgroup per run: memory and task limits the kernel enforces for the
//! whole run (every process and thread), an OOM kill or a refused fork as a
//! fact the grader reads afterwards, and a way to kill what is left.
//!
//! cgroup v2 is used when the grader's own cgroup offers the `memory` and
//! `pids` controllers; otherwise v1, which needs root. Measured on this kind
//! of machine (research/sandbox.md): a hybrid layout whose v2 hierarchy has
//! only `hugetlb`, so v2 cannot limit memory or tasks, while the v1 memory
//! and pids hierarchies work as root (a 512 MB limit ended a 20 GB
//! allocation with an OOM kill; pids.max capped a fork bomb). Unprivileged,
//! `mkdir` fails even inside a user namespace: this is layer 2.
//!
//! The run's cgroups are made beneath the grader's own, so whatever limits
//! the machine puts on the grader still hold for its runs.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Where runs' cgroups go on this machine.
#[derive(Debug, Clone)]
pub enum Support {
    /// The grader's own v2 cgroup, with `memory` and `pids` delegated.
    V2 { parent: PathBuf },
    /// The grader's own cgroups in the v1 `memory` and `pids` hierarchies.
    V1 { memory: PathBuf, pids: PathBuf },
}

impl Support {
    pub fn describe(&self) -> String {
        match self {
            Support::V2 { parent } => format!("v2 memory + pids beneath {}", parent.display()),
            Support::V1 { memory, pids } => format!(
                "v1 memory + pids beneath {} and {}",
                memory.display(),
                pids.display()
            ),
        }
    }
}

/// What the grader's cgroup hierarchies offer, found once per process.
pub fn support() -> &'static Result<Support, String> {
    static SUPPORT: OnceLock<Result<Support, String>> = OnceLock::new();
    SUPPORT.get_or_init(detect)
}

struct Mount {
    root: String,
    point: PathBuf,
    fstype: String,
    options: String,
}

fn mounts() -> Vec<Mount> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            Some(Mount {
                root: left.get(3)?.to_string(),
                point: PathBuf::from(left.get(4)?),
                fstype: right.first()?.to_string(),
                options: right.get(2).unwrap_or(&"").to_string(),
            })
        })
        .filter(|m| m.fstype == "cgroup" || m.fstype == "cgroup2")
        .collect()
}

/// The grader's own cgroup path in the hierarchy holding `controller`
/// (`""` for v2).
fn own_path(controller: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let _id = parts.next()?;
        let controllers = parts.next()?;
        let path = parts.next()?;
        let hit = if controller.is_empty() {
            controllers.is_empty()
        } else {
            controllers.split(',').any(|c| c == controller)
        };
        hit.then(|| path.to_string())
    })
}

fn join(mount: &Mount, own: &str) -> PathBuf {
    let rel = own.strip_prefix(mount.root.as_str()).unwrap_or(own);
    mount.point.join(rel.trim_start_matches('/'))
}

fn detect() -> Result<Support, String> {
    let mounts = mounts();
    if mounts.is_empty() {
        return Err("no cgroup file system is mounted".into());
    }
    let mut why = Vec::new();
    match detect_v2(&mounts) {
        Ok(s) => return Ok(s),
        Err(e) => why.push(e),
    }
    match detect_v1(&mounts) {
        Ok(s) => return Ok(s),
        Err(e) => why.push(e),
    }
    Err(why.join("; "))
}

fn detect_v2(mounts: &[Mount]) -> Result<Support, String> {
    let mount = mounts
        .iter()
        .find(|m| m.fstype == "cgroup2")
        .ok_or("v2: not mounted")?;
    let own = own_path("").ok_or("v2: the grader is in no v2 cgroup")?;
    let parent = join(mount, &own);
    let controllers =
        std::fs::read_to_string(parent.join("cgroup.controllers")).unwrap_or_default();
    let have: Vec<&str> = controllers.split_whitespace().collect();
    let missing: Vec<&str> = ["memory", "pids"]
        .into_iter()
        .filter(|c| !have.contains(c))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "v2 offers only [{}], not {}",
            have.join(" "),
            missing.join(" + ")
        ));
    }
    let subtree =
        std::fs::read_to_string(parent.join("cgroup.subtree_control")).unwrap_or_default();
    if !(subtree.contains("memory") && subtree.contains("pids")) {
        std::fs::write(parent.join("cgroup.subtree_control"), "+memory +pids").map_err(|e| {
            format!(
                "v2: cannot enable memory + pids for children of {}: {e} (delegate a cgroup without processes of its own to the grader)",
                parent.display()
            )
        })?;
    }
    probe(std::slice::from_ref(&parent))?;
    Ok(Support::V2 { parent })
}

fn detect_v1(mounts: &[Mount]) -> Result<Support, String> {
    let find = |controller: &str| -> Result<PathBuf, String> {
        let mount = mounts
            .iter()
            .find(|m| m.fstype == "cgroup" && m.options.split(',').any(|o| o == controller))
            .ok_or(format!("v1: no {controller} hierarchy"))?;
        let own =
            own_path(controller).ok_or(format!("v1: the grader is in no {controller} cgroup"))?;
        Ok(join(mount, &own))
    };
    let memory = find("memory")?;
    let pids = find("pids")?;
    probe(&[memory.clone(), pids.clone()])?;
    Ok(Support::V1 { memory, pids })
}

/// Makes and removes a child cgroup: the only sure test of permission.
/// Removes the empty cgroups of graders that died before they could (a
/// grader killed mid-run never runs its clean-up).
fn probe(parents: &[PathBuf]) -> Result<(), String> {
    for parent in parents {
        let dir = parent.join(format!("grader-probe-{}", std::process::id()));
        std::fs::create_dir(&dir)
            .map_err(|e| format!("cannot create a cgroup in {}: {e}", parent.display()))?;
        let _ = std::fs::remove_dir(&dir);
        remove_stale(parent);
    }
    Ok(())
}

/// `grader-<pid>-<n>` cgroups whose grader is gone and that hold no process.
fn remove_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("grader-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only tests whether the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
        let empty = std::fs::read_to_string(entry.path().join("cgroup.procs"))
            .is_ok_and(|procs| procs.trim().is_empty());
        if !alive && empty {
            let _ = std::fs::remove_dir(entry.path());
        }
    }
}

/// The cgroup(s) of one run; removed (after killing what is left in them)
/// when dropped.
#[derive(Debug)]
pub struct RunCgroup {
    dirs: Vec<PathBuf>,
    v2: bool,
}

/// What the kernel recorded about a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    /// Processes the OOM killer ended.
    pub oom_kills: u64,
    /// Forks or thread creations refused by the task limit.
    pub task_limit_hits: u64,
}

impl RunCgroup {
    /// Creates the run's cgroup with its limits.
    pub fn create(memory_bytes: u64, tasks: u64) -> Result<RunCgroup, String> {
        let support = support().as_ref().map_err(Clone::clone)?;
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "grader-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let write = |dir: &Path, file: &str, value: String| {
            std::fs::write(dir.join(file), &value)
                .map_err(|e| format!("cannot set {file} of {}: {e}", dir.display()))
        };
        match support {
            Support::V2 { parent } => {
                let dir = parent.join(&name);
                std::fs::create_dir(&dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                let cg = RunCgroup {
                    dirs: vec![dir.clone()],
                    v2: true,
                };
                write(&dir, "memory.max", memory_bytes.to_string())?;
                let _ = write(&dir, "memory.swap.max", "0".into());
                write(&dir, "pids.max", tasks.to_string())?;
                Ok(cg)
            }
            Support::V1 { memory, pids } => {
                let mem = memory.join(&name);
                let pid = pids.join(&name);
                std::fs::create_dir(&mem)
                    .map_err(|e| format!("cannot create {}: {e}", mem.display()))?;
                let mut cg = RunCgroup {
                    dirs: vec![mem.clone()],
                    v2: false,
                };
                std::fs::create_dir(&pid)
                    .map_err(|e| format!("cannot create {}: {e}", pid.display()))?;
                cg.dirs.push(pid.clone());
                write(&mem, "memory.limit_in_bytes", memory_bytes.to_string())?;
                // No swap either, where the kernel accounts it.
                let _ = write(
                    &mem,
                    "memory.memsw.limit_in_bytes",
                    memory_bytes.to_string(),
                );
                write(&pid, "pids.max", tasks.to_string())?;
                Ok(cg)
            }
        }
    }

    /// The `cgroup.procs` files the launcher writes itself into.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs.iter().map(|d| d.join("cgroup.procs")).collect()
    }

    pub fn describe(&self) -> String {
        let dirs: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
        format!("{} {}", if self.v2 { "v2" } else { "v1" }, dirs.join(" + "))
    }

    /// The counters the kernel kept for this run.
    pub fn facts(&self) -> Facts {
        let mut facts = Facts::default();
        for dir in &self.dirs {
            for (file, key) in [
                ("memory.events", "oom_kill"),
                ("memory.oom_control", "oom_kill"),
            ] {
                if let Some(n) = counter(&dir.join(file), key) {
                    facts.oom_kills = facts.oom_kills.max(n);
                }
            }
            if let Some(n) = counter(&dir.join("pids.events"), "max") {
                facts.task_limit_hits = facts.task_limit_hits.max(n);
            }
        }
        facts
    }

    /// Kills whatever is still in the run's cgroups (the launcher's sweep
    /// should have left nothing; this is the second line).
    fn kill_all(&self) {
        if self.v2 {
            let _ = std::fs::write(self.dirs[0].join("cgroup.kill"), "1");
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        for dir in &self.dirs {
            loop {
                let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                let pids: Vec<i32> = procs
                    .lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect();
                if pids.is_empty() || Instant::now() > deadline {
                    break;
                }
                for pid in pids {
                    // SAFETY: signalling a process of the run's cgroup.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
}

impl Drop for RunCgroup {
    fn drop(&mut self) {
        self.kill_all();
        // A just-killed process may still be leaving the cgroup (one that
        // filled its memory takes a while to free it). What is still there
        // after a second is removed by the next grader (`remove_stale`).
        let deadline = Instant::now() + Duration::from_secs(1);
        for dir in &self.dirs {
            while std::fs::remove_dir(dir).is_err() && dir.exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

/// `key N` from a flat-keyed cgroup file.
fn counter(file: &Path, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_read_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("memory.oom_control");
        std::fs::write(&f, "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n").unwrap();
        assert_eq!(counter(&f, "oom_kill"), Some(3));
        assert_eq!(counter(&f, "nope"), None);
    }

    #[test]
    fn mountinfo_paths_join_under_the_mount_root() {
        let m = Mount {
            root: "/".into(),
            point: "/sys/fs/cgroup/memory".into(),
            fstype: "cgroup".into(),
            options: "rw,memory".into(),
        };
        assert_eq!(join(&m, "/a/b"), PathBuf::from("/sys/fs/cgroup/memory/a/b"));
        assert_eq!(join(&m, "/"), PathBuf::from("/sys/fs/cgroup/memory"));
    }
}
