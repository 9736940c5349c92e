//! XFS writeback callbacks (fs/xfs/xfs_aops.c).

use super::zoned::{xfs_zoned_end_io, xfs_zoned_map_blocks};
use super::{iomap_from_extent, xfs_bmap_punch_delalloc_range, Bmap, Fork, InodeCore};
use crate::events::{IomapType, OpDesc, What};
use crate::iomap::{Errno, Ioend, Iomap, WritebackOps, WritepageCtx, EAGAIN};
use crate::world::Ctx;

/// `xfs_writeback_ops`.
#[derive(Clone, Copy, Debug)]
pub struct XfsWritebackOps;

/// The writeback ops.
pub const XFS_WRITEBACK_OPS: XfsWritebackOps = XfsWritebackOps;

impl WritebackOps for XfsWritebackOps {
    /// `xfs_map_blocks` (fs/xfs/xfs_aops.c, 5.0-6.18): reuse the cached mapping if
    /// `xfs_imap_valid` (offset inside and, from 5.1, `data_seq == if_seq`), else look up the
    /// extent; a delalloc extent is allocated by `xfs_bmapi_convert_delalloc`, bumping
    /// `if_seq`: UNWRITTEN from 5.8 ([`Behaviour::delalloc_convert_unwritten`]), WRITTEN before.
    /// A conversion can fail (fault injection: `wpc.inject`), leaving the delalloc in place.
    /// The lookup is one ILOCK step; a delalloc extent is converted in a second one
    /// (`xfs_bmapi_convert_delalloc` takes ILOCK_EXCL in its transaction and looks the extent
    /// up again): in between, anything may change it. Found converted, the new extent is used;
    /// found gone, the data fork's `WARN_ON_ONCE(whichfork != XFS_COW_FORK)` fires and the
    /// mapping fails with -EAGAIN (5.0: `xfs_iomap_write_allocate` → `xfs_bmapi_write`'s
    /// `ASSERT(flags & XFS_BMAPI_COWFORK)` and -EIO; the model returns -EAGAIN for both).
    /// Simplifications: the cached-map check takes the ILOCK (the kernel reads `if_seq` with
    /// READ_ONCE), and the whole delalloc extent is converted at once (the kernel loops while
    /// free space is fragmented); 5.0's `xfs_trim_extent_eof` of the cached mapping is left out
    /// (the model has no post-EOF blocks to trim, and writeback never writes a folio beyond EOF).
    ///
    /// [`Behaviour::delalloc_convert_unwritten`]: crate::Behaviour
    fn map_blocks(&self, cx: &Ctx<'_>, wpc: &mut WritepageCtx, offset: u64, len: u64) -> Result<(), Errno> {
        let geo = &cx.w.geo;
        if geo.zoned {
            // xfs_zoned_writeback_ops.
            return xfs_zoned_map_blocks(cx, wpc, offset, len);
        }
        let b = &cx.w.behaviour;
        let fsb = offset / geo.block_size;
        {
            let core = cx.w.ip.ilock.lock();
            let m = &wpc.iomap;
            // xfs_imap_valid: a COW mapping by range alone; a data mapping also against both
            // forks' sequences (the COW one when the inode has COW extents).
            // (The COW fork is scanned only when its sequence moved: never without reflinks.)
            let seq_ok = m.shared
                || !b.writeback_seq_check
                || (wpc.data_seq == core.if_seq
                    && (wpc.cow_seq == core.cow_seq || core.cf.iter().all(|c| *c == Bmap::Hole)))
                || b.mutated(crate::behaviour::Mutation::WritebackNoRevalidate);
            if m.length > 0 && m.offset <= offset && offset < m.end() && seq_ok {
                return Ok(());
            }
            if core.cf[fsb as usize] != Bmap::Hole {
                // A COW extent at the offset: always through the COW fork.
                drop(core);
                return xfs_map_cow_blocks(cx, wpc, fsb);
            }
            if core.extent_at(fsb).2 != Bmap::Delalloc {
                wpc.iomap = iomap_from_extent(&core, geo, fsb);
                trim_at_next_cow(&core, geo, &mut wpc.iomap, fsb);
                wpc.data_seq = core.if_seq;
                wpc.cow_seq = core.cow_seq;
                return Ok(());
            }
        }
        // xfs_convert_blocks -> xfs_bmapi_convert_delalloc: ILOCK_EXCL, look up again.
        let mut core = cx.w.ip.ilock.lock();
        let (start, len, kind) = core.extent_at(fsb);
        match kind {
            Bmap::Hole => {
                cx.warn(
                    "xfs_bmapi_convert_delalloc",
                    format!("the delalloc extent at {offset} went before conversion"),
                );
                return Err(EAGAIN);
            }
            Bmap::Delalloc => {
                if let Some(e) = wpc.inject {
                    cx.ev("xfs_bmapi_convert_delalloc", What::WritebackError { pos: offset, errno: e });
                    return Err(e);
                }
                // Allocate the whole delalloc extent.
                let unwritten = b.delalloc_convert_unwritten;
                core.update(cx, "xfs_bmapi_convert_delalloc", start, start + len, |c, _| {
                    let p = c.alloc_pblk();
                    Some(if unwritten { Bmap::Unwritten(p) } else { Bmap::Written(p) })
                });
            }
            // "If we find a real extent here we raced with another thread converting the
            // extent. Just return the real extent at this offset."
            _ => {}
        }
        wpc.iomap = iomap_from_extent(&core, geo, fsb);
        trim_at_next_cow(&core, geo, &mut wpc.iomap, fsb);
        wpc.data_seq = core.if_seq;
        wpc.cow_seq = core.cow_seq;
        Ok(())
    }

