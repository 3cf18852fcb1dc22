//! The `model` and `unit` checks: a scenario explored under every
//! interleaving by the model checker, or a functional test of the library
//! on one thread. The machinery lives in [`crate::model`]; this module
//! turns its results into [`CheckOutcome`]s.

use super::CheckOutcome;
use crate::model::explain::Evidence;
use crate::model::{self, ModelContext, ModelError, RunResult};
use crate::spec::CheckSpec;
use std::time::Duration;

/// Runs one `model` or `unit` check. Other kinds are not this module's.
pub fn check(ctx: &ModelContext, check: &CheckSpec) -> Result<CheckOutcome, ModelError> {
    Ok(check_with_evidence(ctx, check)?.0)
}

/// [`check`], and where the failing interleaving happened when a model
/// check found one.
pub fn check_with_evidence(
    ctx: &ModelContext,
    check: &CheckSpec,
) -> Result<(CheckOutcome, Option<Evidence>), ModelError> {
    match check {
        CheckSpec::Model {
            name,
            points,
            scenario,
            max_preemptions,
            timeout_ms,
            ..
        } => {
            let wall = timeout_ms
                .map(Duration::from_millis)
                .unwrap_or(model::DEFAULT_MODEL_TIMEOUT);
            Ok(
                match model::run_scenario(ctx, scenario, *max_preemptions, wall)? {
                    RunResult::Broken(v, evidence) => {
                        let mut outcome = CheckOutcome::fail(name, *points, v.category, v.message)
                            .with_details(v.details);
                        outcome.locations = evidence.locations.clone();
                        (outcome, Some(evidence))
                    }
                    RunResult::Passed { iterations, wall } => {
                        let bound = match max_preemptions {
                            Some(p) => format!(" with up to {p} preemptions"),
                            None => String::new(),
                        };
                        let outcome = CheckOutcome::pass(
                            name,
                            *points,
                            format!(
                                "scenario `{scenario}` holds in all {iterations} interleavings explored{bound} \
                             ({:.2} s): no lost update, no broken invariant, no deadlock",
                                wall.as_secs_f64()
                            ),
                        );
                        (outcome, None)
                    }
                    RunResult::Failed(v) => (
                        CheckOutcome::fail(name, *points, v.category, v.message)
                            .with_details(v.details),
                        None,
                    ),
                },
            )
        }
        CheckSpec::Unit {
            name,
            points,
            test,
            timeout_ms,
            ..
        } => {
            let wall = timeout_ms
                .map(Duration::from_millis)
                .unwrap_or(model::DEFAULT_UNIT_TIMEOUT);
            let outcome = match model::run_unit(ctx, test, wall)? {
                RunResult::Passed { .. } => {
                    CheckOutcome::pass(name, *points, format!("functional test `{test}` passes"))
                }
                RunResult::Failed(v) | RunResult::Broken(v, _) => CheckOutcome::fail(
                    name,
                    *points,
                    v.category,
                    format!("functional test `{test}`: {}", v.message),
                )
                .with_details(v.details),
            };
            Ok((outcome, None))
        }
        other => Ok((
            CheckOutcome::skip(other.name(), other.points(), "not a model-checker check"),
            None,
        )),
    }
}
