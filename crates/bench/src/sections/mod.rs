//! One module per measurement of the benchmark, each holding its run, its result types and its
//! table (the numbers in docs/performance.md's generated part). `measure::run_all` runs them in
//! order; `report::markdown` prints their tables.

pub mod cost;
pub mod defaults;
pub mod dfs;
pub mod exhaustive;
pub mod overhead;
pub mod portfolio;
pub mod ttfv;