    /// `xfs_end_ioend` (fs/xfs/xfs_aops.c, 5.0 to 6.18): on a zoned inode map the written
    /// blocks into the data fork (`xfs_zoned_end_io`, 6.15+); convert an unwritten range to written
    /// (`xfs_iomap_write_unwritten`, bumping `if_seq`) and update the on-disk size
    /// (`xfs_setfilesize` → `xfs_new_eof`: min(end of the ioend, i_size now), if past it);
    /// `folio_end_writeback` follows in the caller. From 6.13 the ioend ends at the `end_pos`
    /// its folios were written with ([`Behaviour::ioend_size_clamp`], kernel.md §9.6); before,
    /// at its last block's end. Simplification: i_size is read before the ILOCK (the kernel
    /// reads it with `i_size_read` under it), and only when the ioend reaches past the `end_pos`
    /// sampled at writeback (an EOF block): otherwise the model takes that `end_pos` for it,
    /// which differs only while a truncate has set i_size and not yet logged its own on-disk
    /// size (one scheduling point less per ioend).
    ///
    /// [`Behaviour::ioend_size_clamp`]: crate::Behaviour
    fn end_ioend(&self, cx: &Ctx<'_>, io: &Ioend) {
        let bs = cx.w.geo.block_size;
        if cx.w.geo.zoned {
            xfs_zoned_end_io(cx, io.offset, io.size, io.addr);
        } else if io.shared {
            xfs_reflink_end_cow(cx, io.offset, io.size);
        }
        let past_end_pos = io.offset + io.size > io.i_size;
        let i_size_now = if past_end_pos { cx.w.mapping.i_pages.lock().i_size } else { io.i_size };
        let mut core = cx.w.ip.ilock.lock();
        if io.unwritten && !io.shared {
            core.update(cx, "xfs_iomap_write_unwritten", io.offset / bs, (io.offset + io.size) / bs, |_, b| match b {
                Bmap::Unwritten(p) => Some(Bmap::Written(p)),
                _ => None,
            });
        }
        let io_end =
            if cx.w.behaviour.ioend_size_clamp { (io.offset + io.size).min(io.i_size) } else { io.offset + io.size };
        let new_eof = io_end.min(i_size_now);
        if new_eof > core.disk_size {
            core.disk_size = new_eof;
        }
    }

    /// `xfs_discard_folio` (fs/xfs/xfs_aops.c): punch the folio's delalloc from the failing
    /// `pos`: to `round_up(pos, folio_size)` in 6.2 (7348b322332d; empty when `pos` is
    /// folio-aligned), to the folio's end in 6.1 (by block count) and from 6.3 (8ac5b996bf51).
    /// The folio's data may now be lost, as the error reported to the caller says: the oracle
    /// is told so for `[folio_pos, folio_pos + folio_size)`.
    fn discard_folio(&self, cx: &Ctx<'_>, folio_pos: u64, folio_size: u64, pos: u64, error: Errno) {
        let end = if cx.w.behaviour.discard_folio_round_up {
            pos.div_ceil(folio_size) * folio_size
        } else {
            folio_pos + folio_size
        };
        let h = cx.w.rec.invoke(cx.actor, OpDesc::Discard { offset: folio_pos, length: folio_size });
        xfs_bmap_punch_delalloc_range(cx, pos, end);
        cx.w.rec.respond(h, error, Vec::new());
    }
}

