//! QA and calibration: sampling plans and the sampling pass
//! ([`sampling`]), the blind review of a sampled decision with its rubric,
//! comparison and rework ([`review`]), QA results over time
//! ([`results`]), and calibration sessions ([`calibration`]).
//!
//! The policy is the domain's (`warden_domain::quality`): which decisions
//! a plan samples, the assignment's transition table and what it may show,
//! the rubric, the comparison and the rework rule, the session's states and
//! report. These commands load the state, ask the domain, and write the new
//! state naming the version they read.
//!
//! Who: reviewing, results and running sessions need `qa.review` (QA and
//! leads); the decider acknowledges their own feedback; a session's listed
//! raters rate. Restricted queues apply as everywhere: an assignment or a
//! session case in a queue the caller may not see is not found.

pub mod calibration;
pub mod results;
pub mod review;
pub mod sampling;
