//! proptest strategies that generate valid scenarios.
//!
//! A generated scenario is a small file (2–3 pages, block size 512–4096 on 4 KiB pages, folios
//! of 1 or 1 and 4 pages) with a `setup` that builds a layout (hole, unwritten, or written
//! extents; dirty, clean or evicted pages; a large readahead folio) and 2–4 threads doing
//! the ops of [`OPS`](crate::OPS) that carry a generator weight (pwrite, mmap_write, read, writeback,
//! reclaim, fallocate, punch_hole and truncate today).
//!
//! **Bias.** The races this project hunts need a *partial* block (only a partial block makes
//! `__iomap_write_begin` choose between zeroing and reading) right next to *other* data (so that
//! a wrong choice destroys something). With uniform offsets most writes cover whole blocks or
//! land far from earlier data, and the wrong choice is harmless. So offsets are drawn, with
//! weight 3 of 4, from "interesting" points: block boundaries, one byte and half a block off
//! them, and the edges of the setup's writes (adjacent ranges); lengths likewise end on such
//! points. `iomc fuzz --unbiased` turns it off; the test `bias_puts_writes_next_to_setup_writes`
//! measures what it changes, and what it was found not to change.

use crate::ops::{ArgKind, ArgValue, Args, OpSpec, OPS};
use crate::{ExploreDefaults, Geometry, Loc, Op, OpKind, Scenario, ThreadSpec, Verdict};
use proptest::prelude::*;
use proptest::strategy::{BoxedStrategy, Union};

/// Knobs of the generator.
#[derive(Clone, Copy, Debug)]
pub struct GenConfig {
    /// Bias offsets and lengths toward partial blocks and adjacent ranges.
    pub biased: bool,
    /// Most threads per scenario (2..=4; loom allows 4 plus main).
    pub max_threads: usize,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig { biased: true, max_threads: 4 }
    }
}

const PAGE: u64 = 4096;
const NO_LOC: Loc = Loc { line: 0, col: 0 };

fn op(kind: OpKind) -> Op {
    Op { kind, loc: NO_LOC }
}

/// Interesting offsets in `[0, size)`: block boundaries, ±1 byte, half blocks, and `edges`.
fn points(bs: u64, size: u64, edges: &[u64]) -> Vec<u64> {
    let mut v = Vec::new();
    let mut b = 0;
    while b < size {
        for d in [0, 1, bs / 2, bs - 1] {
            if b + d < size {
                v.push(b + d);
            }
        }
        b += bs;
    }
    v.extend(edges.iter().copied().filter(|e| *e < size));
    v.sort_unstable();
    v.dedup();
    v
}

/// A byte range `[offset, offset+len)` inside `[0, size)`, len > 0.
fn range(bs: u64, size: u64, edges: Vec<u64>, biased: bool) -> BoxedStrategy<(u64, u64)> {
    let uniform = (0..size).prop_flat_map(move |o| (Just(o), 1..=(size - o))).boxed();
    if !biased {
        return uniform;
    }
    let pts = points(bs, size, &edges);
    let mut ends: Vec<u64> = pts.iter().copied().filter(|p| *p > 0).collect();
    ends.push(size);
    let interesting = (proptest::sample::select(pts), proptest::sample::select(ends))
        .prop_filter_map("empty range", |(o, e)| (e > o).then(|| (o, e - o)))
        .boxed();
    prop_oneof![3 => interesting, 1 => uniform].boxed()
}

fn fill() -> impl Strategy<Value = u8> {
    // Never 0 (a lost write would look like zeroing) nor 0xA5 (the disk's poison).
    (1u8..=0xfe).prop_map(|f| if f == 0xA5 { 0xA6 } else { f })
}

/// The setup: a base layout, then up to two unaligned writes (the "W1"s), then maybe a
/// writeback, a reclaim or a read.
fn setup(bs: u64, size: u64, biased: bool) -> BoxedStrategy<Vec<Op>> {
    let base = prop_oneof![
        Just(vec![op(OpKind::Truncate { size })]),
        Just(vec![op(OpKind::Fallocate { offset: 0, length: size, keep_size: false })]),
        fill().prop_map(move |f| vec![
            op(OpKind::Pwrite { offset: 0, length: size, fill: f }),
            op(OpKind::Fsync),
            op(OpKind::DropCaches),
        ]),
    ];
    let writes = proptest::collection::vec((range(bs, size, vec![], biased), fill()), 0..=2);
    let tail = prop_oneof![
        3 => Just(None),
        1 => Just(Some(OpKind::Read { offset: 0, length: size, direct: false })),
        1 => range(bs, size, vec![], false).prop_map(|r| Some(OpKind::Writeback { range: Some(r), error: None })),
    ];
    (base, writes, tail)
        .prop_map(|(mut ops, writes, tail)| {
            for ((offset, length), fill) in writes {
                ops.push(op(OpKind::Pwrite { offset, length, fill }));
            }
            ops.extend(tail.map(op));
            ops
        })
        .boxed()
}

