//! What the checks that judge a real run are given: one run of the
//! student's program, the thread trace the timing shim recorded of it, and
//! the perturbation it ran under. The grading pipeline makes these; the
//! checks only read them.

use crate::perturb::Profile;
use crate::run::Outcome;
use crate::trace::Trace;

/// One run of the student's program and what the grader saw of it.
pub struct Observed {
    pub outcome: Outcome,
    /// The thread trace, where the timing shim could be loaded.
    pub trace: Option<Trace>,
    /// The perturbation of this run; `None` for the normal run.
    pub profile: Option<Profile>,
}
