//! Helpers for the integration tests: a course tree in a temp folder, real
//! submissions written into it, and the real `grader` binary run on them.
#![allow(dead_code)]

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The repository's own course tree.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A course tree in a temp folder.
pub struct Course {
    pub dir: tempfile::TempDir,
}

impl Course {
    pub fn new() -> Course {
        let dir = tempfile::Builder::new()
            .prefix("grader-test-")
            .tempdir()
            .unwrap();
        // Each course has its own cache (progress, scratch), but the model
        // checker's prebuilt loom is shared: building it takes half a minute.
        let shared = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("grader-model-cache");
        std::fs::create_dir_all(&shared).unwrap();
        std::fs::create_dir_all(dir.path().join("cache")).unwrap();
        std::os::unix::fs::symlink(&shared, dir.path().join("cache/model")).unwrap();
        Course { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `graders/<id>/spec.toml`.
    pub fn spec(&self, id: &str, toml: &str) -> &Course {
        let d = self.root().join("graders").join(id);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("spec.toml"), toml).unwrap();
        self
    }

    /// Copies the repository's `graders/<id>/spec.toml` (only the spec).
    pub fn repo_spec(&self, id: &str) -> &Course {
        let text =
            std::fs::read_to_string(repo().join("graders").join(id).join("spec.toml")).unwrap();
        self.spec(id, &text)
    }

    /// Writes a submission: `rel` (e.g. `subs/x`) with `files` under it.
    pub fn submission(&self, rel: &str, files: &[(&str, &str)]) -> PathBuf {
        let d = self.root().join(rel);
        for (name, text) in files {
            let p = d.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        d
    }

    /// A bin submission with this `main.rs`.
    pub fn main(&self, rel: &str, main_rs: &str) -> PathBuf {
        self.submission(rel, &[("src/main.rs", main_rs)])
    }

    /// `grader --root <tree> <args>`, with its own cache inside the tree.
    pub fn grader(&self) -> Command {
        let mut c = grader();
        c.arg("--root").arg(self.root());
        c.env("GRADER_CACHE_DIR", self.root().join("cache"));
        c
    }
}

/// The real binary.
pub fn grader() -> Command {
    let mut c = assert_cmd::cargo::cargo_bin_cmd!("grader");
    c.env_remove("NO_COLOR");
    c
}

/// A minimal bin spec whose output must be exactly `lines`.
pub fn lines_spec(lines: &[&str], wall_ms: u64) -> String {
    let quoted: Vec<String> = lines.iter().map(|l| format!("{l:?}")).collect();
    format!(
        r#"format_version = 1
title = "test"
lesson = "a lesson part"
kind = "bin"
hint = "a hint"
[limits]
wall_ms = {wall_ms}
cpu_ms = {wall_ms}
output_bytes = 65536
[[check]]
kind = "output"
name = "output"
points = 10
rules = [{{ rule = "lines", lines = [{}] }}]
"#,
        quoted.join(", ")
    )
}

/// Runs `grader check --format json` and returns the result object.
#[track_caller]
pub fn check_json(course: &Course, id: &str, path: &Path) -> (i32, serde_json::Value) {
    let out = course
        .grader()
        .args(["check", id, "--format", "json", "--path"])
        .arg(path)
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    let text = String::from_utf8_lossy(&out.stdout);
    let value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}); exit {code}\nstdout:\n{text}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, value)
}
