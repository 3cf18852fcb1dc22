//! Reading the process tree from `/proc`: who descends from whom, how many
//! tasks a run has, and whether all of them are waiting.
//!
//! This kernel has no `/proc/<pid>/task/<tid>/children` (not built with
//! `CONFIG_PROC_CHILDREN`), so the tree is rebuilt from the parent pid in
//! every `/proc/<pid>/stat`. A scan of a few hundred processes takes about a
//! millisecond; it runs when a run ends or reaches its time limit, and at
//! most every quarter second while a starved run is given more time.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

/// The state letter and parent pid of one process, from `/proc/<pid>/stat`.
fn stat(dir: &Path) -> Option<(char, i32)> {
    let text = std::fs::read_to_string(dir.join("stat")).ok()?;
    // The command name is in parentheses and may itself hold spaces or
    // parentheses: fields start after the last `)`.
    let mut rest = text.rsplit_once(')')?.1.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Every process's parent, keyed by pid.
fn parents() -> HashMap<i32, i32> {
    let mut map = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return map;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if let Some((_, ppid)) = stat(&entry.path()) {
            map.insert(pid, ppid);
        }
    }
    map
}

/// The direct children of `pid` (orphans re-parented to a subreaper
/// included).
pub fn children(pid: i32) -> Vec<i32> {
    parents()
        .into_iter()
        .filter(|&(_, ppid)| ppid == pid)
        .map(|(p, _)| p)
        .collect()
}

/// Every descendant of `root`, not `root` itself.
pub fn descendants(root: i32) -> Vec<i32> {
    let map = parents();
    let mut kids: HashMap<i32, Vec<i32>> = HashMap::new();
    for (&pid, &ppid) in &map {
        kids.entry(ppid).or_default().push(pid);
    }
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        if let Some(ks) = kids.get(&p) {
            for &k in ks {
                out.push(k);
                stack.push(k);
            }
        }
    }
    out
}

/// Threads of every process in `pids`.
pub fn task_count(pids: &[i32]) -> usize {
    pids.iter()
        .map(|p| {
            std::fs::read_dir(format!("/proc/{p}/task"))
                .map(|d| d.count())
                .unwrap_or(0)
        })
        .sum()
}

/// True when every thread of every process in `pids` is asleep in the
/// kernel and none is sleeping on a timer: they are all waiting for each
/// other (or for nothing), which is a deadlock, not a slow program.
pub fn all_blocked(pids: &[i32]) -> bool {
    // Sample twice: a thread between two short sleeps looks blocked once.
    let first = snapshot(pids);
    std::thread::sleep(Duration::from_millis(20));
    first == Some(true) && snapshot(pids) == Some(true)
}

/// What the threads of `pids` are doing: running, sleeping on a timer, or
/// waiting in any other call. `None` when no thread could be read.
pub fn activity(pids: &[i32]) -> Option<super::Activity> {
    let mut out = super::Activity::default();
    let mut any = false;
    for pid in pids {
        let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for entry in entries.flatten() {
            let Some((state, _)) = stat(&entry.path()) else {
                continue;
            };
            any = true;
            match state {
                'Z' | 'X' => {}
                'S' | 'D' if in_sleep(&entry.path()) => out.sleeping += 1,
                'S' | 'D' | 'T' | 't' => out.waiting += 1,
                _ => out.running += 1,
            }
        }
    }
    any.then_some(out)
}

/// The CPU time the processes in `pids` have used (their own threads and
/// the children they reaped), from the tick counts of `/proc/<pid>/stat`.
pub fn cpu_time(pids: &[i32]) -> Duration {
    // SAFETY: sysconf only reads a constant of the system.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let ticks: u64 = pids
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
            // utime, stime, cutime, cstime: fields 14 to 17, the 12th to
            // the 15th after the command name.
            let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
            Some(
                fields
                    .get(11..15)?
                    .iter()
                    .filter_map(|f| f.parse::<u64>().ok())
                    .sum::<u64>(),
            )
        })
        .sum();
    Duration::from_millis(ticks * 1000 / hz)
}

/// The command name of a process.
pub fn comm(pid: i32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|c| c.trim_end().to_owned())
}

/// Whether the task is in one of the sleep system calls.
fn in_sleep(task: &Path) -> bool {
    std::fs::read_to_string(task.join("syscall"))
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse::<i64>().ok())
        .is_some_and(|nr| nr == libc::SYS_clock_nanosleep || nr == libc::SYS_nanosleep)
}

fn snapshot(pids: &[i32]) -> Option<bool> {
    let mut any = false;
    for pid in pids {
        let task_dir = format!("/proc/{pid}/task");
        let Ok(entries) = std::fs::read_dir(&task_dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let (state, _) = stat(&entry.path())?;
            // A zombie or dead task is neither running nor waiting.
            if state == 'Z' || state == 'X' {
                continue;
            }
            any = true;
            if state != 'S' && state != 'D' {
                return Some(false);
            }
            if let Ok(syscall) = std::fs::read_to_string(entry.path().join("syscall")) {
                let nr: i64 = syscall.split_whitespace().next()?.parse().ok()?;
                if nr == libc::SYS_clock_nanosleep || nr == libc::SYS_nanosleep {
                    return Some(false);
                }
            }
        }
    }
    Some(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_child_and_its_threads() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let me = std::process::id() as i32;
        let kids = children(me);
        assert!(kids.contains(&(child.id() as i32)), "{kids:?}");
        assert!(descendants(me).contains(&(child.id() as i32)));
        assert_eq!(task_count(&[child.id() as i32]), 1);
        // A sleeper is waiting on a timer: not blocked.
        assert!(!all_blocked(&[child.id() as i32]));
        let seen = activity(&[child.id() as i32]).unwrap();
        assert_eq!((seen.running, seen.sleeping, seen.waiting), (0, 1, 0));
        assert!(cpu_time(&[child.id() as i32]) < Duration::from_millis(500));
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn cpu_time_counts_the_children_a_process_reaped() {
        let me = std::process::id() as i32;
        let before = cpu_time(&[me]);
        // CPU time, not wall time: the same on a busy machine.
        let status = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"])
            .status()
            .unwrap();
        assert!(status.success());
        let spent = cpu_time(&[me]) - before;
        assert!(spent >= Duration::from_millis(50), "{spent:?}");
    }
}
