//! Presentation, apart from checking: what a check found, as text for a terminal or a mailing
//! list ([`render`]: result lines, race diagrams), as typed JSON ([`json`]), as a Chrome trace
//! for Perfetto ([`chrome`]), and as the CI gate's summary table and JUnit XML ([`matrix`]).
//! Nothing here runs an execution.

pub mod chrome;
pub mod json;
pub mod matrix;
pub mod render;
