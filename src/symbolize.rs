//! Source lines for code addresses: which line of the student's program a
//! logged sleep came from, so a `sleep-reliance` message can say "the sleep
//! at src/main.rs:9".
//!
//! The shim logs, for each sleep, the return addresses of its caller and the
//! callers above it. In a Rust program the first is inside `std`'s
//! `thread::sleep`, and the student's call is the next frame (or further
//! up, for a sleep inside a helper or a closure). The grader compiles
//! submissions with line tables (`-C debuginfo=1`), so GNU `addr2line`
//! maps each address, less the load base the shim logged, to `file:line`.
//!
//! Looking up an address inside the precompiled `std` costs about 0.3 s
//! (measured: `addr2line` parses `std`'s large units), against 20 ms for
//! the student's own code, so [`sleep_site`] asks for the frames above the
//! sleep function's caller first and for that caller only when none of them
//! is the student's. Without `addr2line` (binutils) the lookup fails with
//! `NotFound` and the message simply carries no line.

use crate::trace::{InitInfo, SleepEvent};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where a code address comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    /// Demangled function name, without the hash (`a::main`).
    pub function: String,
    pub file: PathBuf,
    pub line: u32,
}

impl std::fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// Looks up return addresses logged by the shim in the executable's debug
/// info. `base` is the load base from the shim's `init` line. Each address
/// is looked up as `address - 1`, inside the call instruction, because a
/// return address can already belong to the next line. An address without
/// line information gives `None`.
pub fn symbolize(
    exe: &Path,
    base: u64,
    addresses: &[u64],
) -> io::Result<Vec<Option<SourceLocation>>> {
    if addresses.is_empty() {
        return Ok(Vec::new());
    }
    let mut command = Command::new("addr2line");
    command
        .arg("-e")
        .arg(exe)
        .args(["-a", "-f", "-C"])
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .stdout(Stdio::piped());
    for &address in addresses {
        command.arg(format!("{:#x}", address.wrapping_sub(base).wrapping_sub(1)));
    }
    let output = command.output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "addr2line failed on {}: {}",
            exe.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(parse_output(
        &String::from_utf8_lossy(&output.stdout),
        addresses.len(),
    ))
}

/// Reads `addr2line -a -f` output: per address a line `0x…`, then a
/// function name and a `file:line` (more pairs with `-i`, of which the
/// first, the innermost, is taken).
fn parse_output(text: &str, count: usize) -> Vec<Option<SourceLocation>> {
    let mut found = Vec::with_capacity(count);
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("0x") {
            continue;
        }
        let function = lines.next_if(|l| !l.starts_with("0x"));
        let location = lines.next_if(|l| !l.starts_with("0x"));
        found.push(function.zip(location).and_then(|(f, l)| location_of(f, l)));
    }
    found.resize(count, None);
    found
}

fn location_of(function: &str, location: &str) -> Option<SourceLocation> {
    // "file:line" or "file:line (discriminator 2)"; "??:0" or "file:?" when unknown.
    let location = location.split(" (").next()?;
    let (file, line) = location.rsplit_once(':')?;
    let line: u32 = line.parse().ok()?;
    if file == "??" || line == 0 {
        return None;
    }
    Some(SourceLocation {
        function: function.to_owned(),
        file: PathBuf::from(file),
        line,
    })
}

/// The line of the student's program that called the sleep: the innermost
/// logged frame whose file `is_student` accepts (typically "under the
/// submission's `src/`"). `None` when no frame is the student's or the
/// executable has no line tables.
pub fn sleep_site(
    init: &InitInfo,
    sleep: &SleepEvent,
    is_student: impl Fn(&Path) -> bool,
) -> io::Result<Option<SourceLocation>> {
    let frames = &sleep.return_addresses;
    let Some((&caller, above)) = frames.split_first() else {
        return Ok(None);
    };
    let pick = |found: Vec<Option<SourceLocation>>| {
        found
            .into_iter()
            .flatten()
            .find(|location| is_student(&location.file))
    };
    if let Some(location) = pick(symbolize(&init.exe, init.base, above)?) {
        return Ok(Some(location));
    }
    Ok(pick(symbolize(&init.exe, init.base, &[caller])?))
}

/// Whether a source file is part of the Rust toolchain's own libraries
/// (`std`, `core`, `alloc`), whose paths are remapped to `/rustc/<hash>/`.
pub fn is_toolchain_source(file: &Path) -> bool {
    file.starts_with("/rustc") || file.components().any(|c| c.as_os_str() == "rustlib")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addr2line_output() {
        let text = "\
0x0000000000042de6
std::sys::thread::unix::sleep::nanosleep
/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/sys/thread/unix.rs:553
0x0000000000017aa5
a::main
/tmp/shim/progs/a.rs:9
0x0000000000000000
??
??:0
0x0000000000017ab0
a::main
/tmp/shim/progs/a.rs:12 (discriminator 1)
";
        let found = parse_output(text, 5);
        assert_eq!(found.len(), 5);
        assert!(is_toolchain_source(&found[0].as_ref().unwrap().file));
        let main = found[1].as_ref().unwrap();
        assert_eq!(main.function, "a::main");
        assert_eq!(main.to_string(), "/tmp/shim/progs/a.rs:9");
        assert!(!is_toolchain_source(&main.file));
        assert_eq!(found[2], None);
        assert_eq!(found[3].as_ref().unwrap().line, 12);
        assert_eq!(found[4], None);
    }

    #[test]
    fn inlined_frames_take_the_innermost() {
        let text = "0x10\ninner\n/s/a.rs:3\nouter\n/s/a.rs:9\n0x20\n??\n??:?\n";
        let found = parse_output(text, 2);
        assert_eq!(found[0].as_ref().unwrap().line, 3);
        assert_eq!(found[1], None);
    }

    #[test]
    fn no_frames_no_site() {
        let init = InitInfo {
            pid: 1,
            ppid: 0,
            exe: PathBuf::from("/nonexistent"),
            base: 0,
            refused: Vec::new(),
            virtual_time: false,
            start: None,
        };
        let sleep = SleepEvent {
            thread: Some(0),
            function: "nanosleep".into(),
            absolute: false,
            requested_ns: 1,
            effective_ns: 1,
            at: Default::default(),
            return_addresses: Vec::new(),
        };
        assert_eq!(sleep_site(&init, &sleep, |_| true).unwrap(), None);
        assert!(
            symbolize(Path::new("/nonexistent"), 0, &[])
                .unwrap()
                .is_empty()
        );
    }
}