fn edges_of(setup: &[Op]) -> Vec<u64> {
    setup
        .iter()
        .filter_map(|o| match o.kind {
            OpKind::Pwrite { offset, length, .. } => Some([offset, offset + length]),
            _ => None,
        })
        .flatten()
        .collect()
}

/// One thread op: an op of [`OPS`] drawn by its generator weight, with arguments drawn by kind.
fn thread_op(bs: u64, size: u64, edges: Vec<u64>, biased: bool) -> BoxedStrategy<OpKind> {
    let arms: Vec<(u32, BoxedStrategy<OpKind>)> = OPS
        .iter()
        .filter(|spec| spec.generate.weight > 0)
        .map(|spec| (spec.generate.weight, op_of(spec, bs, size, edges.clone(), biased)))
        .collect();
    Union::new_weighted(arms).boxed()
}

/// Instances of `spec`: a range (offset and length together, biased, capped by the spec's
/// `max_length`), a fill byte and a size in `1..=size`, for the arguments it has. Ops with other
/// argument kinds are never generated (their weight is 0: a test checks it).
fn op_of(spec: &'static OpSpec, bs: u64, size: u64, edges: Vec<u64>, biased: bool) -> BoxedStrategy<OpKind> {
    let has = |k: ArgKind| spec.args.iter().any(|a| a.kind == k);
    if spec.args.iter().any(|a| a.name == "src") {
        // clone_range: block-aligned source and destination, 1 to 4 blocks (overlapping or
        // past-EOF draws are kept: the kernel's -EINVAL is behaviour too).
        let blocks = (size / bs).max(2);
        return (0..blocks, 0..blocks, 1..=blocks.min(4))
            .prop_filter_map("clone the generator cannot build", move |(s, d, n)| {
                let mut a = Args::default();
                a.set("src", ArgValue::Int(s * bs));
                a.set("dst", ArgValue::Int(d * bs));
                a.set("length", ArgValue::Int(n * bs));
                OpKind::from_args(spec.name, &a)
            })
            .boxed();
    }
    let cap = spec.generate.max_length.unwrap_or(u64::MAX);
    let align = spec.generate.align.unwrap_or(1);
    let rng = if has(ArgKind::Offset) {
        range(bs, size, edges, biased)
            .prop_map(move |(o, l)| {
                let (o, e) = (o / align * align, (o + l.min(cap)).div_ceil(align) * align);
                Some((o, e - o))
            })
            .boxed()
    } else {
        Just(None).boxed()
    };
    let fill = if has(ArgKind::Fill) { fill().prop_map(Some).boxed() } else { Just(None).boxed() };
    let new_size = if has(ArgKind::Size) { (1..=size).prop_map(Some).boxed() } else { Just(None).boxed() };
    (rng, fill, new_size)
        .prop_filter_map("op the generator cannot build", move |(rng, fill, new_size)| {
            let mut a = Args::default();
            if let Some((o, l)) = rng {
                a.set("offset", ArgValue::Int(o));
                a.set("length", ArgValue::Int(l));
            }
            if let Some(f) = fill {
                a.set("fill", ArgValue::Int(u64::from(f)));
            }
            if let Some(z) = new_size {
                a.set("size", ArgValue::Int(z));
            }
            OpKind::from_args(spec.name, &a)
        })
        .boxed()
}

