//! Zoned XFS (6.15 to 6.18): data on a zoned RT device is never overwritten in place. Every
//! buffered write reserves blocks up front (`struct xfs_zone_alloc_ctx`), creates COW-fork
//! delalloc (`xfs_zoned_buffered_write_iomap_begin`), and writeback removes that delalloc at
//! submission (`xfs_zoned_map_blocks`) and maps the freshly written blocks into the data fork
//! at I/O completion (`xfs_zoned_end_io`). Between the two, the range is a hole in both forks
//! with its data in flight: kernel.md §9.8. A write whose mapping went stale may come back
//! for blocks its reservation no longer covers: §9.9.
//!
//! Simplifications: no free-space limit (a reservation always succeeds, so
//! `iov_iter_truncate` never shortens a write), no zone GC, one open zone; blocks are taken
//! from it when `xfs_zoned_map_blocks` maps them rather than at bio submission (invisible to
//! every other actor either way until `xfs_zoned_end_io` maps them).

use super::{Bmap, Fork, XfsBufferedWriteIomapOps, XFS_WRITEBACK_OPS};
use crate::events::{IomapType, What};
use crate::iomap::filemap_write_and_wait_range;
use crate::iomap::WritepageCtx;
use crate::iomap::{iomap_file_buffered_write, Errno, Iomap, IterFlags, SrcMap, UserBuf, EIO};
use crate::pagecache::filemap_range_needs_writeback;
use crate::world::Ctx;
use std::cell::Cell;

/// `struct xfs_zone_alloc_ctx`: the blocks one operation reserved (`reserved_blocks`), private
/// to the thread running it.
#[derive(Debug, Default)]
pub struct ZoneAllocCtx {
    /// `ac->reserved_blocks`.
    pub reserved_blocks: Cell<u64>,
    /// Not kernel state: the write was cut short because its reservation ran out (the kernel's
    /// ratelimited "Short write ... due to three-way race" warning), so the harness does not
    /// call the short return a model bug.
    pub ran_short: Cell<bool>,
}

/// `xfs_zoned_space_reserve` (fs/xfs/xfs_zone_space_resv.c, 6.15 to 6.18): reserve `count_fsb`
/// blocks for one operation. Simplification: always succeeds (no free-space accounting).
pub fn xfs_zoned_space_reserve(count_fsb: u64) -> ZoneAllocCtx {
    ZoneAllocCtx { reserved_blocks: Cell::new(count_fsb), ran_short: Cell::new(false) }
}

/// `xfs_file_buffered_write_zoned` (fs/xfs/xfs_file.c, 6.15 to 6.18): reserve
/// `XFS_B_TO_FSB(count) + 1 + 2` blocks before the IOLOCK ("sloppily round up", plus one each
/// for zeroing the old EOF block and the new start block), IOLOCK exclusive,
/// `xfs_file_write_checks` (EOF zeroing with the same reservation), then
/// `iomap_file_buffered_write` with the reservation as `iter->private`. Returns what the write
/// returned and whether its reservation ran out (§9.9).
pub fn xfs_file_buffered_write_zoned(cx: &Ctx<'_>, pos: u64, buf: UserBuf) -> (i64, bool) {
    let w = cx.w;
    let ac = xfs_zoned_space_reserve(buf.length.div_ceil(w.geo.block_size) + 1 + 2);
    let ops = XfsBufferedWriteIomapOps { ac: Some(&ac) };
    let _iolock = w.ip.i_rwsem.write();
    cx.ev("xfs_file_buffered_write_zoned", What::Lock { name: "IOLOCK", excl: true });
    let ret = match super::file::xfs_file_write_zero_eof(cx, pos, &ops) {
        Err(e) => e,
        Ok(()) => iomap_file_buffered_write(cx, pos, buf, &ops),
    };
    cx.ev("xfs_file_buffered_write_zoned", What::Unlock { name: "IOLOCK" });
    (ret, ac.ran_short.get())
}

