//! XFS file operations (fs/xfs/xfs_file.c, xfs_iops.c, xfs_bmap_util.c) as the scenario ops
//! call them.

use super::{Bmap, XFS_BUFFERED_WRITE_IOMAP_OPS, XFS_WRITEBACK_OPS};
use crate::events::What;
use crate::iomap::{filemap_read, iomap_file_buffered_write, iomap_writepages, UserBuf, EINVAL};
use crate::pagecache::{pagecache_isize_extended, truncate_pagecache_range};
use crate::world::Ctx;

/// `xfs_file_buffered_write` (fs/xfs/xfs_file.c, 6.1 and 6.2): IOLOCK exclusive around
/// `iomap_file_buffered_write`. Simplification: `xfs_file_write_checks`' zeroing of the gap
/// between EOF and a write that starts beyond it covers only cached bytes of the EOF block;
/// the ENOSPC/EDQUOT retry is not modelled.
pub fn xfs_file_buffered_write(cx: &Ctx<'_>, pos: u64, buf: UserBuf) -> i64 {
    let w = cx.w;
    let _iolock = w.ip.i_rwsem.write();
    cx.ev("xfs_file_buffered_write", What::Lock { name: "IOLOCK", excl: true });
    zero_cached_eof_tail(cx, pos);
    let ret = iomap_file_buffered_write(cx, pos, buf, &XFS_BUFFERED_WRITE_IOMAP_OPS);
    cx.ev("xfs_file_buffered_write", What::Unlock { name: "IOLOCK" });
    ret
}

/// Zero the cached bytes between EOF and `upto` inside the EOF block (the part of
/// `iomap_zero_range` that matters when the EOF block is cached). Returns `did_zero` as
/// `iomap_zero_range` reports it: bytes were zeroed over a delalloc or written block (6.1
/// `iomap_zero_iter` skips holes and unwritten extents).
fn zero_cached_eof_tail(cx: &Ctx<'_>, upto: u64) -> bool {
    let geo = &cx.w.geo;
    let mut st = cx.w.mapping.i_pages.lock();
    let i_size = st.i_size;
    let end = upto.min(geo.block_up(i_size));
    if upto <= i_size || end <= i_size {
        return false;
    }
    let Some(id) = st.folio_at_pos(geo, i_size) else { return false };
    let f = &mut st.folios[id];
    let fpos = f.pos(geo);
    f.data[(i_size - fpos) as usize..(end - fpos) as usize].fill(0);
    cx.ev("iomap_zero_range", What::Zero { from: i_size, to: end });
    drop(st);
    let block = cx.w.ip.ilock.lock().df[(i_size / geo.block_size) as usize];
    matches!(block, Bmap::Delalloc | Bmap::Written(_))
}

/// `xfs_file_buffered_read` (fs/xfs/xfs_file.c, 6.1 and 6.2): IOLOCK shared around
/// `filemap_read`.
pub fn xfs_file_buffered_read(cx: &Ctx<'_>, pos: u64, len: u64) -> Vec<u8> {
    let _iolock = cx.w.ip.i_rwsem.read();
    filemap_read(cx, pos, len)
}

/// `xfs_vm_writepages` (fs/xfs/xfs_aops.c, 6.1 and 6.2) over `[start, end)`, WB_SYNC_NONE, as
/// the flusher (or `sync_file_range`) calls it; no inode locks.
pub fn xfs_vm_writepages(cx: &Ctx<'_>, start: u64, end: u64) {
    iomap_writepages(cx, &XFS_WRITEBACK_OPS, start, end, false);
}

/// `xfs_file_fsync` → `file_write_and_wait_range` (6.1 and 6.2): WB_SYNC_ALL writeback of the
/// whole file. Simplification: no log force (no crash states are modelled).
pub fn xfs_file_fsync(cx: &Ctx<'_>) {
    iomap_writepages(cx, &XFS_WRITEBACK_OPS, 0, cx.w.geo.span, true);
}