/// Scenarios for `cfg`, expecting `expect` for each preset named.
pub fn scenarios(cfg: GenConfig, expect: Vec<(String, Verdict)>) -> BoxedStrategy<Scenario> {
    let geometry = (
        prop_oneof![1 => Just(512u64), 2 => Just(1024), 1 => Just(2048), 3 => Just(4096)],
        prop_oneof![3 => Just(vec![1u64]), 1 => Just(vec![1, 4])],
        2u64..=3,
    );
    let max_threads = cfg.max_threads.clamp(2, 4);
    let biased = cfg.biased;
    geometry
        .prop_flat_map(move |(bs, folio_pages, pages)| {
            let size = pages * PAGE;
            (Just((bs, folio_pages)), setup(bs, size, biased)).prop_flat_map(move |(g, setup)| {
                let edges = edges_of(&setup);
                let thread = proptest::collection::vec(thread_op(bs, size, edges, biased), 1..=2);
                (Just(g), Just(setup), proptest::collection::vec(thread, 2..=max_threads))
            })
        })
        .prop_map(move |((bs, folio_pages), setup, threads)| Scenario {
            file: "generated.toml".into(),
            name: "generated".into(),
            summary: "generated by iomc-scenario::generate".into(),
            source: "proptest".into(),
            geometry: Geometry { block_size: bs, page_size: PAGE, folio_pages, always_cow: false, zoned: false },
            setup,
            threads: threads
                .into_iter()
                .enumerate()
                .map(|(i, ops)| ThreadSpec {
                    name: format!("t{i}"),
                    ops: ops.into_iter().map(op).collect(),
                    loc: NO_LOC,
                })
                .collect(),
            expect: expect.iter().map(|(p, v)| (p.clone(), v.clone(), NO_LOC)).collect(),
            explore: ExploreDefaults::default(),
            content_hash: 0,
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::TestRunner;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
        /// Every generated scenario is valid and survives the TOML round trip.
        #[test]
        fn generated_scenarios_are_valid_and_round_trip(s in scenarios(GenConfig::default(), vec![("linux-6.2".into(), Verdict::Pass)])) {
            let text = s.to_toml(&["generated".into()]).map_err(TestCaseError::fail)?;
            let back = Scenario::parse("gen.toml", &text, &["linux-6.2"]).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(back.without_locations(), s.without_locations(), "{}", text);
        }
    }

    /// The generator builds ops from ranges, fill bytes and sizes only (optional arguments are
    /// left out): every op it draws has no other required argument kind, and every drawn kind
    /// of op appears.
    #[test]
    fn generated_ops_are_the_weighted_ones() {
        for spec in OPS.iter().filter(|s| s.generate.weight > 0) {
            for a in spec.args.iter().filter(|a| !a.optional) {
                assert!(
                    matches!(a.kind, ArgKind::Offset | ArgKind::Length | ArgKind::Fill | ArgKind::Size),
                    "{}: the generator cannot draw {:?}",
                    spec.name,
                    a.kind
                );
            }
        }
        let mut runner = TestRunner::deterministic();
        let strat = thread_op(1024, 8192, vec![], true);
        let mut seen: Vec<&str> = (0..2000).map(|_| strat.new_tree(&mut runner).unwrap().current().name()).collect();
        seen.sort_unstable();
        seen.dedup();
        let mut want: Vec<&str> = OPS.iter().filter(|s| s.generate.weight > 0).map(|s| s.name).collect();
        want.sort_unstable();
        assert_eq!(seen, want);
    }

    /// What the bias does, measured over 300 scenarios per generator: thread writes that start
    /// or end exactly at an edge of a setup write (adjacent ranges) are several times more
    /// frequent. What it does not do (measured, so not claimed): a partial block shared with
    /// setup data is about as frequent either way (0.38 biased, 0.39 uniform: uniform offsets cut
    /// blocks too), and the linux-6.1 race shows in about as many scenarios (iomc-harness
    /// `generated` test: 2 and 1 of 600).
    #[test]
    fn bias_puts_writes_next_to_setup_writes() {
        let rate = |biased: bool| {
            let mut runner = TestRunner::deterministic();
            let strat = scenarios(GenConfig { biased, max_threads: 4 }, vec![]);
            let (mut hits, mut all) = (0, 0);
            for _ in 0..300 {
                let s = strat.new_tree(&mut runner).unwrap().current();
                let edges = edges_of(&s.setup);
                for op in s.threads.iter().flat_map(|t| &t.ops) {
                    if let OpKind::Pwrite { offset, length, .. } = op.kind {
                        all += 1;
                        hits += usize::from(edges.contains(&offset) || edges.contains(&(offset + length)));
                    }
                }
            }
            hits as f64 / all as f64
        };
        let (b, u) = (rate(true), rate(false));
        println!("thread pwrites starting or ending at a setup write's edge: biased {b:.2}, unbiased {u:.2}");
        assert!(b > 3.0 * u, "biased {b:.2} is not several times unbiased {u:.2}");
    }
}
