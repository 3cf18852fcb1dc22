//! The JSON result object of SPEC §6.

use crate::grade::GradeResult;
use std::io::{self, Write};

pub fn write(out: &mut impl Write, result: &GradeResult) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, result)?;
    writeln!(out)
}
