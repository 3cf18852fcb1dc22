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
        /// The exercise id, e.g. `02-hello-thread`.
        id: String,
        /// Grade this folder instead of `exercises/<ID>`.
        #[arg(long, value_name = "DIR")]
        path: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Prints the exercise's hint.
    Hint {
        /// The exercise id.
        id: String,
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
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}
