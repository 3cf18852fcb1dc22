//! `grader`: compiles a student's concurrency exercise, runs it, and says
//! whether it is right and, when it is not, why.
//!
//! This file only parses the command line, dispatches, and maps the grader's
//! own errors to one line on stderr and exit status 2 (SPEC §3).

mod checks;
mod cli;
mod commands;
mod compile;
mod grade;
mod progress;
mod project;
mod report;
mod run;
mod scan;
mod spec;
mod submission;
mod verify;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
