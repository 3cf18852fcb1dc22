//! `grader reset <id>`: puts an exercise back as the course handed it out,
//! after asking.
//!
//! The starter comes from the course's git history. Students get the course
//! as a git repository (a clone of the student edition, or a GitHub
//! Classroom copy of it) and often commit their work in it, so `HEAD` is the
//! starter only until their first commit. In a student edition (see
//! [`crate::publish`]) the starter is `exercises/<id>/` as of the
//! repository's first commit: `grader publish` writes the edition as one
//! commit, and a Classroom copy of a template starts from one too. In the
//! instructor's tree it is `exercises/<id>/` as of the newest commit that
//! changed the exercise's grader side (`graders/<id>/` or `solutions/<id>/`):
//! only the course's authors change those, so that commit is theirs and the
//! exercise in it is the starter they shipped. `--from REV` names another.
//!
//! Why not keep a pristine copy in the tree: it would be a second copy of
//! every starter for the authors to keep in step with the first, and one
//! more folder a student could edit by mistake; git already holds exactly
//! what was handed out. Where there is no git repository (a zip download),
//! `reset` says so and touches nothing.
//!
//! Only the starter's own files are restored; a file the student added
//! (say `src/helper.rs`) is kept and named, never deleted.

use crate::progress::Progress;
use crate::project::Project;
use std::ffi::OsStr;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error(
        "cannot restore the starter of {id}: `git` is not installed (reset takes the starter from the \
         course's git history); get exercises/{id} again from your course's repository"
    )]
    NoGit { id: String },
    #[error(
        "cannot restore the starter of {id}: {root} is not a git repository (reset takes the starter \
         from the course's git history); get exercises/{id} again from your course's repository"
    )]
    NotARepository { id: String, root: String },
    #[error(
        "cannot restore the starter of {id}: no commit in this repository's history changed \
         graders/{id} or solutions/{id}; name the commit that holds the starter with --from REV"
    )]
    NoCourseCommit { id: String },
    #[error("cannot restore the starter of {id}: `{rev}` is not a commit of this repository")]
    BadRevision { id: String, rev: String },
    #[error("cannot restore the starter of {id}: commit {rev} has no exercises/{id}")]
    NotInRevision { id: String, rev: String },
    #[error(
        "reset overwrites your work in exercises/{id}, so it asks first; without a terminal to ask \
         on, pass --yes"
    )]
    NeedsConfirmation { id: String },
    #[error("git {args} failed: {message}")]
    Git { args: String, message: String },
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Runs `reset`; the exit status: 0 restored (or nothing to do), 1 the
/// student said no.
pub fn run(
    project: &Project,
    id: &str,
    yes: bool,
    from: Option<&str>,
    out: &mut impl Write,
) -> Result<u8, ResetError> {
    let git = Git {
        root: &project.root,
        id,
    };
    git.check_repository()?;
    let rev = match from {
        Some(r) => r.to_string(),
        None if project.is_edition() => git.first_commit()?,
        None => git.course_commit()?,
    };
    let commit = git
        .output([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ])
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ResetError::BadRevision {
            id: id.into(),
            rev: rev.clone(),
        })?;
    let exercise = format!("exercises/{id}");
    let starter = git.output(["ls-tree", "-r", "--name-only", &commit, "--", &exercise])?;
    if starter.is_empty() {
        return Err(ResetError::NotInRevision {
            id: id.into(),
            rev: short(&commit).into(),
        });
    }
    let described = git.output(["log", "-1", "--format=%h \"%s\"", &commit])?;
    let changed = lines(&git.output([
        "diff",
        "--relative",
        "--name-only",
        &commit,
        "--",
        &exercise,
    ])?);
    let extra = lines(&git.output([
        "ls-files",
        "--others",
        "--exclude-standard",
        "--",
        &exercise,
    ])?);
    let rel = |p: &String| {
        p.strip_prefix(&format!("{exercise}/"))
            .unwrap_or(p)
            .to_string()
    };
    if changed.is_empty() {
        writeln!(
            out,
            "{exercise} is already its starter (commit {described}); nothing to do."
        )?;
        return Ok(0);
    }
    if !yes {
        if !io::stdin().is_terminal() {
            return Err(ResetError::NeedsConfirmation { id: id.into() });
        }
        let mut err = io::stderr().lock();
        writeln!(err, "Reset {exercise} to its starter (commit {described})?")?;
        let files: Vec<String> = changed.iter().map(rel).collect();
        writeln!(
            err,
            "Your changes to these files will be lost: {}",
            files.join(", ")
        )?;
        write!(err, "[y/N] ")?;
        err.flush()?;
        let mut answer = String::new();
        io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            writeln!(out, "Nothing changed.")?;
            return Ok(1);
        }
    }
    git.output([
        "restore",
        &format!("--source={commit}"),
        "--worktree",
        "--",
        &exercise,
    ])?;
    Progress::forget(project, id);
    writeln!(out, "Restored {exercise} from commit {described}.")?;
    if !extra.is_empty() {
        let files: Vec<String> = extra.iter().map(rel).collect();
        writeln!(
            out,
            "Kept what the starter does not have: {}",
            files.join(", ")
        )?;
    }
    Ok(0)
}

struct Git<'a> {
    root: &'a Path,
    id: &'a str,
}

impl Git<'_> {
    fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut c = Command::new("git");
        c.arg("-C").arg(self.root).args(args);
        // The student's pager, editor or locale must not change what we read.
        c.env("GIT_PAGER", "cat")
            .env("LC_ALL", "C")
            .stdin(std::process::Stdio::null());
        c
    }

    /// Stdout of a git command that must succeed, trimmed.
    fn output<const N: usize>(&self, args: [&str; N]) -> Result<String, ResetError> {
        let out = self.command(args).output()?;
        if !out.status.success() {
            return Err(ResetError::Git {
                args: args.join(" "),
                message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn check_repository(&self) -> Result<(), ResetError> {
        match self.command(["rev-parse", "--show-toplevel"]).output() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(ResetError::NoGit { id: self.id.into() })
            }
            Err(e) => Err(e.into()),
            Ok(o) if !o.status.success() => Err(ResetError::NotARepository {
                id: self.id.into(),
                root: self.root.display().to_string(),
            }),
            Ok(_) => Ok(()),
        }
    }

    /// The repository's first commit (the oldest, if merges joined several
    /// histories).
    fn first_commit(&self) -> Result<String, ResetError> {
        let roots = self.output(["rev-list", "--max-parents=0", "HEAD"])?;
        roots
            .lines()
            .last()
            .map(String::from)
            .ok_or(ResetError::NoCourseCommit { id: self.id.into() })
    }

    /// The newest commit that changed the exercise's grader side.
    fn course_commit(&self) -> Result<String, ResetError> {
        let graders = format!("graders/{}", self.id);
        let solutions = format!("solutions/{}", self.id);
        let rev = self.output(["log", "-1", "--format=%H", "--", &graders, &solutions])?;
        if rev.is_empty() {
            return Err(ResetError::NoCourseCommit { id: self.id.into() });
        }
        Ok(rev)
    }
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(7)]
}