/// `xfs_file_fallocate` mode 0 → `xfs_alloc_file_space` (6.1 and 6.2): IOLOCK and MMAPLOCK
/// exclusive; allocate UNWRITTEN blocks over holes and delalloc in the range; a larger size
/// goes through `xfs_vn_setattr_size` → `xfs_setattr_size` with both locks held.
pub fn xfs_file_fallocate(cx: &Ctx<'_>, offset: u64, len: u64) {
    let w = cx.w;
    let bs = w.geo.block_size;
    let _iolock = w.ip.i_rwsem.write();
    let _mmaplock = w.mapping.invalidate_lock.write();
    {
        let mut core = w.ip.ilock.lock();
        core.update(cx, "xfs_alloc_file_space", offset / bs, (offset + len).div_ceil(bs), |c, b| match b {
            Bmap::Hole | Bmap::Delalloc => Some(Bmap::Unwritten(c.alloc_pblk())),
            _ => None,
        });
    }
    let old = w.mapping.i_pages.lock().i_size;
    if offset + len > old {
        xfs_setattr_size_locked(cx, offset + len);
    }
}

/// `xfs_setattr_size` (fs/xfs/xfs_iops.c, 6.1 and 6.2) for `ftruncate`: takes IOLOCK and
/// MMAPLOCK exclusive, then [`xfs_setattr_size_locked`].
pub fn xfs_setattr_size(cx: &Ctx<'_>, new_size: u64) {
    let w = cx.w;
    let _iolock = w.ip.i_rwsem.write();
    let _mmaplock = w.mapping.invalidate_lock.write();
    xfs_setattr_size_locked(cx, new_size);
}

/// `xfs_setattr_size` (fs/xfs/xfs_iops.c, 6.1 to 6.18) with IOLOCK and MMAPLOCK held: zero
/// the old EOF block's tail when growing (`xfs_zero_range`) or the rest of the new EOF block
/// when shrinking (`iomap_truncate_page`); `truncate_setsize` (i_size, page cache); then, "so
/// that the null files problem cannot expose stale data", write back and wait for
/// `[i_disk_size, new_size)` if anything was zeroed or the in-memory size was ahead of the
/// on-disk one; then the transaction: free the blocks beyond the new EOF
/// (`xfs_itruncate_extents`) and log the new on-disk size. Simplification: the EOF-block
/// zeroing covers cached bytes only.
fn xfs_setattr_size_locked(cx: &Ctx<'_>, new_size: u64) {
    let w = cx.w;
    let geo = &w.geo;
    let old = w.mapping.i_pages.lock().i_size;
    if new_size >= old {
        let did_zeroing = zero_cached_eof_tail(cx, new_size);
        {
            let mut st = w.mapping.i_pages.lock();
            cx.ev("xfs_setattr_size", What::Size { was: old, now: new_size });
            st.i_size = new_size;
        }
        pagecache_isize_extended(cx, old, new_size);
        write_out_to_new_size(cx, did_zeroing, old, new_size);
        return;
    }
    // iomap_truncate_page -> iomap_zero_range: zero the rest of the new EOF block through the
    // page cache, so a later extension cannot expose old bytes. iomap_zero_iter skips HOLE and
    // UNWRITTEN mappings (they read as zeroes on disk), even over dirty cache before 6.12; 6.12
    // first writes back a dirty range over unwritten and zeroes what became written.
    // Simplification: the zeroing is a buffered write of zeroes (same folio lock, validity
    // check and dirtying as iomap_zero_iter's iomap_write_begin).
    let tail_end = geo.block_up(new_size);
    let tail_fsb = (new_size / geo.block_size) as usize;
    let mut tail_block = w.ip.ilock.lock().df[tail_fsb];
    if tail_end > new_size && w.behaviour.zero_range_flush && matches!(tail_block, Bmap::Unwritten(_)) {
        let dirty = {
            let st = w.mapping.i_pages.lock();
            st.folio_at_pos(geo, new_size).is_some_and(|id| st.folios[id].dirty || st.folios[id].writeback)
        };
        if dirty {
            cx.ev("iomap_zero_range", What::Note("dirty cache over unwritten: flush and remap"));
            iomap_writepages(cx, &XFS_WRITEBACK_OPS, new_size, tail_end, true);
            tail_block = w.ip.ilock.lock().df[tail_fsb];
        }
    }
    let mut did_zeroing = false;
    if tail_end > new_size && matches!(tail_block, Bmap::Delalloc | Bmap::Written(_)) {
        let len = tail_end - new_size;
        iomap_file_buffered_write(
            cx,
            new_size,
            UserBuf { fill: 0, length: len, readable: len },
            &XFS_BUFFERED_WRITE_IOMAP_OPS,
        );
        did_zeroing = true;
    }
    {
        let mut st = w.mapping.i_pages.lock();
        cx.ev("xfs_setattr_size", What::Size { was: old, now: new_size });
        st.i_size = new_size;
    }
    truncate_pagecache_range(cx, new_size, geo.span);
    write_out_to_new_size(cx, did_zeroing, old, new_size);
    let mut core = w.ip.ilock.lock();
    let first = new_size.div_ceil(geo.block_size);
    core.update(cx, "xfs_itruncate_extents", first, geo.nr_blocks(), |_, b| (b != Bmap::Hole).then_some(Bmap::Hole));
}

