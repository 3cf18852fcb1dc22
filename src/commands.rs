//! One function a verb: what each command does with the pipeline and the
//! reporters, and its exit status (SPEC §3).

use crate::batch;
use crate::cli::{Cli, Command, Format};
use crate::grade::{GradeError, GradeResult, Grader, ResultStatus};
use crate::progress::{self, Progress};
use crate::project::{Project, ProjectError};
use crate::report::{self, Style};
use crate::reset;
use crate::sandbox;
use crate::verify;
use crate::watch;
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
    // Each verb's own errors, worded where they are raised.
    #[error(transparent)]
    Batch(#[from] batch::Error),
    #[error(transparent)]
    Publish(#[from] crate::publish::Error),
    #[error(transparent)]
    Run(#[from] crate::run_program::Error),
    #[error(transparent)]
    Verify(#[from] verify::Error),
    #[error(transparent)]
    Watch(#[from] watch::Error),
}

impl Error {
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Io(e) => e.kind() == io::ErrorKind::BrokenPipe,
            Error::Batch(e) => e.is_broken_pipe(),
            Error::Publish(e) => e.is_broken_pipe(),
            Error::Run(e) => e.is_broken_pipe(),
            Error::Verify(e) => e.is_broken_pipe(),
            Error::Watch(e) => e.is_broken_pipe(),
            Error::Project(_) | Error::Grade(_) | Error::Other(_) => false,
        }
    }
}

pub fn dispatch(cli: Cli) -> Result<u8, Error> {
    let style = Style {
        color: cli.color.enabled(),
    };
    let stdout = io::stdout();
    let mut out = stdout.lock();
    // Verbs about the machine, not the course: no course tree needed.
    match cli.command {
        Command::Doctor { require, runs } => {
            let require = sandbox::doctor::parse_layers(require.as_deref().unwrap_or(""))
                .map_err(Error::Other)?;
            let diagnosis = sandbox::doctor::diagnose(runs);
            return Ok(sandbox::doctor::print(&mut out, &diagnosis, &require)?);
        }
        Command::SandboxRun(args) => return Ok(sandbox::doctor::run_one(&mut out, &args)?),
        Command::Schema => {
            out.write_all(crate::scaffold::schema_json().as_bytes())?;
            return Ok(0);
        }
        _ => {}
    }
    let project = Project::locate(cli.root.as_deref())?;
    match cli.command {
        Command::List => {
            report::list::write(&mut out, &progress::overview(&project)?, style)?;
            Ok(0)
        }
        Command::Watch { id } => {
            drop(out);
            let id = match id {
                Some(given) => Some(project.resolve(Some(&given), "watch")?),
                None => project.resolve(None, "watch").ok(),
            };
            Ok(watch::run(&project, id.as_deref(), style)?)
        }
        Command::Reset { id, yes, from } => {
            let id = project.resolve(id.as_deref(), "reset")?;
            reset::run(&project, &id, yes, from.as_deref(), &mut out).map_err(|e| match e {
                reset::ResetError::Io(e) => Error::Io(e),
                e => Error::Other(e.to_string()),
            })
        }
        Command::Hint { id } => {
            let spec = project.spec(&project.resolve(id.as_deref(), "hint")?)?;
            writeln!(out, "{} — {}\n", style.bold(&spec.id), spec.title)?;
            writeln!(out, "{}", spec.hint.trim_end())?;
            Ok(0)
        }
        Command::Check { id, path, format } => {
            let id = project.resolve(id.as_deref(), "check")?;
            let spec = project.spec(&id)?;
            let dir = path.unwrap_or_else(|| project.exercise_dir(&id));
            if !dir.exists() {
                return Err(Error::Other(format!("{} does not exist", dir.display())));
            }
            // An upload of the whole repository, or a folder wrapping it.
            let dir = batch::handin::crate_of(&dir, &id);
            let grader = Grader::new(project.clone())?;
            grader.prebuild_model(std::slice::from_ref(&spec))?;
            let result = match (grader.grade(&spec, &dir), format) {
                (Ok(r), _) => r,
                // CI and Gradescope expect their document even when the
                // grader fails; it says so, and the exit status is still 2.
                (Err(e), Format::Junit | Format::Github | Format::Gradescope) => {
                    GradeResult::error(&spec.id, e.to_string())
                }
                (Err(e), _) => return Err(e.into()),
            };
            if dir == project.exercise_dir(&id) && result.status != ResultStatus::Error {
                // Remember how the student's own copy did, for `list`.
                Progress::record(&project, &result, &dir);
            }
            match format {
                Format::Human => {
                    // The course's specs, to point at the README teaching
                    // a lesson part; a spec that does not load is left out.
                    let course: Vec<_> = project
                        .exercise_ids()?
                        .iter()
                        .filter_map(|id| project.spec(id).ok())
                        .collect();
                    let page = report::human::Page {
                        spec: &spec,
                        submission: &dir,
                        course: &course,
                    };
                    report::human::write(&mut out, &page, &result, style)?
                }
                Format::Json => report::json::write(&mut out, &result)?,
                Format::Junit => report::junit::write_check(&mut out, &result)?,
                Format::Github => {
                    let root = report::github::repo_root(&dir, &project.root);
                    report::github::annotate(&mut out, &result, &dir, &root)?;
                    report::github::points(&mut out, result.score, spec.max_score())?
                }
                Format::Gradescope => {
                    let entry = report::gradescope::Entry {
                        spec: &spec,
                        result: Some(&result),
                    };
                    report::gradescope::write(&mut out, &[entry], &[])?
                }
            }
            Ok(match result.status {
                ResultStatus::Pass => 0,
                ResultStatus::Fail => 1,
                ResultStatus::Error => 2,
            })
        }
        Command::Run { id } => {
            let id = project.resolve(id.as_deref(), "run")?;
            let grader = Grader::new(project.clone())?;
            Ok(crate::run_program::run(
                &grader,
                &project.spec(&id)?,
                &mut out,
            )?)
        }
        Command::Publish { out: dir } => Ok(crate::publish::run(&project, &dir, &mut out)?),
        Command::Verify {
            exercises,
            jobs,
            repeat,
        } => {
            crate::publish::instructor_only(&project, "verify")?;
            let grader = Grader::new(project.clone())?;
            grader.prebuild_model(&course_specs(&project)?)?;
            let ok = verify::run(&grader, &exercises, jobs, repeat, &mut out, style)?;
            Ok(if ok { 0 } else { 1 })
        }
        Command::Batch {
            dir,
            jobs,
            out: out_dir,
            exercises,
            shard,
            regrade,
            roster,
            gradebook,
        } => {
            let grader = Grader::new(project.clone())?;
            grader.prebuild_model(&course_specs(&project)?)?;
            let opts = batch::Options {
                class_dir: dir,
                out: out_dir,
                jobs,
                exercises,
                shard,
                regrade,
                gradebook: batch::gradebooks(roster.as_deref(), gradebook).map_err(Error::Other)?,
            };
            Ok(batch::run(&grader, &opts, &mut out)?)
        }
        Command::Handin {
            dir,
            exercises,
            format,
            jobs,
        } => {
            let grader = Grader::new(project.clone())?;
            let opts = batch::handin::Options {
                dir,
                exercises,
                format,
                jobs,
            };
            Ok(batch::handin::run(&grader, &opts, &mut out, style)?)
        }
        Command::Merge {
            inputs,
            out: out_dir,
        } => Ok(batch::merge::run(&project, &inputs, &out_dir, &mut out)?),
        Command::Pack { out: file } => Ok(batch::pack::run(&project, file, &mut out)?),
        Command::New { id, kind } => {
            crate::publish::instructor_only(&project, "new")?;
            let kind = match kind {
                crate::cli::NewKind::Bin => crate::spec::Kind::Bin,
                crate::cli::NewKind::LibBin => crate::spec::Kind::LibBin,
            };
            let files = crate::scaffold::create(&project, &id, kind).map_err(Error::Other)?;
            for f in &files {
                writeln!(out, "{} {f}", style.green("created"))?;
            }
            writeln!(
                out,
                "\nnext: `grader verify --exercise {id}` (the solution passes, the starter fails), \
                 then make the three your own"
            )?;
            Ok(0)
        }
        Command::Doctor { .. } | Command::SandboxRun(_) | Command::Schema => {
            unreachable!("handled above")
        }
    }
}

/// Every exercise's spec that loads.
fn course_specs(project: &Project) -> Result<Vec<crate::spec::ExerciseSpec>, Error> {
    Ok(project
        .exercise_ids()?
        .iter()
        .filter_map(|id| project.spec(id).ok())
        .collect())
}
