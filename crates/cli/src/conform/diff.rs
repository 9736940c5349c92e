//! How `iomc conform` shows ops, results and snapshots, and where the model and the real kernel
//! first differ in a sequential run.

use iomc_harness::observe;
use iomc_realfs::{BlockState, FinalViews, OpResult, Snapshot};
use iomc_scenario::{OpKind, Scenario};

/// One op of a serialization, as a short label (`writer: pwrite 0+10240 =0x42`).
pub(super) fn label(s: &Scenario, thread: Option<usize>, op: &OpKind) -> String {
    let who = thread.and_then(|t| s.threads.get(t)).map_or("setup", |t| t.name.as_str());
    format!("{who}: {}", op.to_toml())
}

/// The ops of a run in order, setup first, with who runs them.
pub(super) fn ops_in_order<'s>(s: &'s Scenario, order: &[(usize, usize)]) -> Vec<(Option<usize>, &'s OpKind)> {
    let mut out: Vec<(Option<usize>, &OpKind)> = s.setup.iter().map(|o| (None, &o.kind)).collect();
    out.extend(order.iter().map(|&(t, i)| (Some(t), &s.threads[t].ops[i].kind)));
    out
}

pub(super) fn show_result(r: &OpResult) -> String {
    if r.data.is_empty() {
        format!("ret {}", r.ret)
    } else {
        format!("ret {}, bytes {}", r.ret, runs_of(&r.data, 0))
    }
}

/// Bytes as runs, `[0, 4096) 0x42, [4096, 8192) 0x00`.
pub(super) fn runs_of(data: &[u8], base: u64) -> String {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=data.len() {
        if i == data.len() || data[i] != data[start] {
            out.push(format!("[{}, {}) {:#04x}", base + start as u64, base + i as u64, data[start]));
            start = i;
        }
    }
    if out.len() > 8 {
        let n = out.len();
        out.truncate(8);
        out.push(format!("... ({n} runs)"));
    }
    out.join(", ")
}

pub(super) fn show_snapshot(s: &Snapshot) -> String {
    format!("size {}, extents {}", s.size, BlockState::map(&s.blocks))
}

/// The first difference between two views of the same name, in words.
pub(super) fn view_diff(name: &str, model: &[u8], real: &[u8]) -> Option<String> {
    if model == real {
        return None;
    }
    let at = model.iter().zip(real).position(|(a, b)| a != b).unwrap_or(model.len().min(real.len()));
    let end = |d: &[u8]| {
        let v = d.get(at).copied();
        at + d[at.min(d.len())..].iter().take_while(|b| Some(**b) == v).count()
    };
    let (me, re) = (end(model).min(model.len()), end(real).min(real.len()));
    Some(format!(
        "{name}: from byte {at}: model {} ({} bytes), real {} ({} bytes)",
        runs_of(&model[at.min(model.len())..me], at as u64),
        model.len(),
        runs_of(&real[at.min(real.len())..re], at as u64),
        real.len()
    ))
}

pub(super) fn views_diff(model: &FinalViews, real: &FinalViews) -> Vec<String> {
    let mut out = Vec::new();
    if model.size != real.size {
        out.push(format!("size: model {}, real {}", model.size, real.size));
    }
    out.extend(view_diff("page-cache view", &model.cache, &real.cache));
    out.extend(view_diff("durable view", &model.durable, &real.durable));
    out
}

/// A sequential difference: where, and what each side saw.
pub(super) struct SeqDiff {
    /// Index into the run's ops (setup first) of the op after which they differ; `None`: the
    /// final views.
    pub(super) step: Option<usize>,
    /// What differs, one line each.
    pub(super) lines: Vec<String>,
}

pub(super) fn compare_seq(model: &observe::SeqRun, real: &iomc_realfs::SeqRun) -> Option<SeqDiff> {
    for (i, (m, r)) in model.steps.iter().zip(&real.steps).enumerate() {
        let mut lines = Vec::new();
        if m.result != r.result {
            lines.push(format!("returned: model {}, real {}", show_result(&m.result), show_result(&r.result)));
        }
        if m.after != r.snapshot {
            lines.push(format!("after it: model {}", show_snapshot(&m.after)));
            lines.push(format!("          real  {}", show_snapshot(&r.snapshot)));
        }
        if !lines.is_empty() {
            return Some(SeqDiff { step: Some(i), lines });
        }
    }
    let lines = views_diff(&model.views, &real.views);
    (!lines.is_empty()).then_some(SeqDiff { step: None, lines })
}