/// The write-out step of `xfs_setattr_size`: `filemap_write_and_wait_range(i_disk_size,
/// new_size - 1)` when `did_zeroing || (new_size > i_disk_size && old_size != i_disk_size)`,
/// then the transaction logs `new_size` as the on-disk size.
fn write_out_to_new_size(cx: &Ctx<'_>, did_zeroing: bool, old: u64, new_size: u64) {
    let disk_size = cx.w.ip.ilock.lock().disk_size;
    if did_zeroing || (new_size > disk_size && old != disk_size) {
        cx.ev("xfs_setattr_size", What::Note("filemap_write_and_wait_range(i_disk_size, new size)"));
        iomap_writepages(cx, &XFS_WRITEBACK_OPS, disk_size, new_size, true);
    }
    cx.w.ip.ilock.lock().disk_size = new_size;
}

/// `xfs_free_file_space` (fs/xfs/xfs_bmap_util.c, 6.1 and 6.2) for FALLOC_FL_PUNCH_HOLE: IOLOCK
/// and MMAPLOCK exclusive; `xfs_flush_unmap_range` writes back and drops the page cache over
/// the range rounded out to max(block, page); the whole blocks inside are unmapped; then
/// `xfs_zero_range` zeroes the partial blocks at the edges through the page cache, skipping
/// holes and unwritten extents (they already read as zeroes).
pub fn xfs_free_file_space(cx: &Ctx<'_>, offset: u64, len: u64) {
    let w = cx.w;
    let geo = &w.geo;
    let bs = geo.block_size;
    let _iolock = w.ip.i_rwsem.write();
    let _mmaplock = w.mapping.invalidate_lock.write();
    let end = offset + len;
    let rounding = bs.max(geo.page_size);
    let (fstart, fend) = (offset / rounding * rounding, end.div_ceil(rounding) * rounding);
    iomap_writepages(cx, &XFS_WRITEBACK_OPS, fstart, fend, true);
    truncate_pagecache_range(cx, fstart, fend.min(geo.span));
    let (inner_start, inner_end) = (geo.block_up(offset), geo.block_down(end));
    if inner_start < inner_end {
        let mut core = w.ip.ilock.lock();
        core.update(cx, "xfs_bunmapi", inner_start / bs, inner_end / bs, |_, b| {
            (b != Bmap::Hole).then_some(Bmap::Hole)
        });
    }
    let i_size = w.mapping.i_pages.lock().i_size;
    let end = end.min(i_size);
    for (s, e) in [(offset, inner_start.min(end)), (inner_end.max(inner_start).max(offset), end)] {
        if s >= e {
            continue;
        }
        let mapped = matches!(w.ip.ilock.lock().df[(s / bs) as usize], Bmap::Written(_) | Bmap::Delalloc);
        if mapped {
            let buf = UserBuf { fill: 0, length: e - s, readable: e - s };
            iomap_file_buffered_write(cx, s, buf, &XFS_BUFFERED_WRITE_IOMAP_OPS);
        }
    }
}

/// `xfs_errortag_set` (fs/xfs/xfs_error.c): set the `drop_writes` tag; from 6.2
/// (6e8af15ccdc4) `xfs_errortag_valid` rejects it with -EINVAL.
pub fn xfs_errortag_set(cx: &Ctx<'_>, name: &str, value: u64) -> Result<(), i64> {
    if name != "drop_writes" || !cx.w.behaviour.drop_writes_errortag {
        return Err(EINVAL);
    }
    cx.w.ip.ilock.lock().drop_writes = value != 0;
    Ok(())
}
