//! The local Cargo registry that loom and the facade are built from, with
//! the network unreachable.
//!
//! `vendor/loom-registry/` holds, for the 39 packages `facade/Cargo.lock`
//! pins, an index entry each (Cargo resolves the whole graph, Windows-only
//! packages too) and the `.crate` file of each of the 26 packages Cargo
//! opens to build on Linux and macOS (24 of them compiled): 3.5 MB, about
//! the same in git (the files are already compressed), and 3.7 MB more in
//! the grader's binary. The 12 packages only Windows builds would add 3.1 MB.
//! `cargo vendor` of the same lock unpacks every platform's sources into
//! 2,077 files and 49 MB (windows-sys alone 19 MB; 7.2 MB in git), and
//! still 1,466 files and 26 MB filtered to these 26 packages. A local registry of `.crate` files is also what exercism's Rust
//! runner bakes into its image. `vendor/refresh-loom-registry` rewrites the
//! folder after the lock changes.
//!
//! The build script embeds every file of it in the grader (see `build.rs`),
//! so an installed grader carries the sources it needs: no source tree, no
//! network. [`write`] lays them out for one build and [`cargo_args`] points
//! Cargo at them. On Windows, whose packages are not in it, Cargo uses the
//! network registry as before.

use std::path::Path;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/loom_registry.rs"));
}

/// Writes the registry into `dir` (which must not hold another).
pub fn write(dir: &Path) -> std::io::Result<()> {
    for (rel, bytes) in embedded::FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
    }
    Ok(())
}

/// How many packages the registry holds the sources of: the crates a cold
/// build compiles besides the facade.
pub fn crates() -> usize {
    embedded::FILES
        .iter()
        .filter(|(rel, _)| rel.ends_with(".crate"))
        .count()
}

/// Whether the registry holds every package this platform builds.
pub const OFFLINE: bool = !cfg!(windows);

/// Cargo's arguments to build from the registry in `dir`, offline.
pub fn cargo_args(dir: &Path) -> Vec<String> {
    if !OFFLINE {
        return Vec::new();
    }
    let path = toml::Value::String(dir.display().to_string());
    vec![
        "--offline".into(),
        "--config".into(),
        "source.crates-io.replace-with = \"grader-loom\"".into(),
        "--config".into(),
        format!("source.grader-loom.local-registry = {path}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every package of the lock file has its index entry, with the lock's
    /// checksum: a lock changed without `vendor/refresh-loom-registry`
    /// fails here rather than in a student's first model check.
    #[test]
    fn the_registry_indexes_every_locked_package_with_its_checksum() {
        let lock: toml::Value = toml::from_str(super::super::workspace::LOCKFILE).unwrap();
        let packages = lock["package"].as_array().unwrap();
        let mut checked = 0;
        for p in packages.iter().filter(|p| p.get("source").is_some()) {
            let name = p["name"].as_str().unwrap();
            let version = p["version"].as_str().unwrap();
            let checksum = p["checksum"].as_str().unwrap();
            let rel = match name.len() {
                1 | 2 => format!("index/{}/{name}", name.len()),
                3 => format!("index/3/{}/{name}", &name[..1]),
                _ => format!("index/{}/{}/{name}", &name[..2], &name[2..4]),
            };
            let (_, entry) = embedded::FILES
                .iter()
                .find(|(r, _)| *r == rel)
                .unwrap_or_else(|| panic!("no index entry for {name} ({rel})"));
            let lines = std::str::from_utf8(entry).unwrap();
            let line = lines
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .find(|v| v["vers"] == version)
                .unwrap_or_else(|| panic!("{rel} lacks version {version}"));
            assert_eq!(line["cksum"], checksum, "{name} {version}");
            checked += 1;
        }
        assert!(checked > 30, "only {checked} packages in the lock");
        assert!(crates() >= 20, "only {} .crate files", crates());
        assert!(
            embedded::FILES
                .iter()
                .any(|(r, _)| *r == "loom-0.7.3.crate"),
            "loom's sources are missing"
        );
    }

    #[test]
    fn the_registry_path_is_quoted_for_cargo() {
        let args = cargo_args(Path::new("/a \"b\"/c"));
        if OFFLINE {
            assert_eq!(args[0], "--offline");
            let value: toml::Value = toml::from_str(&args[4]).unwrap();
            assert_eq!(
                value["source"]["grader-loom"]["local-registry"].as_str(),
                Some("/a \"b\"/c")
            );
        }
    }
}