/// Trim a data-fork writeback mapping at the next COW extent after `fsb` (`xfs_map_blocks`:
/// "trim the mapping to the nearest shared extent boundary"), so that block goes through the
/// COW fork.
fn trim_at_next_cow(core: &InodeCore, geo: &crate::world::Geometry, m: &mut Iomap, fsb: u64) {
    let bs = geo.block_size;
    let end_fsb = m.end() / bs;
    if let Some(c) = (fsb + 1..end_fsb).find(|c| core.cf[*c as usize] != Bmap::Hole) {
        m.length = c * bs - m.offset;
    }
}

/// The COW branch of `xfs_map_blocks` (fs/xfs/xfs_aops.c, 6.6 to 6.18): sample the COW fork's
/// sequence, convert a COW delalloc extent (`xfs_bmapi_convert_delalloc(XFS_COW_FORK)`, a second
/// ILOCK step: allocated UNWRITTEN, IOMAP_F_SHARED) and map the COW extent. Found gone in
/// between (I/O completion moved it to the data fork), the kernel retries once from the top;
/// the model maps what is there now.
fn xfs_map_cow_blocks(cx: &Ctx<'_>, wpc: &mut WritepageCtx, fsb: u64) -> Result<(), Errno> {
    let geo = &cx.w.geo;
    let bs = geo.block_size;
    let mut core = cx.w.ip.ilock.lock();
    let (start, len, kind) = core.fork_extent_at(Fork::Cow, fsb);
    match kind {
        Bmap::Hole => {
            wpc.iomap = iomap_from_extent(&core, geo, fsb);
            wpc.data_seq = core.if_seq;
            wpc.cow_seq = core.cow_seq;
            return Ok(());
        }
        Bmap::Delalloc => {
            if let Some(e) = wpc.inject {
                cx.ev("xfs_bmapi_convert_delalloc", What::WritebackError { pos: fsb * bs, errno: e });
                return Err(e);
            }
            core.update_fork(cx, "xfs_bmapi_convert_delalloc", Fork::Cow, start, start + len, |c, _| {
                Some(Bmap::Unwritten(c.alloc_pblk()))
            });
        }
        _ => {}
    }
    let (start, len, kind) = core.fork_extent_at(Fork::Cow, fsb);
    let (ty, p) = match kind {
        Bmap::Unwritten(p) => (IomapType::Unwritten, p),
        Bmap::Written(p) => (IomapType::Mapped, p),
        _ => return Err(EAGAIN),
    };
    wpc.iomap = Iomap {
        offset: start * bs,
        length: len * bs,
        ty,
        addr: p * bs,
        shared: true,
        cookie: core.iomap_sequence(true),
        ..Iomap::NONE
    };
    wpc.cow_seq = core.cow_seq;
    Ok(())
}

/// `xfs_reflink_end_cow` (fs/xfs/xfs_reflink.c, 6.11 to 6.18, with 6.7's trim to the I/O
/// range) for a completed ioend over `[offset, offset+size)`: move each COW block into the data
/// fork as written, dropping the old mapping (one owner fewer of a shared block; data-fork
/// delalloc is removed), then remove it from the COW fork; both forks' sequences move. One ILOCK
/// step per call (the kernel commits one transaction per extent under one ILOCK hold each).
/// `xfs_reflink_convert_cow` (the COW extent marked written before submission) is folded in:
/// COW blocks are invisible to readers until this remap.
pub fn xfs_reflink_end_cow(cx: &Ctx<'_>, offset: u64, size: u64) {
    let bs = cx.w.geo.block_size;
    let (first, last) = (offset / bs, (offset + size).div_ceil(bs));
    let mut core = cx.w.ip.ilock.lock();
    let mut fsb = first;
    core.update(cx, "xfs_reflink_end_cow", first, last, |c, old| {
        let this = fsb as usize;
        fsb += 1;
        let (Bmap::Unwritten(p) | Bmap::Written(p)) = c.cf[this] else { return None };
        if let Bmap::Written(q) | Bmap::Unwritten(q) = old {
            c.refcount_dec(q);
        }
        Some(Bmap::Written(p))
    });
    core.update_fork(cx, "xfs_reflink_end_cow", Fork::Cow, first, last, |_, b| {
        matches!(b, Bmap::Unwritten(_) | Bmap::Written(_)).then_some(Bmap::Hole)
    });
}
