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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::writes;
    use iomc_models::xfs::{Bmap, CrashImage};
    use iomc_models::{Behaviour, Geometry};
    use iomc_sync::Backend;

    fn rec(desc: OpDesc, inv: u64, resp: u64, result: i64) -> OpRecord {
        OpRecord { actor: 1, desc, inv, resp, result, data: Vec::new() }
    }

    fn world_with(content: Vec<u8>) -> World {
        let geo = Geometry::new(4096, 4096, vec![1], 8192);
        let w = World::new(Backend::Std, geo, Behaviour::preset("linux-6.13").unwrap());
        let disk_size = content.len() as u64;
        *w.crash.lock().unwrap() = Some(CrashImage { df: vec![Bmap::Hole; 2], disk_size, content });
        w
    }

    /// The gap an extension opened held zero; bytes a write covered before the extension did
    /// not (a post-EOF tail's zeroes are not file data).
    #[test]
    fn zero_is_held_only_where_an_extension_opened_a_gap() {
        let ops = [
            rec(OpDesc::Write { offset: 3000, length: 100, fill: 0x22 }, 1, 4, 100),
            rec(OpDesc::Extend { from: 1000, to: 3100 }, 3, 3, 0),
        ];
        let ws = writes(&ops, 4096);
        let ext = [(1000, 3100, 3)];
        assert_eq!(held_values(&ws, &ext, 2000), [0], "the gap [1000, 3000) opened as zeroes");
        assert_eq!(held_values(&ws, &ext, 3050), [0x22], "the write began before the extension");
    }

    /// Below the on-disk size, a zero that was never file data is zeroed-data; after an fsync,
    /// an older value where the fsynced write should be is lost-write.
    #[test]
    fn crash_view_classes() {
        let mut ops = vec![
            rec(OpDesc::Write { offset: 0, length: 2000, fill: 0x11 }, 1, 3, 2000),
            rec(OpDesc::Extend { from: 0, to: 2000 }, 2, 2, 0),
            rec(OpDesc::Neutral("crash"), 10, 11, 0),
        ];
        let mut content = vec![0x11; 1000];
        content.extend(vec![0u8; 1000]);
        let w = world_with(content);
        let v = check(&w, &ops, &writes(&ops, 4096)).expect("zeroes that were never file data");
        assert_eq!(v.0, Verdict::ZeroedData, "{}", v.1);
        let w = world_with(vec![0x11; 2000]);
        assert!(check(&w, &ops, &writes(&ops, 4096)).is_none(), "the data itself is fine");
        // An fsync returned, then a second write, then the crash: the disk may hold either.
        ops.insert(2, rec(OpDesc::Neutral("fsync"), 4, 5, 0));
        ops.insert(3, rec(OpDesc::Write { offset: 0, length: 2000, fill: 0x33 }, 6, 7, 2000));
        let w = world_with(vec![0x11; 2000]);
        assert!(check(&w, &ops, &writes(&ops, 4096)).is_none());
        // The first write was fsynced: a disk of 1000 bytes lost it.
        let w = world_with(vec![0x11; 1000]);
        let v = check(&w, &ops, &writes(&ops, 4096)).expect("fsynced data beyond the on-disk size");
        assert_eq!(v.0, Verdict::LostWrite, "{}", v.1);
    }
}