/// `xfs_zoned_buffered_write_iomap_begin` (fs/xfs/xfs_iomap.c, 6.18; 7.1 with
/// [`Behaviour::zoned_zero_hole_flush`]), under ILOCK_EXCL. An unaligned write or a zeroing
/// looks up the data fork for the source map (and stops at its end); zeroing over a data-fork
/// hole reports a hole (6.18: before the COW fork is looked at, "We never need to allocate
/// blocks for zeroing a hole"; 7.1: only when no COW extent is there either, and after writing
/// back and waiting for dirty or in-flight cache over it, then looking again: 2f46c239fce6,
/// kernel.md §9.8). An existing COW extent at `pos` is returned as is; otherwise COW delalloc
/// is reserved up to the end of the range or the next COW extent, taken from the operation's
/// reservation: short of blocks, the write is cut to what is left (-EIO when nothing is),
/// kernel.md §9.9 ([`Behaviour::zoned_short_write`]). Always IOMAP_F_SHARED; NEW when reserved;
/// the cookie covers both forks.
///
/// [`Behaviour::zoned_zero_hole_flush`]: crate::Behaviour
/// [`Behaviour::zoned_short_write`]: crate::Behaviour
pub fn xfs_zoned_buffered_write_iomap_begin(
    cx: &Ctx<'_>,
    pos: u64,
    len: u64,
    flags: IterFlags,
    ac: &ZoneAllocCtx,
) -> Result<Iomap, Errno> {
    let w = cx.w;
    let geo = &w.geo;
    let b = &w.behaviour;
    let bs = geo.block_size;
    let fsb = pos / bs;
    loop {
        // restart:
        let mut core = w.ip.ilock.lock();
        let mut end_fsb = (pos + len).div_ceil(bs).min(geo.nr_blocks());
        let mut srcmap = None;
        let mut data_hole = false;
        if !pos.is_multiple_of(bs) || !(pos + len).is_multiple_of(bs) || flags.zero {
            let (s, l, d) = core.extent_at(fsb);
            end_fsb = end_fsb.min(s + l);
            if d == Bmap::Hole {
                data_hole = true;
                if flags.zero && !b.zoned_zero_hole_flush {
                    // 6.18: xfs_hole_to_iomap at once.
                    return Ok(hole(cx, &core, fsb, end_fsb));
                }
            } else {
                let m = super::iomap_from_extent(&core, geo, fsb);
                let start = fsb * bs;
                srcmap = Some(SrcMap {
                    offset: start,
                    length: end_fsb * bs - start,
                    ty: m.ty,
                    addr: m.addr + start - m.offset,
                });
            }
        }
        let (cstart, clen, cb) = core.fork_extent_at(Fork::Cow, fsb);
        if cb != Bmap::Hole {
            // done: the COW extent found, whole.
            return Ok(cow_iomap(cx, &core, cstart, clen, false, srcmap));
        }
        // Cap at the next COW extent.
        if let Some(next) = (fsb + 1..end_fsb).find(|c| core.cf[*c as usize] != Bmap::Hole) {
            end_fsb = next;
        }
        if flags.zero && data_hole {
            // 7.1: "A window exists where we might observe a hole in both forks with valid
            // data in cache" (writeback removed the COW delalloc, completion has not mapped
            // the data fork yet): write back and wait for it, then look again.
            if filemap_range_needs_writeback(cx, pos, pos + len) {
                drop(core);
                let note = "hole in both forks over dirty or in-flight cache: flush and restart";
                cx.ev("xfs_zoned_buffered_write_iomap_begin", What::Note(note));
                // No fault injected: nothing fails.
                let _ = filemap_write_and_wait_range(cx, &XFS_WRITEBACK_OPS, pos, pos + len);
                continue;
            }
            return Ok(hole(cx, &core, fsb, end_fsb));
        }
        let mut count_fsb = end_fsb.max(fsb + 1) - fsb;
        let reserved = ac.reserved_blocks.get();
        if count_fsb > reserved {
            if b.zoned_short_write {
                cx.ev(
                    "xfs_zoned_buffered_write_iomap_begin",
                    What::Note("Short write due to three-way race with write fault and direct I/O"),
                );
                ac.ran_short.set(true);
                count_fsb = reserved;
                if count_fsb == 0 {
                    return Err(EIO);
                }
            } else {
                cx.warn(
                    "xfs_zoned_buffered_write_iomap_begin",
                    format!("{count_fsb} blocks reserved with {reserved} left in the write's reservation: ac->reserved_blocks underflows"),
                );
            }
        }
        core.update_fork(cx, "xfs_bmapi_reserve_delalloc", Fork::Cow, fsb, fsb + count_fsb, |_, _| {
            Some(Bmap::Delalloc)
        });
        ac.reserved_blocks.set(reserved.saturating_sub(count_fsb));
        let (cstart, clen, _) = core.fork_extent_at(Fork::Cow, fsb);
        // The new reservation only (a neighbouring COW extent may have merged with it).
        let (start, end) = (cstart.max(fsb), (cstart + clen).min(fsb + count_fsb));
        return Ok(cow_iomap(cx, &core, start, end - start, true, srcmap));
    }
}

