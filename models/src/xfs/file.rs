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
/// `iomap_zero_range` that matters when the EOF block is cached).
fn zero_cached_eof_tail(cx: &Ctx<'_>, upto: u64) {
    let geo = &cx.w.geo;
    let mut st = cx.w.mapping.i_pages.lock();
    let i_size = st.i_size;
    let end = upto.min(geo.block_up(i_size));
    if upto <= i_size || end <= i_size {
        return;
    }
    if let Some(id) = st.folio_at_pos(geo, i_size) {
        let f = &mut st.folios[id];
        let fpos = f.pos(geo);
        f.data[(i_size - fpos) as usize..(end - fpos) as usize].fill(0);
        cx.ev("iomap_zero_range", What::Zero { from: i_size, to: end });
    }
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
/// exclusive; allocate UNWRITTEN blocks over holes and delalloc in the range; extend i_size.
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
    let old = {
        let mut st = w.mapping.i_pages.lock();
        let old = st.i_size;
        if offset + len > old {
            cx.ev("xfs_file_fallocate", What::Size { was: old, now: offset + len });
            st.i_size = offset + len;
        }
        old
    };
    // xfs_vn_setattr_size -> truncate_setsize
    pagecache_isize_extended(cx, old, offset + len);
}

/// `xfs_setattr_size` (fs/xfs/xfs_iops.c, 6.1 and 6.2): IOLOCK and MMAPLOCK exclusive; zero
/// the rest of the new EOF block, set i_size, `truncate_pagecache` and free the blocks beyond
/// the new EOF (`xfs_itruncate_extents`). Growing zeroes the old EOF block's cached tail.
/// Simplification: the EOF-block zeroing covers cached bytes only.
pub fn xfs_setattr_size(cx: &Ctx<'_>, new_size: u64) {
    let w = cx.w;
    let geo = &w.geo;
    let _iolock = w.ip.i_rwsem.write();
    let _mmaplock = w.mapping.invalidate_lock.write();
    let old = w.mapping.i_pages.lock().i_size;
    if new_size >= old {
        zero_cached_eof_tail(cx, new_size);
        {
            let mut st = w.mapping.i_pages.lock();
            cx.ev("xfs_setattr_size", What::Size { was: old, now: new_size });
            st.i_size = new_size;
        }
        pagecache_isize_extended(cx, old, new_size);
        return;
    }
    // iomap_truncate_page: zero the rest of the new EOF block through the page cache, so a later
    // extension cannot expose old bytes from disk. Simplification: done with a buffered write
    // of zeroes (iomap_zero_range would skip holes and unwritten extents instead).
    let tail_end = geo.block_up(new_size);
    if tail_end > new_size && w.ip.ilock.lock().df[(new_size / geo.block_size) as usize] != Bmap::Hole {
        let len = tail_end - new_size;
        iomap_file_buffered_write(
            cx,
            new_size,
            UserBuf { fill: 0, length: len, readable: len },
            &XFS_BUFFERED_WRITE_IOMAP_OPS,
        );
    }
    {
        let mut st = w.mapping.i_pages.lock();
        cx.ev("xfs_setattr_size", What::Size { was: old, now: new_size });
        st.i_size = new_size;
    }
    truncate_pagecache_range(cx, new_size, geo.span);
    let mut core = w.ip.ilock.lock();
    let first = new_size.div_ceil(geo.block_size);
    core.update(cx, "xfs_itruncate_extents", first, geo.nr_blocks(), |_, b| (b != Bmap::Hole).then_some(Bmap::Hole));
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
