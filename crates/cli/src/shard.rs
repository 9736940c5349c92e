//! `--shard K/N`: how one check's search is split across N CI jobs.

use iomc_explore::{ShuttleKind, Strategy};

/// Apply `--shard K/N` to the i-th check: None if another shard runs it. A random or PCT
/// search is split by iterations (each shard runs its share from a seed of its own, so the N
/// shards together run at least as many executions as one job would, none repeated by seed); a
/// stress run is split by iterations; an exhaustive search (loom, DFS, PCT-then-loom) cannot be
/// split, so whole checks are dealt out round-robin by index.
pub fn shard_strategy(i: u64, strategy: Strategy, shard: Option<(u64, u64)>) -> Option<Strategy> {
    let Some((k, n)) = shard else { return Some(strategy) };
    match strategy {
        Strategy::Shuttle { kind, iterations, seed } if kind != ShuttleKind::Dfs => Some(Strategy::Shuttle {
            kind,
            iterations: iterations.div_ceil(n),
            seed: seed.wrapping_mul(n).wrapping_add(k - 1),
        }),
        Strategy::Stress { iterations } => Some(Strategy::Stress { iterations: iterations.div_ceil(n) }),
        other => (i % n == k - 1).then_some(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOM: Strategy = Strategy::Loom { min_bound: 0, max_bound: 3 };

    #[test]
    fn no_shard_runs_everything_unchanged() {
        for s in [LOOM, Strategy::Stress { iterations: 7 }] {
            assert_eq!(shard_strategy(5, s.clone(), None), Some(s));
        }
    }

    /// Exhaustive searches: every check runs on exactly one of the N shards, unchanged.
    #[test]
    fn exhaustive_checks_are_dealt_out_once_each() {
        let dfs = Strategy::Shuttle { kind: ShuttleKind::Dfs, iterations: 100, seed: 1 };
        for s in [LOOM, dfs] {
            for n in 1..=4u64 {
                for i in 0..10u64 {
                    let runs: Vec<Strategy> =
                        (1..=n).filter_map(|k| shard_strategy(i, s.clone(), Some((k, n)))).collect();
                    assert_eq!(runs, vec![s.clone()], "check {i} of {n} shards");
                }
            }
        }
    }

    /// Random and PCT searches: every shard runs its share, from seeds no two shards share,
    /// and the shares add up to at least the whole.
    #[test]
    fn random_searches_are_split_by_iterations_with_distinct_seeds() {
        for kind in [ShuttleKind::Random, ShuttleKind::Pct { depth: 3 }] {
            for (n, iterations) in [(1u64, 10u64), (3, 10), (4, 1000), (7, 1)] {
                let parts: Vec<(u64, u64)> = (1..=n)
                    .map(|k| match shard_strategy(2, Strategy::Shuttle { kind, iterations, seed: 42 }, Some((k, n))) {
                        Some(Strategy::Shuttle { kind: got, iterations, seed }) => {
                            assert_eq!(got, kind);
                            (iterations, seed)
                        }
                        other => panic!("shard {k}/{n}: {other:?}"),
                    })
                    .collect();
                let total: u64 = parts.iter().map(|p| p.0).sum();
                assert!(total >= iterations && total < iterations + n, "{n} shards of {iterations}: {parts:?}");
                let mut seeds: Vec<u64> = parts.iter().map(|p| p.1).collect();
                seeds.sort_unstable();
                seeds.dedup();
                assert_eq!(seeds.len() as u64, n, "seeds repeat: {parts:?}");
            }
        }
        let stress = |k| shard_strategy(0, Strategy::Stress { iterations: 10 }, Some((k, 3)));
        assert_eq!(stress(3), Some(Strategy::Stress { iterations: 4 }));
    }
}
