//! `grader new <id>`: a new exercise in the three places it lives.
//!
//! Writes the starter (`exercises/<id>`), the reference solution
//! (`solutions/<id>`) and the grader folder (`graders/<id>`: a commented
//! spec and, for a library, a unit test and a model scenario), so that
//! `grader verify --exercise <id>` holds at once: the solution passes and
//! the starter builds and fails. The instructor then rewrites all three.

use crate::project::Project;
use crate::spec::Kind;
use std::path::Path;

const BIN_SPEC: &str = include_str!("scaffold/bin_spec.toml");
const BIN_STARTER: &str = include_str!("scaffold/bin_starter.rs");
const BIN_SOLUTION: &str = include_str!("scaffold/bin_solution.rs");
const LIB_SPEC: &str = include_str!("scaffold/lib_spec.toml");
const LIB_STARTER: &str = include_str!("scaffold/lib_starter.rs");
const LIB_SOLUTION: &str = include_str!("scaffold/lib_solution.rs");
const LIB_MAIN: &str = include_str!("scaffold/lib_main.rs");
const LIB_UNIT: &str = include_str!("scaffold/lib_unit.rs");
const LIB_MODEL: &str = include_str!("scaffold/lib_model.rs");

/// Creates the exercise; returns the files written, relative to the root.
pub fn create(project: &Project, id: &str, kind: Kind) -> Result<Vec<String>, String> {
    let valid = id.split_once('-').is_some_and(|(n, rest)| {
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty()
    }) && id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.ends_with('-')
        && !id.contains("--");
    if !valid {
        return Err(format!(
            "`{id}` is not an exercise id: write a number, a dash and a name in lowercase \
             letters, digits and dashes, e.g. `09-thread-pool`"
        ));
    }
    let places = [
        project.graders_dir().join(id),
        project.exercise_dir(id),
        project.solution_dir(id),
    ];
    if let Some(taken) = places.iter().find(|p| p.exists()) {
        return Err(format!(
            "{} already exists; `grader new` never overwrites",
            taken.display()
        ));
    }
    let package = crate::spec::package_name(id);
    let crate_name = package.replace('-', "_");
    let title = package
        .split('-')
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    let fill = |t: &str| {
        t.replace("{id}", id)
            .replace("{title}", &title)
            .replace("{crate_name}", &crate_name)
    };
    let manifest = format!(
        "[package]\nname = \"{package}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n\
         # The grader builds src/ with a manifest of its own and ignores this one.\n\
         [dependencies]\n\n\
         # Keeps this crate on its own, out of any workspace above it.\n[workspace]\n"
    );
    let readme = |what: &str| {
        format!(
            "# {title}\n\n{what}\n\nGrade it with `grader check` in this folder (or `grader check {id}` \
             anywhere in the course).\n"
        )
    };
    let mut files: Vec<(std::path::PathBuf, String)> = Vec::new();
    let g = &places[0];
    for (dir, is_solution) in [(&places[1], false), (&places[2], true)] {
        files.push((dir.join("Cargo.toml"), manifest.clone()));
        files.push((
            dir.join("README.md"),
            readme(if is_solution {
                "The reference solution."
            } else {
                "The lesson part in a few paragraphs, then the task: what to print or \
                 return, and what must run on threads."
            }),
        ));
        match kind {
            Kind::Bin => files.push((
                dir.join("src/main.rs"),
                fill(if is_solution {
                    BIN_SOLUTION
                } else {
                    BIN_STARTER
                }),
            )),
            Kind::LibBin => {
                files.push((
                    dir.join("src/lib.rs"),
                    fill(if is_solution {
                        LIB_SOLUTION
                    } else {
                        LIB_STARTER
                    }),
                ));
                files.push((dir.join("src/main.rs"), fill(LIB_MAIN)));
            }
        }
    }
    match kind {
        Kind::Bin => files.push((g.join("spec.toml"), fill(BIN_SPEC))),
        Kind::LibBin => {
            files.push((g.join("spec.toml"), fill(LIB_SPEC)));
            files.push((g.join("unit/edge_cases.rs"), fill(LIB_UNIT)));
            files.push((g.join("model/two_parts.rs"), fill(LIB_MODEL)));
        }
    }
    for (path, text) in &files {
        write(path, text)?;
    }
    let schema = project.graders_dir().join("spec.schema.json");
    if !schema.exists() {
        write(&schema, &schema_json())?;
        files.push((schema, String::new()));
    }
    Ok(files
        .iter()
        .map(|(p, _)| {
            p.strip_prefix(&project.root)
                .unwrap_or(p)
                .display()
                .to_string()
        })
        .collect())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The JSON Schema of `spec.toml`, as `grader schema` prints it.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(crate::spec::ExerciseSpec);
    serde_json::to_string_pretty(&schema).expect("a schema serializes") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_schema_is_the_one_the_grader_prints() {
        let shipped = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("graders/spec.schema.json"),
        )
        .expect("graders/spec.schema.json exists");
        assert!(
            shipped == schema_json(),
            "graders/spec.schema.json is out of date: run `grader schema > graders/spec.schema.json`"
        );
    }

    #[test]
    fn the_templates_are_valid_specs() {
        for t in [BIN_SPEC, LIB_SPEC] {
            let text = t.replace("{id}", "09-x").replace("{title}", "X");
            crate::spec::ExerciseSpec::parse(&text, Path::new("spec.toml")).expect("valid");
        }
    }
}
