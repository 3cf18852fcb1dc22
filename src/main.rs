//! `grader`: compiles a student's concurrency exercise, runs it, and says
//! whether it is right and, when it is not, why.
//!
//! This file only parses the command line, dispatches, and maps the grader's
//! own errors to one line on stderr and exit status 2 (SPEC §3).

mod batch;
mod build_cache;
mod build_limits;
mod checks;
mod cli;
mod commands;
mod compile;
mod compiled;
mod grade;
mod model;
mod nesting;
mod perturb;
mod pool;
mod progress;
mod project;
mod publish;
mod report;
mod reset;
mod run;
mod run_program;
mod sandbox;
mod scaffold;
mod scan;
mod spec;
mod spec_error;
mod spec_expr;
mod submission;
mod symbolize;
mod trace;
mod verify;
mod watch;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // The sandbox's launcher is this binary re-executed: it must start
    // before anything else (no argument parsing, no threads).
    #[cfg(target_os = "linux")]
    if std::env::args_os().nth(1).as_deref() == Some(std::ffi::OsStr::new(sandbox::LAUNCHER_ARG)) {
        sandbox::launcher::main();
    }
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
