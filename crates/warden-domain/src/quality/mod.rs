//! Quality assurance and calibration: how well decisions hold up and how
//! closely analysts agree.
//!
//! `agreement` computes the statistics of a calibration session (raters
//! label the same items independently): percent agreement, Cohen's, Fleiss'
//! kappa, Krippendorff's alpha, the consensus per item and each rater's
//! agreement with it. QA sampling and rubric scoring go beside it.

pub mod agreement;
