//! What a model checker's proof decides. The checks that run on the model
//! harness (`model`, `lib-threads`) go first, two at a time; when a model
//! check proves that the result depends on how the threads interleave (a
//! data race, or a result read before its threads finished) or that they
//! can deadlock, a run of the same code on real
//! threads is luck, and the checks that would judge one are not judged
//! ([`Proof::voids`]): one submission, one score.

use super::error::GradeError;
use crate::checks::{self, Category, CheckOutcome};
use crate::model::ModelContext;
use crate::model::explain::Evidence;
use crate::spec::{CheckSpec, ExerciseSpec};

/// The outcomes of the model-side checks (by spec index; `None` for the
/// others), and the first proof of timing dependence among them.
pub(super) fn model_checks(
    model: &ModelContext,
    spec: &ExerciseSpec,
) -> Result<(Vec<Option<CheckOutcome>>, Option<Proof>), GradeError> {
    let mut outcomes: Vec<Option<CheckOutcome>> = vec![None; spec.checks.len()];
    let mut proof: Option<Proof> = None;
    for (i, (outcome, evidence)) in model_side(model, spec)? {
        if proof.is_none() {
            proof = match (evidence, outcome.category) {
                (Some(evidence), Some(category))
                    if matches!(
                        category,
                        Category::DataRace | Category::Deadlock | Category::EarlyExit
                    ) =>
                {
                    Some(Proof {
                        check: outcome.name.clone(),
                        category,
                        library_threads: evidence.library_threads,
                    })
                }
                // The library cannot be model-checked: nothing vouches for
                // a run of it on real threads either, and whether it
                // spawns threads of its own is not known.
                (_, Some(Category::Forbidden)) => Some(Proof {
                    check: outcome.name.clone(),
                    category: Category::Forbidden,
                    library_threads: true,
                }),
                _ => None,
            };
        }
        outcomes[i] = Some(outcome);
    }
    Ok((outcomes, proof))
}

/// The checks that run on the model harness (`model`, `lib-threads`), two at
/// a time: each is a single-threaded exploration, and a core apiece halves
/// the wait. Returned in spec order, with each model check's evidence.
type Outcomes = Vec<(usize, (CheckOutcome, Option<Evidence>))>;

fn model_side(model: &ModelContext, spec: &ExerciseSpec) -> Result<Outcomes, GradeError> {
    let items: Vec<(usize, &CheckSpec)> = spec
        .checks
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, CheckSpec::Model { .. } | CheckSpec::LibThreads { .. }))
        .collect();
    if items.is_empty() {
        return Ok(Vec::new());
    }
    // Built once here, not by two workers at once.
    model.model_harness()?;
    let work = |&(i, check): &(usize, &CheckSpec)| match check {
        CheckSpec::LibThreads { .. } => {
            checks::lib_threads::check(model, i, check).map(|o| (o, None))
        }
        _ => checks::model::check_with_evidence(model, check),
    };
    let mut done: Vec<Option<Result<_, crate::model::ModelError>>> =
        (0..items.len()).map(|_| None).collect();
    // `run` fails only when the callback does, and this one never does.
    let _ = crate::pool::run(&items, 2, work, |k, r| {
        done[k] = Some(r);
        Ok(())
    });
    items
        .iter()
        .zip(done)
        .map(|(&(i, _), r)| Ok((i, r.expect("every check ran")?)))
        .collect()
}

/// A model check's proof that the outcome depends on how the threads
/// interleave: a lost update, a broken invariant or a deadlock in some
/// interleavings and not in others; or its finding that the library cannot
/// be checked at all (`forbidden`), which leaves a real run unproven too.
pub(super) struct Proof {
    check: String,
    category: Category,
    /// The library spawns threads of its own (so even a test that calls it
    /// from one thread runs it on several).
    library_threads: bool,
}

impl Proof {
    /// Why `check` is not judged, when one run of it would be luck.
    pub(super) fn voids(&self, check: &CheckSpec) -> Option<String> {
        let because = match self.category {
            Category::Forbidden => format!(
                "not judged: the library cannot be model-checked (see `{}`), so what one run \
                 of it gives proves nothing",
                self.check
            ),
            category => {
                let what = match category {
                    Category::Deadlock => "the threads can deadlock, so whether one run finishes",
                    _ => "the result depends on how the threads interleave, so what one run gives",
                };
                format!(
                    "not judged: the model check `{}` proved that {what} is luck, not proof",
                    self.check
                )
            }
        };
        match check {
            // The program runs the library on real threads.
            CheckSpec::Output { .. } | CheckSpec::Timing { .. } => Some(because),
            // A test calls the library from one thread: luck only when the
            // library spawns threads itself.
            CheckSpec::Unit { .. } if self.library_threads => Some(because),
            _ => None,
        }
    }
}
