//! The questions the checks ask of a [`Trace`]: which threads were still
//! running at exit, whether the work ran one thread at a time, how many
//! threads ran at once, and which thread wrote each line of the output.

use super::{LineOrigin, ThreadInfo, Trace, WriteEvent};
use std::path::Path;

impl Trace {
    /// Whether the traced process is `exe`. A statically linked program
    /// ignores `LD_PRELOAD`; if it then starts a dynamic one, that child's
    /// `init` must not be taken for the program's.
    pub fn loaded_into(&self, exe: &Path) -> bool {
        let Some(init) = &self.init else {
            return false;
        };
        init.exe == exe
            || matches!(
                (init.exe.canonicalize(), exe.canonicalize()),
                (Ok(a), Ok(b)) if a == b
            )
    }

    /// The spawned threads (every thread but `main`).
    pub fn spawned(&self) -> &[ThreadInfo] {
        self.threads.get(1..).unwrap_or_default()
    }

    /// The threads `creator` spawned, in spawn order.
    pub fn spawned_by(&self, creator: usize) -> Vec<usize> {
        let mut children: Vec<&ThreadInfo> = self
            .spawned()
            .iter()
            .filter(|t| t.created_by == Some(creator))
            .collect();
        children.sort_by_key(|t| t.created.map(|s| s.seq));
        children.iter().map(|t| t.index).collect()
    }

    /// Spawned threads whose body had not ended when the process exited.
    /// `None` when the process did not exit normally (no `exit` event).
    pub fn alive_at_exit(&self) -> Option<Vec<usize>> {
        let exit = self.exit?;
        Some(
            self.spawned()
                .iter()
                .filter(|t| t.running_at(exit.at))
                .map(|t| t.index)
                .collect(),
        )
    }

    /// `main` spawned at least two threads and joined each before spawning
    /// the next: the work ran one thread at a time (also the lazy
    /// `map(spawn).map(join)` iterator mistake).
    pub fn sequential_join_per_spawn(&self) -> bool {
        let children = self.spawned_by(0);
        children.len() >= 2
            && children.windows(2).all(|pair| {
                let (this, next) = (&self.threads[pair[0]], &self.threads[pair[1]]);
                match (this.joined, next.created) {
                    (Some(joined), Some(created)) => joined.seq < created.seq,
                    _ => false,
                }
            })
    }

    /// How many of `creator`'s threads it spawned before its first
    /// successful join of any thread (all of them if it never joined).
    pub fn spawned_before_first_join(&self, creator: usize) -> usize {
        let first_join = self
            .threads
            .iter()
            .filter(|t| t.joined_by == Some(creator))
            .filter_map(|t| t.joined)
            .map(|s| s.seq)
            .min();
        self.spawned_by(creator)
            .iter()
            .filter(|&&i| {
                let created = self.threads[i].created.map(|s| s.seq);
                first_join.is_none_or(|join| created.is_some_and(|c| c < join))
            })
            .count()
    }

    /// The most spawned threads whose bodies were running at one time
    /// (at normal timing: threads that run side by side may still happen
    /// not to overlap).
    pub fn max_concurrent(&self) -> usize {
        let mut edges: Vec<(u64, i32)> = Vec::new();
        for thread in self.spawned() {
            if let Some(born) = thread.born() {
                edges.push((born.seq, 1));
                edges.push((thread.finished.map_or(u64::MAX, |s| s.seq), -1));
            }
        }
        edges.sort_unstable();
        let (mut now, mut most) = (0i32, 0i32);
        for (_, delta) in edges {
            now += delta;
            most = most.max(now);
        }
        most as usize
    }

    /// For each line of `captured` (what the grader read from `fd`, 1 or 2),
    /// the threads that wrote it. Lines are split at `\n`; a last line
    /// without one counts too.
    pub fn line_writers(&self, fd: u8, captured: &[u8]) -> Vec<LineOrigin> {
        let mut writes: Vec<&WriteEvent> = self.writes.iter().filter(|w| w.fd == fd).collect();
        writes.sort_by_key(|w| w.offset);
        let mut origins = Vec::new();
        let mut next = 0; // first write that may overlap the current line
        let mut start = 0usize;
        while start < captured.len() {
            let end = captured[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(captured.len(), |i| start + i + 1);
            let (s, e) = (start as u64, end as u64);
            while next < writes.len() && writes[next].offset + writes[next].len <= s {
                next += 1;
            }
            let mut writers = Vec::new();
            let mut covered = s;
            let mut complete = true;
            for write in writes[next..].iter().take_while(|w| w.offset < e) {
                if write.offset > covered {
                    complete = false;
                }
                covered = covered.max(write.offset + write.len);
                match write.thread {
                    Some(t) if !writers.contains(&t) => writers.push(t),
                    Some(_) => {}
                    None => complete = false,
                }
            }
            let text = captured[start..end]
                .strip_suffix(b"\n")
                .unwrap_or(&captured[start..end]);
            origins.push(LineOrigin {
                text: String::from_utf8_lossy(text).into_owned(),
                writers,
                complete: complete && covered >= e,
            });
            start = end;
        }
        origins
    }
}
