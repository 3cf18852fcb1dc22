//! `grader run [ID]`: builds the student's program and runs it once, without
//! grading it, as rustlings' `run` does: to see what it prints.
//!
//! It is the grading pipeline's own intake, scan and build, so what runs is
//! exactly what `check` would grade (the grader's build settings, not the
//! exercise's `Cargo.toml`, so `cargo run` in the wrong folder cannot stand
//! in for it), and one run under the exercise's limits in the sandbox, like
//! every run of student code. Nothing is checked or recorded. The program's
//! stdout goes to stdout and its stderr to stderr, each whole, after the run
//! (they are captured, capped, as for grading); one line on stderr then
//! says how it ended.
//!
//! Exit status: 0 when the program exited with 0; 1 when it did not build,
//! used what the course forbids, or failed (a non-zero exit, a signal, a
//! limit); 2 when the grader could not run it.

use crate::checks::output::signal_name;
use crate::grade::{BuildStage, GradeError, Grader};
use crate::run::{self, Termination};
use crate::spec::ExerciseSpec;
use crate::submission;
use std::io::Write;

/// What stops `run` (a missing exercise folder, a build or run the grader
/// could not carry out): one line, exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Grade(#[from] crate::grade::GradeError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Whether it is only the reader of the output gone away.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

pub fn run(grader: &Grader, spec: &ExerciseSpec, out: &mut impl Write) -> Result<u8, Error> {
    let dir = grader.project.exercise_dir(&spec.id);
    if !dir.exists() {
        return Err(Error::Other(format!("{} does not exist", dir.display())));
    }
    let scratch_root = grader.cache.join("scratch");
    let scratch_err = |source| GradeError::Scratch {
        path: scratch_root.clone(),
        source,
    };
    std::fs::create_dir_all(&scratch_root).map_err(scratch_err)?;
    let scratch = tempfile::Builder::new()
        .prefix(&format!("run-{}-", spec.id))
        .tempdir_in(&scratch_root)
        .map_err(scratch_err)?;
    let sources = submission::intake(spec, &dir, scratch.path()).map_err(GradeError::from)?;
    let mut err = std::io::stderr().lock();
    let exe = match grader.build_stage(spec, &sources)? {
        BuildStage::Built { exe: Some(exe), .. } => exe,
        BuildStage::Built { exe: None, .. } => {
            writeln!(err, "cannot run {}: it has no src/main.rs", spec.id)?;
            return Ok(1);
        }
        BuildStage::Failed(outcome) => {
            write!(err, "{}", crate::report::safe::text(&outcome.details))?;
            writeln!(err, "{}", crate::report::safe::text(&outcome.message))?;
            return Ok(1);
        }
    };
    let workdir = sources.dir.join("run");
    std::fs::create_dir_all(&workdir).map_err(scratch_err)?;
    let limits = run::Limits::from_spec(&spec.limits);
    let req = run::Request::new(&exe, &workdir, limits.clone()).env("HOME", workdir.as_os_str());
    let outcome = run::run(&req).map_err(GradeError::from)?;
    out.write_all(&outcome.stdout)?;
    out.flush()?;
    err.write_all(&outcome.stderr)?;
    let secs = outcome.wall.as_secs_f64();
    let (ended, code) = match outcome.termination {
        Termination::Exited(0) => (format!("exited with status 0 after {secs:.2} s"), 0),
        Termination::Exited(n) => (format!("exited with status {n} after {secs:.2} s"), 1),
        Termination::Signaled(libc::SIGXCPU) => (
            format!(
                "stopped after {:.1} s of CPU time, its limit",
                outcome.cpu.as_secs_f64()
            ),
            1,
        ),
        Termination::Signaled(sig) => (
            format!("killed by {} after {secs:.2} s", signal_name(sig)),
            1,
        ),
        Termination::WallTimeout { blocked: true } => (
            format!(
                "stopped after {secs:.1} s, its limit, with every thread waiting: it never ends (a \
                 deadlock, or a join that waits for a thread that waits)"
            ),
            1,
        ),
        Termination::WallTimeout { blocked: false } => (
            format!("stopped after {secs:.1} s, its limit, still running"),
            1,
        ),
        Termination::OutputLimit => (
            format!(
                "stopped: it printed more than {} bytes, its limit",
                limits.output_bytes
            ),
            1,
        ),
        Termination::MemoryLimit => ("stopped: it ran out of its memory limit".to_string(), 1),
        Termination::TaskLimit => (
            format!(
                "stopped: it started more than {} threads at once",
                limits.tasks
            ),
            1,
        ),
    };
    writeln!(
        err,
        "── {} {ended} (not graded: `grader check {}` grades it)",
        spec.id, spec.id
    )?;
    Ok(code)
}
