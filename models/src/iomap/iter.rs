//! `iomap_iter` (fs/iomap/iter.c).

use super::{Errno, Iomap, IomapOps, IterFlags};
use crate::world::Ctx;

/// `struct iomap_iter` (srcmap omitted: it is a hole for non-COW XFS writes, so
/// `iomap_iter_srcmap` is the iomap itself).
#[derive(Clone, Copy, Debug)]
pub struct IomapIter {
    /// Current file position.
    pub pos: u64,
    /// Bytes left.
    pub len: u64,
    /// Bytes done in the current mapping, or a negative errno.
    pub processed: i64,
    /// IOMAP_WRITE, IOMAP_FAULT.
    pub flags: IterFlags,
    /// The current mapping.
    pub iomap: Iomap,
}

impl IomapIter {
    /// A new iterator over `[pos, pos+len)`.
    pub fn new(pos: u64, len: u64, flags: IterFlags) -> IomapIter {
        IomapIter { pos, len, processed: 0, flags, iomap: Iomap::NONE }
    }
}

/// `iomap_length` (include/linux/iomap.h): bytes of the current mapping left for this iteration.
pub fn iomap_length(iter: &IomapIter) -> u64 {
    let end = match iter.iomap.srcmap {
        Some(s) => iter.iomap.end().min(s.offset + s.length),
        None => iter.iomap.end(),
    };
    iter.len.min(end.saturating_sub(iter.pos))
}

/// `iomap_iter_advance` (fs/iomap/iter.c): 6.1 stops on no progress; 6.2 (d7b64041164c)
/// remaps the same position when the mapping went stale with no progress.
fn iomap_iter_advance(iter: &mut IomapIter, stale_rule: bool) -> i64 {
    let stale = stale_rule && iter.iomap.stale;
    if iter.iomap.length > 0 {
        if iter.processed < 0 {
            return iter.processed;
        }
        if iter.processed == 0 && !stale {
            return 0;
        }
        iter.pos += iter.processed as u64;
        iter.len -= iter.processed as u64;
        if iter.len == 0 {
            return 0;
        }
    }
    iter.processed = 0;
    iter.iomap = Iomap::NONE;
    1
}

/// `iomap_iter` (fs/iomap/iter.c, 6.1 and 6.2): finish the previous mapping with
/// `->iomap_end`, advance, and map the next range with `->iomap_begin`. Returns 1 to go on,
/// 0 when done, or a negative errno.
pub fn iomap_iter(cx: &Ctx<'_>, iter: &mut IomapIter, ops: &dyn IomapOps) -> Result<bool, Errno> {
    if iter.iomap.length > 0 {
        let written = iter.processed.max(0) as u64;
        let len = super::iomap_length(iter);
        if let Some(Err(e)) = ops.iomap_end(cx, iter.pos, len, written, iter.flags, &iter.iomap) {
            if iter.processed == 0 {
                return Err(e);
            }
        }
    }
    let b = &cx.w.behaviour;
    let ret = iomap_iter_advance(iter, b.iomap_valid && !b.mutated(crate::behaviour::Mutation::StaleEndsWrite));
    if ret < 0 {
        return Err(ret as Errno);
    }
    if ret == 0 {
        return Ok(false);
    }
    iter.iomap = ops.iomap_begin(cx, iter.pos, iter.len, iter.flags)?;
    if !iomap_iter_done(cx, iter) {
        return Err(super::EIO);
    }
    Ok(true)
}

/// `iomap_iter_done` (fs/iomap/iter.c): the WARN_ONs on the new mapping. Simplification: a
/// mapping that trips them also ends the iteration with -EIO, so the model cannot loop.
fn iomap_iter_done(cx: &Ctx<'_>, iter: &IomapIter) -> bool {
    let m = &iter.iomap;
    let bad = m.offset > iter.pos || m.length == 0 || m.end() <= iter.pos || m.stale;
    if bad {
        cx.warn("iomap_iter_done", format!("bad mapping {m:?} at pos {}", iter.pos));
    }
    !bad
}
