//! The crash view: what the file holds after a power failure at the first `crash` op and log
//! recovery (models/src/xfs/crash.rs says what the model assumes about the log).
//!
//! Two rules, both about content (kernel.md §14: a rule on the on-disk size alone, "the
//! on-disk size was once an in-memory size", fires falsely from 6.13 on, where i_size moves per
//! folio and an ioend ends at a block boundary, so there is none):
//! * below the on-disk size no byte holds a value it never held as file data before the
//!   crash: poison (never-written disk) and other values are `stale-data`, zeroes are
//!   `zeroed-data`. A byte held zero as file data if a zeroing op covered it, or if i_size grew
//!   past it (an `Extend` instant) before any write that covers it began: the gap an extension
//!   opened. Zeroes a folio's post-EOF tail held do not count.
//! * if an `fsync` returned before the crash, every byte a write that had completed before
//!   that fsync began covers reads that write's value or a later one (`lost-write`), and the
//!   on-disk size covers it.

use crate::oracle::{allowed, class_of, first_not_in, hex_list, Wr};
use iomc_models::{OpDesc, OpRecord, World};
use iomc_scenario::Verdict;

/// Check the crash view, if a `crash` op ran. `ws` are the history's writes.
pub(crate) fn check(w: &World, ops: &[OpRecord], ws: &[Wr]) -> Option<(Verdict, String, Vec<String>)> {
    let img = w.crash.lock().unwrap_or_else(|e| e.into_inner()).clone()?;
    let t = ops.iter().find(|r| r.desc == OpDesc::Neutral("crash"))?.inv;
    let before: Vec<Wr> = ws.iter().filter(|x| x.inv < t).cloned().collect();
    let extends: Vec<(u64, u64, u64)> = ops
        .iter()
        .filter_map(|r| match r.desc {
            OpDesc::Extend { from, to } if r.inv < t => Some((from, to, r.inv)),
            _ => None,
        })
        .collect();
    let fsync_inv = ops.iter().filter(|r| r.desc == OpDesc::Neutral("fsync") && r.resp < t).map(|r| r.inv).max();
    let size = img.disk_size;
    // fsync'd data must be inside the on-disk size.
    if let Some(f) = fsync_inv {
        let need = before.iter().filter(|x| x.resp < f).map(|x| x.def_end).max().unwrap_or(0);
        if need > size {
            let s = format!(
                "lost-write: crash view: on-disk size {size}, but data written before an fsync that returned \
                 before the crash reaches {need}"
            );
            return Some((Verdict::LostWrite, s, Vec::new()));
        }
    }
    // The rules are constant between op boundaries: evaluate them per segment.
    let mut cuts = vec![0, size];
    for x in &before {
        cuts.extend([x.start, x.def_end, x.may_end]);
    }
    for (from, to, _) in &extends {
        cuts.extend([*from, *to]);
    }
    cuts.retain(|c| *c <= size);
    cuts.sort_unstable();
    cuts.dedup();
    for seg in cuts.windows(2) {
        let (s, e) = (seg[0], seg[1]);
        let held = held_values(&before, &extends, s);
        let data = &img.content[s as usize..e as usize];
        if let Some(i) = first_not_in(data, &held) {
            let (a, found) = (s + i as u64, data[i]);
            let end = a + data[i..].iter().take_while(|b| **b == found).count() as u64;
            let verdict = class_of(&before, a, found);
            let s = format!(
                "{verdict}: crash view (on-disk size {size}): bytes [{a}, {end}) hold {found:#04x}, which they \
                 never held as file data before the crash (held: {})",
                hex_list(&held)
            );
            return Some((verdict, s, Vec::new()));
        }
        if let Some(f) = fsync_inv {
            let (vals, _) = allowed(&before, s, f, t);
            if let Some(i) = first_not_in(data, &vals) {
                let (a, found) = (s + i as u64, data[i]);
                let s = format!(
                    "lost-write: crash view: byte {a} holds {found:#04x}, expected {} (written before an fsync \
                     that returned before the crash)",
                    hex_list(&vals)
                );
                return Some((Verdict::LostWrite, s, Vec::new()));
            }
        }
    }
    None
}

/// Values byte `b` held as file data before the crash: every covering write's value, and zero
/// if a zeroing op covered it or an extension reached past it before any covering write began.
fn held_values(before: &[Wr], extends: &[(u64, u64, u64)], b: u64) -> Vec<u8> {
    let covering = || before.iter().filter(|x| x.start <= b && b < x.may_end);
    let mut vals: Vec<u8> = Vec::new();
    for x in covering() {
        if !vals.contains(&x.value) {
            vals.push(x.value);
        }
    }
    let opened_zero = extends.iter().any(|&(from, to, at)| from <= b && b < to && !covering().any(|x| x.inv < at));
    if opened_zero && !vals.contains(&0) {
        vals.push(0);
    }
    vals
}