/// `xfs_hole_to_iomap` over `[fsb, end_fsb)`.
fn hole(cx: &Ctx<'_>, core: &super::InodeCore, fsb: u64, end_fsb: u64) -> Iomap {
    let bs = cx.w.geo.block_size;
    let m = Iomap { offset: fsb * bs, length: (end_fsb.max(fsb + 1) - fsb) * bs, cookie: core.if_seq, ..Iomap::NONE };
    trace(cx, &m);
    m
}

/// `xfs_bmbt_to_iomap` of a COW-fork delalloc extent, IOMAP_F_SHARED (and NEW when `new`),
/// cookie `xfs_iomap_inode_sequence(ip, IOMAP_F_SHARED)`.
fn cow_iomap(cx: &Ctx<'_>, core: &super::InodeCore, start: u64, len: u64, new: bool, srcmap: Option<SrcMap>) -> Iomap {
    let bs = cx.w.geo.block_size;
    let m = Iomap {
        offset: start * bs,
        length: len * bs,
        ty: IomapType::Delalloc,
        new,
        shared: true,
        cookie: core.iomap_sequence(true),
        srcmap,
        ..Iomap::NONE
    };
    trace(cx, &m);
    m
}

fn trace(cx: &Ctx<'_>, m: &Iomap) {
    let what = What::Iomap { offset: m.offset, length: m.length, ty: m.ty, new: m.new, cookie: m.cookie };
    cx.ev("xfs_zoned_buffered_write_iomap_begin", what);
}

/// `xfs_zoned_map_blocks` (fs/xfs/xfs_aops.c, 6.15 to 6.18) for the dirty range
/// `[offset, offset + len)` of a locked folio: under ILOCK_EXCL, a COW-fork hole is a hole
/// ("truncate can remove delalloc extents underneath us"); COW delalloc is deleted over the
/// range (`xfs_bmap_del_extent_delay(XFS_BMAPI_REMAP)`, bumping the COW fork's sequence) and
/// the range is mapped for an anonymous write (IOMAP_F_ANON_WRITE). No sequence check: "we
/// never map outside folios that are locked or marked as under writeback". The mapping is cut
/// at the range's end, as `iomap_writeback_range` consumes it.
pub fn xfs_zoned_map_blocks(cx: &Ctx<'_>, wpc: &mut WritepageCtx, offset: u64, len: u64) -> Result<(), Errno> {
    let bs = cx.w.geo.block_size;
    let m = &wpc.iomap;
    if m.length > 0 && m.offset <= offset && offset < m.end() {
        // Still inside the mapping of this dirty range.
        return Ok(());
    }
    let fsb = offset / bs;
    let end_fsb = (offset + len).div_ceil(bs);
    let mut core = cx.w.ip.ilock.lock();
    let (cstart, clen, cb) = core.fork_extent_at(Fork::Cow, fsb);
    if cb == Bmap::Hole {
        let end = (cstart + clen).min(end_fsb);
        wpc.iomap = Iomap { offset, length: end * bs - offset, ..Iomap::NONE };
        return Ok(());
    }
    let end = (cstart + clen).min(end_fsb);
    core.update_fork(cx, "xfs_bmap_del_extent_delay", Fork::Cow, fsb, end, |_, b| {
        (b == Bmap::Delalloc).then_some(Bmap::Hole)
    });
    let count = end - fsb;
    let p = core.next_pblk;
    core.next_pblk += count;
    wpc.iomap = Iomap { offset, length: count * bs, ty: IomapType::Mapped, addr: p * bs, ..Iomap::NONE };
    cx.ev(
        "xfs_zoned_map_blocks",
        What::Note("COW delalloc removed: the range is a hole in both forks until I/O completion"),
    );
    Ok(())
}

/// `xfs_zoned_end_io` → `xfs_zoned_map_extent` (fs/xfs/xfs_zone_alloc.c, 6.15 to 6.18): map the
/// written blocks `[offset, offset + size)` at disk address `addr` into the data fork, freeing
/// what was there (`old_startblock` is NULLFSBLOCK for a write: no GC race check). One ILOCK
/// step (the kernel commits one transaction per data-fork extent it replaces).
pub fn xfs_zoned_end_io(cx: &Ctx<'_>, offset: u64, size: u64, addr: u64) {
    let bs = cx.w.geo.block_size;
    let (first, last) = (offset / bs, (offset + size).div_ceil(bs));
    let p0 = addr / bs;
    let mut core = cx.w.ip.ilock.lock();
    let mut fsb = first;
    core.update(cx, "xfs_zoned_end_io", first, last, |_, _| {
        let p = p0 + (fsb - first);
        fsb += 1;
        Some(Bmap::Written(p))
    });
}
