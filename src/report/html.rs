//! `report.html`: the class at a glance, for the instructor.
//!
//! One self-contained page: inline CSS, no script, no font, no image, and a
//! Content-Security-Policy that forbids loading anything, so it opens the
//! same from a laptop, an LMS attachment or a CI artefact with no network.
//! Every number is computed here and written into the page as text, so what
//! the page shows is what a text search (or a test reading the DOM) finds.
//!
//! It shows: the totals of the run; the distribution of the students' total
//! scores; per exercise, how many passed and how often each failure category
//! occurred ("38% of the class relied on sleep in 02-hello-thread"), the view
//! that says what to teach again, each figure with its denominator ("2 of
//! 3 students who handed in 05-shared-counter"); who needs help; every
//! student's scores, each row linking to that student's feedback further
//! down the page; the skip list. Students who handed in nothing are
//! counted apart, never as a score of 0.

use super::html_students::{self, esc};
use crate::batch::ClassResults;
use crate::checks::Category;
use crate::grade::ResultStatus;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Integer percentage, rounded half up; 0 of 0 is 0.
pub fn percent(part: usize, whole: usize) -> usize {
    if whole == 0 {
        0
    } else {
        (part * 200 + whole) / (2 * whole)
    }
}

/// What a category says about a submission, as a verb phrase.
pub fn phrase(c: Category) -> &'static str {
    match c {
        Category::CompileError => "did not compile",
        Category::Forbidden => "used something the exercise forbids",
        Category::WrongAnswer => "gave a wrong answer",
        Category::SleepReliance => "relied on sleep",
        Category::EarlyExit => "exited before their threads finished",
        Category::NotConcurrent => "did not run the work on threads",
        Category::DataRace => "had a data race",
        Category::Deadlock => "deadlocked",
        Category::Timeout => "ran out of time",
        Category::Crash => "crashed",
        Category::ResourceLimit => "hit a resource limit",
    }
}

