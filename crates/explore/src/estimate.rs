//! How big the next loom pass will be, before it runs.
//!
//! loom's passes grow with the preemption bound, each by a smaller factor than the last (every
//! extra preemption has fewer places left to go): measured on lore-2022-08-17-unwritten
//! (linux-6.2) the passes at bounds 0 to 4 run 1, 124, 2,593, 35,404 and 317k executions, so
//! the growth factors are 124, 20.9, 13.7 and 9.0. The estimate of the pass at bound `k`
//! extrapolates that trend from the two passes before it: with `r = N(k-1) / N(k-2)` and the
//! factor before it `r' = N(k-2) / N(k-3)`, the next factor is `r * (r / r')` (the factors
//! shrink geometrically), never below 1 nor above `r`; with only one factor known, it is `r`
//! (an upper estimate). The time is the executions at the last pass's rate.
//!
//! This is cheaper than Knuth's random-probe estimator, which would need loom's branching
//! factors at every node of its DFS (loom does not expose its tree), and it is checked the
//! same way: the benchmark and the JSON report put the estimate beside the actual count.
//! Bound 0 (one execution) and passes under [`MIN_BASE`] executions say too little about a
//! trend, so they are not used as the base of a factor.

use std::time::Duration;

/// A finished loom pass: its bound, executions and wall time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PassCount {
    /// The preemption bound.
    pub bound: u32,
    /// Executions it ran.
    pub executions: u64,
    /// Its wall time.
    pub elapsed: Duration,
}

/// The estimated size of a pass not yet run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// The bound of the pass estimated.
    pub bound: u32,
    /// Estimated executions.
    pub executions: u64,
    /// Estimated wall time, at the last pass's rate.
    pub time: Duration,
}

/// The smallest pass that can serve as the base of a growth factor.
pub const MIN_BASE: u64 = 10;

/// The estimate of the pass after the last of `passes` (consecutive bounds, oldest first), or
/// `None` when fewer than two passes with a usable base are known.
pub fn next_pass(passes: &[PassCount]) -> Option<Estimate> {
    let n = passes.len();
    if n < 2 {
        return None;
    }
    let (prev, last) = (passes[n - 2], passes[n - 1]);
    if prev.executions < MIN_BASE {
        return None;
    }
    let r = last.executions as f64 / prev.executions as f64;
    let factor = match passes.get(n.wrapping_sub(3)).filter(|p| n >= 3 && p.executions >= MIN_BASE) {
        Some(before) => {
            let r_before = prev.executions as f64 / before.executions as f64;
            (r * r / r_before).clamp(1.0, r.max(1.0))
        }
        None => r.max(1.0),
    };
    let executions = (last.executions as f64 * factor).round() as u64;
    let per_execution = last.elapsed.as_secs_f64() / last.executions.max(1) as f64;
    Some(Estimate {
        bound: last.bound + 1,
        executions,
        time: Duration::from_secs_f64((per_execution * executions as f64).min(1e9)),
    })
}

/// `35404` as `35k`, `1834000` as `1.8M`: an estimate's precision.
pub fn approx(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..1_000_000 => format!("{}k", (n + 500) / 1_000),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passes(counts: &[u64]) -> Vec<PassCount> {
        counts
            .iter()
            .enumerate()
            .map(|(b, &n)| PassCount { bound: b as u32, executions: n, elapsed: Duration::from_micros(120 * n) })
            .collect()
    }

    /// lore-2022-08-17-unwritten on linux-6.2 (measured, see the module docs): bound 4 from
    /// bounds 1 to 3 lands within 10% of the 317k loom ran.
    #[test]
    fn the_trend_of_the_factors_predicts_the_next_pass() {
        let e = next_pass(&passes(&[1, 124, 2593, 35404])).unwrap();
        assert_eq!(e.bound, 4);
        let actual = 317_000.0;
        assert!((e.executions as f64 - actual).abs() / actual < 0.1, "{e:?}");
        // At the last pass's rate (120 µs per execution here).
        assert!((e.time.as_secs_f64() - e.executions as f64 * 120e-6).abs() < 1e-3, "{e:?}");
    }

    /// With one usable factor the estimate repeats it (an upper estimate); with none, nothing.
    #[test]
    fn too_little_history_gives_a_cruder_estimate_or_none() {
        assert_eq!(next_pass(&passes(&[1])), None);
        assert_eq!(next_pass(&passes(&[1, 124])), None, "bound 0's single execution is no base");
        let e = next_pass(&passes(&[1, 124, 2593])).unwrap();
        assert_eq!(e.executions, (2593.0f64 * 2593.0 / 124.0).round() as u64);
    }

    /// The factor never drops below 1 (a pass is never smaller than the one before) nor grows.
    #[test]
    fn the_factor_is_clamped() {
        let flat = next_pass(&passes(&[1, 100, 100, 100])).unwrap();
        assert_eq!(flat.executions, 100);
        let growing = next_pass(&passes(&[1, 100, 200, 800])).unwrap();
        assert_eq!(growing.executions, 3200, "a growing factor is held at the last one");
    }

    #[test]
    fn approx_rounds_to_what_an_estimate_can_say() {
        assert_eq!(approx(950), "950");
        assert_eq!(approx(35_404), "35k");
        assert_eq!(approx(1_834_000), "1.8M");
    }
}
