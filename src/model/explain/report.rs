//! The harness's report as data: the protocol lines it writes on its
//! stderr (tagged from the run's key, so nothing the student's code prints
//! counts), parsed into a [`Report`] of facts: the failure, the objects,
//! the events of the failing interleaving, the threads and what they hold.
//! No wording here: that is the rest of `explain/`.

/// The first failure the harness reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failure {
    /// `assert`, `deadlock`, `panic`, `branches`, `threads`, `causality`,
    /// `leak` or `internal`.
    pub kind: String,
    pub message: String,
    pub loc: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Object {
    pub kind: String,
    pub loc: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    pub thread: usize,
    pub obj: Option<usize>,
    pub loc: String,
    pub verb: String,
    pub values: [String; 2],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadState {
    Running,
    Finished,
    /// Where it waits, and for what (`lock 3`, `recv 1`, `join 2`, ...).
    Blocked {
        loc: String,
        wait: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadInfo {
    pub spawned_at: String,
    pub state: ThreadState,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held {
    pub thread: usize,
    pub obj: usize,
    pub mode: String,
    pub loc: String,
}

/// Everything one harness run reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// `Some(n)`: the exploration completed, `n` iterations, no failure.
    pub done: Option<u64>,
    /// The MAC the harness's last step put on its `done` line (hex); the
    /// grader checks it against the run's key (`model/seal.rs`).
    pub seal: String,
    pub failure: Option<Failure>,
    /// The iteration that failed.
    pub iteration: u64,
    pub objects: Vec<Object>,
    pub events: Vec<Event>,
    /// Events of the failing iteration that were not kept.
    pub dropped: u64,
    pub threads: Vec<ThreadInfo>,
    pub held: Vec<Held>,
    /// Channels' live senders: (channel object, where it was made).
    pub senders: Vec<(usize, String)>,
    /// Iterations that passed and failed the scenario's assertion.
    pub passed: u64,
    pub failed: u64,
    /// The harness stopped exploring after failures with no pass.
    pub cut: bool,
    /// Whether the closing `end` line was seen (the report is whole).
    pub complete: bool,
    /// The `obs` lines of an observed call, fields after `obs`
    /// ([`crate::model::observe::parse`] reads them).
    pub observed: Vec<Vec<String>>,
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Parses the lines that start with `@@<tag> `; everything else (what the
/// student's code printed) is ignored.
pub fn parse(stderr: &str, tag: &str) -> Report {
    let prefix = format!("@@{tag} ");
    let mut r = Report::default();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix(&prefix) else {
            continue;
        };
        let f: Vec<String> = rest.split('\t').map(unescape).collect();
        let get = |i: usize| f.get(i).cloned().unwrap_or_default();
        let num = |i: usize| get(i).parse::<u64>().unwrap_or(0);
        match f[0].as_str() {
            "done" => {
                r.done = Some(num(1));
                r.seal = get(2);
            }
            "fail" if r.failure.is_none() => {
                r.failure = Some(Failure {
                    kind: get(1),
                    message: get(2),
                    loc: get(3),
                })
            }
            "iteration" => r.iteration = num(1),
            "object" => r.objects.push(Object {
                kind: get(2),
                loc: get(3),
            }),
            "event" => r.events.push(Event {
                thread: num(1) as usize,
                obj: get(2).parse().ok(),
                loc: get(3),
                verb: get(4),
                values: [get(5), get(6)],
            }),
            "dropped" => r.dropped = num(1),
            "thread" => r.threads.push(ThreadInfo {
                spawned_at: get(2),
                state: match get(3).as_str() {
                    "finished" => ThreadState::Finished,
                    "blocked" => ThreadState::Blocked {
                        loc: get(4),
                        wait: f.iter().skip(5).cloned().collect(),
                    },
                    _ => ThreadState::Running,
                },
            }),
            "held" => r.held.push(Held {
                thread: num(1) as usize,
                obj: num(2) as usize,
                mode: get(3),
                loc: get(4),
            }),
            "sender" => r.senders.push((num(1) as usize, get(2))),
            "counts" => {
                r.passed = num(1);
                r.failed = num(2);
            }
            "cut" => r.cut = true,
            "obs" => r.observed.push(f[1..].to_vec()),
            "end" => r.complete = true,
            _ => {}
        }
    }
    r
}

/// A report from a table of fields (`fail | assert | ... | lib.rs:5`, one
/// line each), tagged as a harness tags it, for the tests of its wording.
#[cfg(test)]
pub(super) fn table(lines: &str) -> Report {
    let text: String = lines
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let fields: Vec<&str> = l.split('|').map(str::trim).collect();
            format!("@@{TAG} {}\n", fields.join("\t"))
        })
        .collect();
    parse(&text, TAG)
}

/// The tag of [`table`]'s reports.
#[cfg(test)]
pub(super) const TAG: &str = "t0";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tagged_lines_count() {
        let text = "@@forged done\t1\n@@t0 done\t90\nprinted by the student\n";
        let r = parse(text, TAG);
        assert_eq!(r.done, Some(90));
        assert!(r.failure.is_none());
        let forged = parse("@@forged done\t1\n", TAG);
        assert_eq!(forged.done, None);
    }

    #[test]
    fn fields_are_unescaped() {
        let r = parse("@@t0 fail\tpanic\ta\\tb\\nc\\\\d\tlib.rs:1\n", TAG);
        assert_eq!(r.failure.unwrap().message, "a\tb\nc\\d");
    }
}