/// Per exercise: graded submissions, passes, score sum, category counts.
#[derive(Default)]
struct ExerciseStats {
    graded: usize,
    passed: usize,
    errors: usize,
    score: u64,
    categories: BTreeMap<Category, usize>,
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --fg:#1d2430; --muted:#5c6776; --line:#d9dee5; --bg:#fff;
  --pass:#1f8a4c; --fail:#c23b32; --err:#b7791f; --bar:#3b6fd8; --none:#eef1f4; }
@media (prefers-color-scheme: dark) { :root { --fg:#e5e9ef; --muted:#9aa5b4; --line:#354050;
  --bg:#161b22; --none:#222a35; } }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg);
  max-width: 1100px; margin: 2rem auto; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid var(--line); }
.muted { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: .6rem 1rem; min-width: 7rem; }
.card .value { font-size: 1.6rem; font-weight: 600; display: block; }
.hist { display: flex; align-items: flex-end; gap: 6px; height: 190px; padding-top: 1rem; }
.hist .col { flex: 1; display: flex; flex-direction: column; justify-content: flex-end;
  align-items: center; height: 100%; }
.hist .bar { width: 100%; background: var(--bar); border-radius: 3px 3px 0 0; min-height: 1px; }
.hist .count { font-weight: 600; } .hist .label { font-size: .75rem; color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: .6rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.heat { text-align: center; }
.pass { color: var(--pass); } .fail { color: var(--fail); } .error { color: var(--err); }
.none { color: var(--muted); }
ul.findings li { margin: .2rem 0; }
.help .card { flex: 1; min-width: 14rem; } .help ol, .help ul { margin: .3rem 0; padding-left: 1.3rem; }
section.student { border-top: 1px solid var(--line); margin-top: 1.4rem; }
section.student:target { outline: 2px solid var(--bar); outline-offset: 6px; }
section.student pre { background: var(--none); padding: .5rem; overflow-x: auto; font-size: .85rem; }
ul.checks { list-style: none; padding-left: .5rem; }
"#;

pub fn write(out: &mut impl Write, class: &ClassResults) -> io::Result<()> {
    let mut stats: BTreeMap<&str, ExerciseStats> = class
        .exercises
        .iter()
        .map(|e| (e.id.as_str(), ExerciseStats::default()))
        .collect();
    for r in &class.results {
        let Some(s) = stats.get_mut(r.exercise.as_str()) else {
            continue;
        };
        if r.status == ResultStatus::Error {
            s.errors += 1;
            continue;
        }
        s.graded += 1;
        s.score += u64::from(r.score);
        if r.status == ResultStatus::Pass {
            s.passed += 1;
        }
        for c in &r.categories {
            *s.categories.entry(*c).or_default() += 1;
        }
    }
    let max_total = class.max_total();
    let totals: Vec<u32> = class.students.iter().map(|s| class.total(s)).collect();
    let pcts: Vec<usize> = totals
        .iter()
        .map(|&t| percent(t as usize, max_total as usize))
        .collect();
    // The scores of those who handed in something; the others apart.
    let active: Vec<bool> = class
        .students
        .iter()
        .map(|s| html_students::handed_in(class, s))
        .collect();
    let nothing = active.iter().filter(|a| !**a).count();
    let active_pcts: Vec<usize> = pcts
        .iter()
        .zip(&active)
        .filter(|(_, a)| **a)
        .map(|(p, _)| *p)
        .collect();
    let graded: usize = stats.values().map(|s| s.graded).sum();
    let passed: usize = stats.values().map(|s| s.passed).sum();
    let errors: usize = stats.values().map(|s| s.errors).sum();
    let mean = if active_pcts.is_empty() {
        0
    } else {
        (active_pcts.iter().sum::<usize>() * 2 + active_pcts.len()) / (2 * active_pcts.len())
    };
    let median = {
        let mut v = active_pcts.clone();
        v.sort();
        match v.len() {
            0 => 0,
            n if n % 2 == 1 => v[n / 2],
            n => (v[n / 2 - 1] + v[n / 2]).div_ceil(2),
        }
    };

    writeln!(out, "<!DOCTYPE html>")?;
    writeln!(out, r#"<html lang="en"><head><meta charset="utf-8">"#)?;
    writeln!(
        out,
        r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">"#
    )?;
    writeln!(
        out,
        r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#
    )?;
    writeln!(
        out,
        "<title>Class report</title><style>{STYLE}</style></head><body>"
    )?;
    writeln!(out, "<h1>Class report</h1>")?;
    let ids: Vec<&str> = class.exercises.iter().map(|e| e.id.as_str()).collect();
    writeln!(
        out,
        r#"<p class="muted">{} exercises ({}) · maximum total {} · graded by grader {}</p>"#,
        ids.len(),
        esc(&ids.join(", ")),
        max_total,
        esc(&class.grader)
    )?;

    writeln!(out, r#"<div class="cards">"#)?;
    let card = |out: &mut dyn Write, id: &str, label: &str, value: String| {
        writeln!(
            out,
            r#"<div class="card"><span class="value" id="{id}">{value}</span><span class="muted">{label}</span></div>"#
        )
    };
    card(
        out,
        "students",
        "students",
        class.students.len().to_string(),
    )?;
    card(
        out,
        "nothing",
        "handed in nothing",
        format!("{nothing} of {}", class.students.len()),
    )?;
    card(out, "submissions", "submissions graded", graded.to_string())?;
    card(
        out,
        "passed",
        "submissions passed",
        format!("{passed} of {graded} ({}%)", percent(passed, graded)),
    )?;
    let of_active = format!("of the {} who handed in something", active_pcts.len());
    card(
        out,
        "mean",
        &format!("mean total, {of_active}"),
        format!("{mean}%"),
    )?;
    card(
        out,
        "median",
        &format!("median total, {of_active}"),
        format!("{median}%"),
    )?;
    card(out, "errors", "grader errors", errors.to_string())?;
    card(out, "skipped", "skipped", class.skipped.len().to_string())?;
    writeln!(out, "</div>")?;
    html_students::needs_help(out, class)?;

    // Score distribution: 0–9 %, ..., 90–99 %, and 100 % on its own.
    writeln!(out, r#"<h2 id="distribution">Score distribution</h2>"#)?;
    writeln!(
        out,
        r#"<p class="muted">The {} students who handed in something, by total score as a share of the maximum {max_total}; the {nothing} who handed in nothing are the last column.</p>"#,
        active_pcts.len()
    )?;
    let mut buckets = [0usize; 11];
    for ((&t, &p), _) in totals.iter().zip(&pcts).zip(&active).filter(|(_, a)| **a) {
        // The full-marks bucket is for full marks only, not for 99.5 % rounded.
        let b = if t == max_total && max_total > 0 {
            10
        } else {
            p.min(99) / 10
        };
        buckets[b] += 1;
    }
    let tallest = buckets.iter().copied().max().unwrap_or(0).max(1);
    writeln!(
        out,
        r#"<div class="hist" role="img" aria-label="score distribution">"#
    )?;
    for (i, &n) in buckets.iter().enumerate() {
        let label = if i == 10 {
            "100%".to_string()
        } else {
            format!("{}–{}%", i * 10, i * 10 + 9)
        };
        let h = n * 150 / tallest;
        writeln!(
            out,
            r#"<div class="col" data-bucket="{label}" data-count="{n}"><span class="count">{n}</span><div class="bar" style="height:{h}px"></div><span class="label">{label}</span></div>"#
        )?;
    }
    {
        let h = nothing * 150 / tallest.max(nothing).max(1);
        writeln!(
            out,
            r#"<div class="col nothing" data-bucket="nothing" data-count="{nothing}"><span class="count">{nothing}</span><div class="bar" style="height:{h}px;background:var(--none)"></div><span class="label">handed in nothing</span></div>"#
        )?;
    }
    writeln!(out, "</div>")?;

    // Per exercise: passes and categories.
    writeln!(out, r#"<h2 id="exercises">By exercise</h2>"#)?;
    let used: Vec<Category> = Category::ALL
        .into_iter()
        .filter(|c| stats.values().any(|s| s.categories.contains_key(c)))
        .collect();
    writeln!(
        out,
        "<table><thead><tr><th>exercise</th><th class=\"num\">graded</th><th class=\"num\">passed</th><th class=\"num\">mean score</th>"
    )?;
    for c in &used {
        writeln!(out, r#"<th class="num">{c}</th>"#)?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    let mut findings = Vec::new();
    for e in &class.exercises {
        let s = &stats[e.id.as_str()];
        let mean_score = if s.graded == 0 {
            "–".to_string()
        } else {
            format!("{:.1} / {}", s.score as f64 / s.graded as f64, e.max_score)
        };
        write!(
            out,
            r#"<tr data-exercise="{id}"><th>{id}</th><td class="num">{}</td><td class="num">{} ({}%)</td><td class="num">{mean_score}</td>"#,
            s.graded,
            s.passed,
            percent(s.passed, s.graded),
            id = esc(&e.id)
        )?;
        for c in &used {
            let n = s.categories.get(c).copied().unwrap_or(0);
            let p = percent(n, s.graded);
            if n == 0 {
                write!(out, r#"<td class="heat none">–</td>"#)?;
            } else {
                let alpha = 0.12 + 0.6 * p as f64 / 100.0;
                write!(
                    out,
                    r#"<td class="heat" style="background:rgba(194,59,50,{alpha:.2})" title="{n} of {}" data-category="{c}">{p}%</td>"#,
                    s.graded
                )?;
                findings.push((p, n, s.graded, e.id.clone(), *c));
            }
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody></table>")?;
    findings.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.3.cmp(&b.3)));
    if findings.is_empty() {
        writeln!(out, "<p>No submission failed a check.</p>")?;
    } else {
        writeln!(out, r#"<ul class="findings">"#)?;
        for (p, n, of, id, c) in &findings {
            writeln!(
                out,
                "<li><strong>{p}%</strong> of the students who handed in {id} {} ({n} of {of} students)</li>",
                phrase(*c),
                id = esc(id)
            )?;
        }
        writeln!(out, "</ul>")?;
    }

    // Every student.
    writeln!(out, r#"<h2 id="students-table">Students</h2>"#)?;
    write!(out, "<table><thead><tr><th>student</th>")?;
    for e in &class.exercises {
        write!(out, r#"<th class="num">{}</th>"#, esc(&e.id))?;
    }
    writeln!(out, r#"<th class="num">total</th></tr></thead><tbody>"#)?;
    for (i, student) in class.students.iter().enumerate() {
        write!(
            out,
            r##"<tr data-student="{0}"><th><a href="#{1}">{0}</a></th>"##,
            esc(student),
            html_students::anchor(i)
        )?;
        for e in &class.exercises {
            match class.get(student, &e.id) {
                None => write!(out, r#"<td class="num none" title="not handed in">–</td>"#)?,
                Some(r) if r.status == ResultStatus::Error => write!(
                    out,
                    r#"<td class="num error" title="grader error">error</td>"#
                )?,
                Some(r) => {
                    let cls = if r.status == ResultStatus::Pass {
                        "pass"
                    } else {
                        "fail"
                    };
                    let cats: Vec<&str> = r.categories.iter().map(|c| c.as_str()).collect();
                    write!(
                        out,
                        r#"<td class="num {cls}" title="{}">{}</td>"#,
                        esc(&cats.join(", ")),
                        r.score
                    )?
                }
            }
        }
        if active[i] {
            writeln!(
                out,
                r#"<td class="num"><strong>{}</strong> ({}%)</td></tr>"#,
                totals[i], pcts[i]
            )?;
        } else {
            writeln!(out, r#"<td class="num none">nothing handed in</td></tr>"#)?;
        }
    }
    writeln!(out, "</tbody></table>")?;

    writeln!(out, r#"<h2 id="skipped-list">Skipped</h2>"#)?;
    if class.skipped.is_empty() {
        writeln!(out, "<p>Nothing was skipped.</p>")?;
    } else {
        writeln!(
            out,
            "<table><thead><tr><th>path</th><th>reason</th></tr></thead><tbody>"
        )?;
        for s in &class.skipped {
            writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td></tr>",
                esc(&s.path),
                esc(&s.reason)
            )?;
        }
        writeln!(out, "</tbody></table>")?;
    }
    html_students::sections(out, class)?;
    writeln!(
        out,
        r#"<p class="muted">Details per submission: results.json, junit.xml and feedback/&lt;student&gt;.md beside this page.</p>"#
    )?;
    writeln!(out, "</body></html>")
}

#[cfg(test)]
mod tests {
    use super::percent;

    #[test]
    fn percentages_round_half_up() {
        assert_eq!(percent(5, 13), 38);
        assert_eq!(percent(1, 8), 13);
        assert_eq!(percent(0, 0), 0);
        assert_eq!(percent(3, 3), 100);
    }
}
