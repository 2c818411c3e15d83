//! Quality assurance and calibration: how well decisions hold up and how
//! closely analysts agree.
//!
//! - `agreement` computes the statistics of a calibration session (raters
//!   label the same items independently): percent agreement, Cohen's,
//!   Fleiss' kappa, Krippendorff's alpha, the consensus per item and each
//!   rater's agreement with it.
//! - `sampling` decides which decisions QA reads again: sampling plans with
//!   rates, `all` rules, seeds, stratified minimums and a weekly cap, a
//!   stateless decision-time sampler, a window pass, and the expected
//!   weekly load.
//! - `review` is the blinded QA review: the assignment's states and their
//!   transition table, what of the original decision each stage may show,
//!   the verdict, the rubric, the comparison, and the rework rule with its
//!   KPI counting.
//! - `calibration` is a calibration session: raters, blind ratings, the
//!   report at close (built on `agreement`) and the resolution note.

pub mod agreement;
pub mod calibration;
pub mod review;
pub mod sampling;
