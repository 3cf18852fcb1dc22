//! `grader doctor`: which sandbox layers this machine gives, why not the
//! others, and what the sandbox costs a run.
//!
//! The answer comes from a real run: a trivial program is run through the
//! sandbox and the launcher's report says what was applied (detection at
//! run time is the only truthful kind: Ubuntu's AppArmor, for one, lets a
//! user namespace be created and then takes its capabilities away). Facts
//! about the machine (kernel, Landlock ABI, namespace sysctls, cgroup
//! controllers) explain each "no".
//!
//! The hidden `grader __run` lives here too: it runs one program in the
//! sandbox, with chosen mechanisms left out, and prints what happened as
//! JSON, so that tests can prove each mechanism holds on its own.

use super::{Mechanism, Report, Selection};
use crate::run::{self, Limits, Request};
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

/// What `grader doctor` found.
pub struct Diagnosis {
    pub report: Report,
    /// Median time of one `run::run` of a trivial program, set-up and
    /// clean-up included: (bare, sandboxed).
    pub cost: Option<(Duration, Duration)>,
}

fn trivial_program() -> Option<PathBuf> {
    ["/bin/true", "/usr/bin/true"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn limits() -> Limits {
    Limits {
        wall: Duration::from_secs(10),
        cpu: Duration::from_secs(5),
        output_bytes: 1 << 16,
        file_bytes: 1 << 20,
        address_space_bytes: 4 << 30,
        memory_bytes: 256 << 20,
        tasks: 64,
    }
}

/// Runs the probe (and, with `runs > 0`, the timing).
pub fn diagnose(runs: usize) -> Diagnosis {
    let Some(program) = trivial_program() else {
        let mut report = Report::default();
        report.complete("no /bin/true to probe with");
        return Diagnosis { report, cost: None };
    };
    let dir = tempfile::tempdir().ok();
    let cwd = dir
        .as_ref()
        .map(|d| d.path().to_path_buf())
        .unwrap_or_else(std::env::temp_dir);
    let request = |selection: Selection| {
        let mut r = Request::new(&program, &cwd, limits());
        r.selection = selection;
        r
    };
    let report = match run::run(&request(Selection::all())) {
        Ok(o) => o.sandbox,
        Err(e) => {
            let mut report = Report::default();
            report.complete(&format!("the probe run failed: {e}"));
            return Diagnosis { report, cost: None };
        }
    };
    let cost = (runs > 0).then(|| {
        let time = |selection: Selection| {
            let req = request(selection);
            // The whole call: the cgroup and the uid are set up before the
            // program starts and removed after it ends.
            let mut walls: Vec<Duration> = (0..runs)
                .filter_map(|_| {
                    let start = std::time::Instant::now();
                    run::run(&req).ok().map(|_| start.elapsed())
                })
                .collect();
            walls.sort();
            walls.get(walls.len() / 2).copied().unwrap_or_default()
        };
        // Interleave warm-up so neither side pays for a cold cache.
        let _ = time(Selection::all());
        (time(Selection::bare()), time(Selection::all()))
    });
    Diagnosis { report, cost }
}

/// Facts that explain the answer, one line each.
fn machine_facts() -> Vec<String> {
    let mut facts = Vec::new();
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    facts.push(format!(
        "{} {}, {}",
        std::env::consts::OS,
        kernel_release(),
        if euid == 0 {
            "running as root".to_string()
        } else {
            format!("running as uid {euid} (not root)")
        }
    ));
    #[cfg(target_os = "linux")]
    {
        facts.push(match super::landlock::kernel_abi() {
            Ok(abi) => format!(
                "Landlock ABI {abi} (the grader asks for ABI {}: files, TCP, signal scoping)",
                super::landlock::needed_abi()
            ),
            Err(e) => e,
        });
        let read = |p: &str| {
            std::fs::read_to_string(p)
                .ok()
                .map(|s| s.trim().to_string())
        };
        let mut ns = Vec::new();
        if let Some(v) = read("/proc/sys/user/max_user_namespaces") {
            ns.push(format!("max_user_namespaces {v}"));
        }
        if let Some(v) = read("/proc/sys/kernel/unprivileged_userns_clone") {
            ns.push(format!("unprivileged_userns_clone {v}"));
        }
        if let Some(v) = read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") {
            ns.push(format!("apparmor_restrict_unprivileged_userns {v}"));
        }
        if !ns.is_empty() {
            facts.push(format!("user namespaces: {}", ns.join(", ")));
        }
        facts.push(match super::cgroup::support() {
            Ok(s) => format!("cgroups: {}", s.describe()),
            Err(e) => format!("cgroups: {e}"),
        });
        if euid == 0 {
            facts.push(
                "uid per run: only where the run's folder and program are reachable by other \
                 users (a course tree under a 0700 home keeps uid 0, and its report says so)"
                    .to_string(),
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    facts.push(
        "layers 1 and 2 are built on Linux interfaces (namespaces, Landlock, seccomp, cgroups); \
         on this system only layer 0 without its launcher is given"
            .to_string(),
    );
    facts
}

fn kernel_release() -> String {
    // SAFETY: utsname is plain data filled in by the call.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return "(unknown kernel)".into();
        }
        let field = |f: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(f.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        format!("{} {}", field(&u.release), field(&u.machine))
    }
}

const LAYER_NAMES: [&str; 3] = [
    "always: group, cleared env, stdin closed, limits, subreaper sweep",
    "unprivileged: namespaces, Landlock, seccomp",
    "root or delegated cgroups: cgroup, uid per run",
];

/// Prints the diagnosis; returns the exit status (1 when a layer of
/// `require` does not hold).
pub fn print(out: &mut impl Write, d: &Diagnosis, require: &[u8]) -> io::Result<u8> {
    writeln!(out, "grader doctor: the sandbox on this machine\n")?;
    for fact in machine_facts() {
        writeln!(out, "  {fact}")?;
    }
    writeln!(out)?;
    for layer in 0..3u8 {
        let holds = d.report.layer_holds(layer);
        writeln!(
            out,
            "layer {layer}  {:<62} {}",
            LAYER_NAMES[layer as usize],
            if holds { "yes" } else { "NO" }
        )?;
        for m in Mechanism::ALL.into_iter().filter(|m| m.layer() == layer) {
            let (mark, detail) = match d.report.get(m) {
                Some(a) if a.applied => ("yes", a.detail.as_str()),
                Some(a) => ("no ", a.detail.as_str()),
                None => ("no ", "not reported"),
            };
            writeln!(out, "  {mark}  {:<18} {detail}", m.as_str())?;
            if mark != "yes" {
                writeln!(out, "       {:<18} (protects: {})", "", m.purpose())?;
            }
        }
    }
    if let Some((bare, sandboxed)) = d.cost {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let ratio = if bare.is_zero() {
            0.0
        } else {
            sandboxed.as_secs_f64() / bare.as_secs_f64()
        };
        writeln!(
            out,
            "\ncost of one run of /bin/true (median): {:.1} ms without the sandbox, {:.1} ms with it: +{:.1} ms, x{:.1}",
            ms(bare),
            ms(sandboxed),
            ms(sandboxed.saturating_sub(bare)),
            ratio
        )?;
    }
    let missing: Vec<u8> = require
        .iter()
        .copied()
        .filter(|l| !d.report.layer_holds(*l))
        .collect();
    if missing.is_empty() {
        if !require.is_empty() {
            writeln!(out, "\nrequired layers hold: {}", list(require))?;
        }
        Ok(0)
    } else {
        writeln!(out, "\nrequired layer(s) missing: {}", list(&missing))?;
        Ok(1)
    }
}

fn list(layers: &[u8]) -> String {
    layers
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses `--require 0,1`.
pub fn parse_layers(s: &str) -> Result<Vec<u8>, String> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.trim().parse::<u8>() {
            Ok(n) if n <= 2 => Ok(n),
            _ => Err(format!("`{p}` is not a layer (0, 1 or 2)")),
        })
        .collect()
}

/// `grader __run`: one program in the sandbox.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The program's working folder (Landlock: writable).
    #[arg(long, value_name = "DIR")]
    pub cwd: PathBuf,
    #[arg(long, default_value_t = 10_000)]
    pub wall_ms: u64,
    #[arg(long, default_value_t = 10_000)]
    pub cpu_ms: u64,
    #[arg(long, default_value_t = 1 << 20)]
    pub output_bytes: usize,
    #[arg(long, default_value_t = 16 << 20)]
    pub file_bytes: u64,
    #[arg(long, default_value_t = 1024)]
    pub memory_mb: u64,
    #[arg(long, default_value_t = 1100)]
    pub tasks: u64,
    /// Leave this mechanism out (repeatable), e.g. `--without seccomp`.
    #[arg(long, value_name = "MECHANISM")]
    pub without: Vec<String>,
    /// Only what the grader's own process does (no launcher).
    #[arg(long)]
    pub bare: bool,
    /// More paths the program may read beneath.
    #[arg(long, value_name = "PATH")]
    pub read: Vec<PathBuf>,
    /// More folders the program may write beneath.
    #[arg(long, value_name = "DIR")]
    pub write: Vec<PathBuf>,
    /// `KEY=VALUE` added to the program's environment.
    #[arg(long, value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// The program and its arguments.
    #[arg(trailing_var_arg = true, required = true)]
    pub command: Vec<std::ffi::OsString>,
}

/// Runs `args.command` in the sandbox and prints one JSON object: how it
/// ended, the category the grader would give it, its output and the
/// sandbox report.
pub fn run_one(out: &mut impl Write, args: &RunArgs) -> io::Result<u8> {
    let bad = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
    let mut limits = crate::run::Limits::from_spec(&crate::spec::Limits {
        wall_ms: args.wall_ms,
        cpu_ms: args.cpu_ms,
        output_bytes: args.output_bytes,
        file_bytes: args.file_bytes,
        memory_mb: args.memory_mb,
        tasks: args.tasks,
        ..Default::default()
    });
    limits.memory_bytes = args.memory_mb << 20;
    let mut req = Request::new(&args.command[0], &args.cwd, limits);
    for a in &args.command[1..] {
        req = req.arg(a);
    }
    req.read = args.read.clone();
    req.write = args.write.clone();
    for kv in &args.env {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| bad(format!("`{kv}` is not KEY=VALUE")))?;
        req = req.env(k, v);
    }
    req.selection = if args.bare {
        Selection::bare()
    } else {
        let mut without = Vec::new();
        for w in &args.without {
            without.push(Mechanism::parse(w).ok_or_else(|| bad(format!("no mechanism `{w}`")))?);
        }
        Selection { without }
    };
    let value = match run::run(&req) {
        Ok(o) => {
            let category =
                crate::checks::output::judge_termination("run", 1, &o).and_then(|c| c.category);
            serde_json::json!({
                "termination": format!("{:?}", o.termination),
                "category": category,
                "stdout": o.stdout_text(),
                "stderr": o.stderr_text(),
                "wall_ms": o.wall.as_millis() as u64,
                "cpu_ms": o.cpu.as_millis() as u64,
                "sandbox": o.sandbox,
            })
        }
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    };
    writeln!(out, "{value}")?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_parse() {
        assert_eq!(parse_layers("0,1").unwrap(), vec![0, 1]);
        assert!(parse_layers("3").is_err());
    }

    #[test]
    fn a_missing_required_layer_fails() {
        let mut report = Report::default();
        report.set(Mechanism::Launcher, true, "x");
        report.set(Mechanism::Rlimits, true, "x");
        report.complete("no");
        let d = Diagnosis { report, cost: None };
        let mut out = Vec::new();
        assert_eq!(print(&mut out, &d, &[0]).unwrap(), 0);
        assert_eq!(print(&mut out, &d, &[0, 1]).unwrap(), 1);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("required layer(s) missing: 1"), "{text}");
    }
}
