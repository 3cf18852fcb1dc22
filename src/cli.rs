//! The verbs and their flags (SPEC §3).

use crate::report::ColorChoice;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "grader",
    version,
    about = "Grades Rust concurrency exercises: output, reliance on sleep, and shared data under every interleaving",
    propagate_version = true
)]
pub struct Cli {
    /// The course tree (default: the nearest folder holding `graders/`, from
    /// the current directory upwards).
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// When to colour the output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every exercise, its lesson part, and its status in `exercises/`.
    List,
    /// Grades one exercise (default: `exercises/<ID>`).
    Check {
        /// The exercise: its id, its number (`02`) or any part of its name
        /// (`hello`); default: the one whose folder you are in.
        id: Option<String>,
        /// Grade this folder instead of `exercises/<ID>`.
        #[arg(long, value_name = "DIR")]
        path: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Prints the exercise's hint.
    Hint {
        /// The exercise (default: the one whose folder you are in).
        id: Option<String>,
    },
    /// Builds your program and runs it, without grading it: what it prints,
    /// and how it ended. It runs in the sandbox, under the exercise's limits.
    Run {
        /// The exercise (default: the one whose folder you are in).
        id: Option<String>,
    },
    /// Grades the exercise you are working on whenever you save one of its
    /// files; `n` moves on once it passes, `h` hint, `l` list, `r` grade
    /// again, `q` quit.
    Watch {
        /// Start at this exercise (default: the one whose folder you are
        /// in, else the first one not done).
        id: Option<String>,
    },
    /// Restores an exercise's starter code from the course's git history
    /// (asks first). Files you added are kept.
    Reset {
        /// The exercise (default: the one whose folder you are in).
        id: Option<String>,
        /// Do not ask (needed without a terminal).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Take the starter from this commit (default: in a student
        /// edition, its first commit; in the instructor's tree, the newest
        /// commit that changed `graders/<ID>` or `solutions/<ID>`).
        #[arg(long, value_name = "REV")]
        from: Option<String>,
    },
    /// Proves the course: every solution passes, every starter fails, every
    /// fixture under `graders/<id>/wrong/` fails with its labelled category,
    /// every variant under `graders/<id>/variants/` passes.
    Verify {
        /// Only these exercises (default: all).
        #[arg(long = "exercise", value_name = "ID")]
        exercises: Vec<String>,
        /// Parallel gradings (default: the number of cores).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Grade every target N times (one build, N rounds of checks): a
        /// claim holds only if every round gives the same score and
        /// categories.
        #[arg(long, value_name = "N", default_value_t = 1)]
        repeat: usize,
    },
    /// Grades a whole class: DIR holds `<student>/<id>/`,
    /// `<student>/exercises/<id>/` or `<student>.zip`/`.tar.gz`; writes
    /// results.json, grades.csv, junit.xml, report.html and feedback/ into
    /// OUT. Results are stored as they come: a re-run grades only what is
    /// missing or changed.
    Batch {
        /// The class folder.
        dir: PathBuf,
        /// Parallel gradings (default: the number of cores).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// Where the reports go.
        #[arg(long, value_name = "OUT", default_value = "grader-report")]
        out: PathBuf,
        /// Only these exercises (default: all).
        #[arg(long = "exercise", value_name = "ID")]
        exercises: Vec<String>,
        /// Grade only slice K of N of the class (by student), for one
        /// machine of many; combine the outputs with `grader merge`.
        #[arg(long, value_name = "K/N")]
        shard: Option<crate::batch::shard::Shard>,
        /// Grade everything again, ignoring stored results.
        #[arg(long)]
        regrade: bool,
        /// A CSV mapping submission folders to LMS identities: a `folder`
        /// column and identity columns (Canvas: `Student`, `ID`, `SIS User
        /// ID`, `SIS Login ID`, `Section`; Moodle: `email`, `idnumber`,
        /// `username`), added to grades.csv.
        #[arg(long, value_name = "FILE")]
        roster: Option<PathBuf>,
        /// Also write gradebook.csv in the layout this LMS imports (needs
        /// --roster).
        #[arg(long, value_enum, requires = "roster")]
        gradebook: Option<crate::report::csv::Gradebook>,
    },
    /// Grades one student's whole hand-in in one call (a Gradescope upload,
    /// a GitHub Classroom repository): every exercise found in DIR (a clone
    /// of the course, a folder per exercise, an archive, or one crate with
    /// one `--exercise`); an expected exercise not found scores 0.
    Handin {
        /// The hand-in: a folder or a .zip/.tar.gz.
        dir: PathBuf,
        /// The exercises expected (default: every exercise of the course).
        #[arg(long = "exercise", value_name = "ID")]
        exercises: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Parallel gradings (default: the number of cores).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
    },
    /// Combines the outputs of `batch --shard` runs into the reports one
    /// run over the whole class writes.
    Merge {
        /// Output folders (or their results.json) of the shards.
        #[arg(required = true, value_name = "OUT")]
        inputs: Vec<PathBuf>,
        /// Where the merged reports go.
        #[arg(long, value_name = "OUT")]
        out: PathBuf,
    },
    /// Bundles your `exercises/` sources (nothing else) into one archive to
    /// hand in.
    Pack {
        /// The archive: .tar.gz, .tgz or .zip (default:
        /// submission.tar.gz in the course folder).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Writes the student edition of the course into OUT, a new git
    /// repository of one commit: the exercises, what grading needs of
    /// `graders/`, the grader's sources and a student README; no solutions
    /// and no known-wrong fixtures.
    Publish {
        /// A folder that does not exist yet (or is empty).
        out: PathBuf,
    },
    /// Scaffolds a new exercise: its starter, its reference solution and
    /// its grader folder (a commented spec; for a library, a unit test and
    /// a model scenario), ready for `grader verify --exercise <ID>`.
    New {
        /// The new exercise's id, e.g. `09-thread-pool`.
        id: String,
        /// A program (`bin`) or a library with a program (`lib+bin`).
        #[arg(long, value_enum, default_value_t = NewKind::Bin)]
        kind: NewKind,
    },
    /// Prints the JSON Schema of `graders/<id>/spec.toml`, for editors
    /// (Taplo, Even Better TOML) to complete and check specs.
    Schema,
    /// Which sandbox layers this machine gives, why not the others, and
    /// what the sandbox costs a run.
    Doctor {
        /// Exit with status 1 unless these layers hold, e.g. `0,1` in CI.
        #[arg(long, value_name = "LAYERS")]
        require: Option<String>,
        /// Runs of a trivial program timed with and without the sandbox.
        #[arg(long, value_name = "N", default_value_t = 20)]
        runs: usize,
    },
    /// Runs one program in the sandbox and prints what happened as JSON
    /// (for testing the sandbox itself).
    #[command(name = "__run", hide = true)]
    SandboxRun(crate::sandbox::doctor::RunArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// JUnit XML, for CI test reports.
    Junit,
    /// GitHub Actions annotations on the failing lines.
    Github,
    /// Gradescope's results.json.
    Gradescope,
}

/// The kinds `grader new` scaffolds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NewKind {
    Bin,
    #[value(name = "lib+bin")]
    LibBin,
}
