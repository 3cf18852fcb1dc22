use std::io::{self, Write};

/// Returns a result, like real work would.
fn run_task(out: &mut impl Write, id: u32) -> io::Result<u64> {
    writeln!(out, "Task {id} started")?;
    Ok((1..=1_000u64).sum())
}

fn main() -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let result = run_task(&mut out, 1)?;
    assert_eq!(result, 500_500);
    writeln!(out, "Task 1 finished")?;
    out.flush()
}
