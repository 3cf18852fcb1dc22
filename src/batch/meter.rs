//! Progress of a batch: an indicatif bar (counts, throughput, ETA) when
//! stderr is a terminal, one plain line a graded submission otherwise (CI
//! logs, `nohup`, a Slurm output file), so a long batch is never silent and
//! never fills a log with redraws.

use crate::grade::{GradeResult, ResultStatus};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::time::Instant;

pub struct Meter {
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    started: Instant,
}

impl Meter {
    /// `total` submissions to grade; `reused` were found in the store.
    pub fn new(total: usize, reused: usize, jobs: usize) -> Meter {
        let terminal = std::io::stderr().is_terminal();
        let mut err = std::io::stderr().lock();
        if reused > 0 {
            let _ = writeln!(err, "reusing {reused} stored results");
        }
        if total > 0 {
            let _ = writeln!(err, "grading {total} submissions with {jobs} workers");
        }
        drop(err);
        let bar = (terminal && total > 0).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            let plain = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let template = if plain {
                "{bar:30} {pos}/{len} · {rate} · ETA {eta} · {wide_msg}"
            } else {
                "{bar:30.cyan/blue} {pos}/{len} · {rate} · ETA {eta} · {wide_msg}"
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .expect("a valid template")
                    .with_key(
                        "rate",
                        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                            let _ = write!(w, "{:.0}/min", state.per_sec() * 60.0);
                        },
                    )
                    .progress_chars("█▉▊▋▌▍▎▏ "),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(250));
            bar
        });
        Meter {
            bar,
            total,
            done: 0,
            started: Instant::now(),
        }
    }

    /// One more submission graded.
    pub fn graded(&mut self, origin: &str, result: &GradeResult) {
        self.done += 1;
        let verdict = match result.status {
            ResultStatus::Pass => "pass",
            ResultStatus::Fail => "fail",
            ResultStatus::Error => "error",
        };
        let line = format!("{origin}: {verdict} {}/{}", result.score, result.max_score);
        match &self.bar {
            Some(bar) => {
                bar.set_message(line);
                bar.inc(1);
            }
            None => {
                let secs = self.started.elapsed().as_secs_f64().max(0.001);
                let rate = self.done as f64 / secs * 60.0;
                let left = (self.total - self.done) as f64 / (self.done as f64 / secs);
                let width = self.total.to_string().len();
                eprintln!(
                    "[{:>width$}/{}] {rate:.0}/min, ETA {left:.0} s  {line}",
                    self.done, self.total
                );
            }
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
