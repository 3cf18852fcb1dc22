//! One function a verb: what each command does with the pipeline and the
//! reporters, and its exit status (SPEC §3).

use crate::cli::{Cli, Command, Format};
use crate::grade::{GradeError, Grader, ResultStatus};
use crate::progress::Progress;
use crate::project::{Project, ProjectError};
use crate::report::{self, Style};
use crate::verify;
use std::io::{self, Write};

/// A fault of the grader itself: one line on stderr, exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Grade(#[from] GradeError),
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

pub fn dispatch(cli: Cli) -> Result<u8, Error> {
    let style = Style {
        color: cli.color.enabled(),
    };
    let project = Project::locate(cli.root.as_deref())?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Command::List => list(&project, &mut out, style),
        Command::Hint { id } => {
            let spec = project.spec(&id)?;
            writeln!(out, "{} — {}\n", style.bold(&spec.id), spec.title)?;
            writeln!(out, "{}", spec.hint.trim_end())?;
            Ok(0)
        }
        Command::Check { id, path, format } => {
            let spec = project.spec(&id)?;
            let dir = path.unwrap_or_else(|| project.exercise_dir(&id));
            if !dir.exists() {
                return Err(Error::Other(format!("{} does not exist", dir.display())));
            }
            let grader = Grader::new(project.clone())?;
            let result = grader.grade(&spec, &dir)?;
            if dir == project.exercise_dir(&id) {
                // Remember how the student's own copy did, for `list`.
                Progress::record(&project, &result, &dir);
            }
            match format {
                Format::Human => report::human::write(&mut out, &spec, &result, style)?,
                Format::Json => report::json::write(&mut out, &result)?,
            }
            Ok(match result.status {
                ResultStatus::Pass => 0,
                ResultStatus::Fail => 1,
                ResultStatus::Error => 2,
            })
        }
        Command::Verify { exercises, jobs } => {
            let grader = Grader::new(project.clone())?;
            let ok = verify::run(&grader, &exercises, jobs, &mut out, style)?;
            Ok(if ok { 0 } else { 1 })
        }
    }
}

fn list(project: &Project, out: &mut impl Write, style: Style) -> Result<u8, Error> {
    let progress = Progress::load(project);
    let ids = project.exercise_ids()?;
    let specs: Vec<_> = ids
        .iter()
        .map(|id| project.spec(id))
        .collect::<Result<_, _>>()?;
    let id_width = ids.iter().map(|i| i.len()).max().unwrap_or(0);
    let mut done = 0;
    let mut rows = Vec::new();
    for spec in &specs {
        let dir = project.exercise_dir(&spec.id);
        let status = progress.status(&spec.id, &dir);
        if status.is_done() {
            done += 1;
        }
        rows.push((spec, status));
    }
    writeln!(out, "{:<id_width$}  {:<14}  lesson part", "exercise", "status")?;
    for (spec, status) in rows {
        let label = status.label();
        let painted = match status.is_done() {
            true => style.green(&format!("{label:<14}")),
            false if label.starts_with("failing") => style.red(&format!("{label:<14}")),
            false => style.yellow(&format!("{label:<14}")),
        };
        writeln!(out, "{:<id_width$}  {painted}  {}", spec.id, spec.lesson)?;
    }
    writeln!(out, "\n{done}/{} exercises done", specs.len())?;
    Ok(0)
}
