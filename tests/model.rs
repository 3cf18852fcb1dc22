//! The loom stage end to end: the shipped racy counter fails with a
//! numbered interleaving, the reference solution passes, and ordinary std
//! code that the model cannot check is refused rather than passed.

mod common;

use common::{Course, check_json, repo};

#[track_caller]
fn check(v: &serde_json::Value, name: &str) -> serde_json::Value {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {v:#}"))
        .clone()
}

#[test]
fn the_racy_counter_starter_fails_with_the_interleaving_and_the_solution_passes() {
    let c = Course::new();
    c.repo_spec("05-shared-counter");
    let model = repo().join("graders/05-shared-counter/model");
    let unit = repo().join("graders/05-shared-counter/unit");
    for (from, to) in [(model, "model"), (unit, "unit")] {
        let dest = c.root().join("graders/05-shared-counter").join(to);
        std::fs::create_dir_all(&dest).unwrap();
        for f in std::fs::read_dir(from).unwrap().flatten() {
            std::fs::copy(f.path(), dest.join(f.file_name())).unwrap();
        }
    }

    let (code, v) = check_json(
        &c,
        "05-shared-counter",
        &repo().join("exercises/05-shared-counter"),
    );
    assert_eq!(code, 1, "{v:#}");
    assert!(
        v["categories"]
            .as_array()
            .unwrap()
            .contains(&"data-race".into()),
        "{v:#}"
    );
    let race = check(&v, "two-threads");
    let msg = race["message"].as_str().unwrap();
    assert!(msg.contains("thread 1 read"), "{msg}");
    assert!(msg.contains("thread 2 read"), "{msg}");
    assert!(msg.contains("lost"), "{msg}");
    let details = race["details"].as_str().unwrap();
    assert!(
        details.contains(" 1. "),
        "numbered steps expected:\n{details}"
    );
    assert!(
        !details.contains("loom"),
        "a raw loom message leaked:\n{details}"
    );

    let (code, v) = check_json(
        &c,
        "05-shared-counter",
        &repo().join("solutions/05-shared-counter"),
    );
    assert_eq!(code, 0, "{v:#}");
    assert!(
        check(&v, "two-threads")["message"]
            .as_str()
            .unwrap()
            .contains("interleaving"),
        "{v:#}"
    );
}
