//! XFS file operations (fs/xfs/xfs_file.c, xfs_iops.c, xfs_bmap_util.c) as the scenario ops
//! call them.

use super::zoned::{xfs_file_buffered_write_zoned, xfs_zoned_space_reserve};
use super::{inode_dio_wait, Bmap, Fork, XfsBufferedWriteIomapOps, XFS_BUFFERED_WRITE_IOMAP_OPS, XFS_WRITEBACK_OPS};
use crate::events::What;
use crate::iomap::filemap_write_and_wait_range;
use crate::iomap::{
    filemap_read, iomap_file_buffered_write, iomap_truncate_page, iomap_writepages, iomap_zero_range, Errno, UserBuf,
    EINVAL,
};
use crate::pagecache::{pagecache_isize_extended, truncate_pagecache_range};
use crate::world::Ctx;

/// `xfs_file_buffered_write` (fs/xfs/xfs_file.c, 6.1 to 6.18): IOLOCK exclusive,
/// `xfs_file_write_checks` (zeroing the gap between EOF and a write that starts beyond it),
/// then `iomap_file_buffered_write`; a zoned inode goes to `xfs_file_buffered_write_zoned`.
/// Simplification: the ENOSPC/EDQUOT retry is not modelled.
pub fn xfs_file_buffered_write(cx: &Ctx<'_>, pos: u64, buf: UserBuf) -> i64 {
    let w = cx.w;
    if w.geo.zoned {
        return xfs_file_buffered_write_zoned(cx, pos, buf).0;
    }
    let _iolock = w.ip.i_rwsem.write();
    cx.ev("xfs_file_buffered_write", What::Lock { name: "IOLOCK", excl: true });
    if let Err(e) = xfs_file_write_zero_eof(cx, pos, &XFS_BUFFERED_WRITE_IOMAP_OPS) {
        cx.ev("xfs_file_buffered_write", What::Unlock { name: "IOLOCK" });
        return e;
    }
    let ret = iomap_file_buffered_write(cx, pos, buf, &XFS_BUFFERED_WRITE_IOMAP_OPS);
    cx.ev("xfs_file_buffered_write", What::Unlock { name: "IOLOCK" });
    ret
}

/// `xfs_file_write_zero_eof` (fs/xfs/xfs_file.c, 6.12 to 6.18; the same step inline in
/// `xfs_file_write_checks` before): a write starting beyond i_size first zeroes
/// `[i_size, pos)`, after `inode_dio_wait` (the caller holds IOLOCK exclusive); 6.12
/// (acfbac776496) holds XFS_MMAPLOCK_EXCL around it. `ops` carry a zoned write's reservation.
pub(super) fn xfs_file_write_zero_eof(cx: &Ctx<'_>, pos: u64, ops: &XfsBufferedWriteIomapOps<'_>) -> Result<(), i64> {
    let w = cx.w;
    // Merged into the step that took IOLOCK exclusive (every caller takes it just before; an
    // acquisition is a right mover): no interleaving is lost.
    if pos <= w.mapping.i_pages.lock_merged().i_size {
        return Ok(());
    }
    // "We must drain direct I/O before zeroing": an AIO completion may move i_size.
    inode_dio_wait(cx);
    // No scheduling point of its own: with IOLOCK held exclusive and direct I/O drained, no
    // other actor can change i_size (only IOLOCK holders and DIO completion write it), so the
    // read commutes with everything.
    let isize = w.mapping.i_pages.lock_merged().i_size;
    if pos <= isize {
        return Ok(());
    }
    let _mmaplock = w.behaviour.zero_eof_mmaplock.then(|| w.mapping.invalidate_lock.write());
    xfs_zero_range(cx, isize, pos - isize, ops).map(|_| ())
}

/// `xfs_zero_range` (fs/xfs/xfs_iomap.c, 6.1 to 6.18): `iomap_zero_range` with the
/// buffered-write iomap ops (`ops`: with the caller's zone allocation context on a zoned
/// inode, 6.15+). Returns `did_zero`.
fn xfs_zero_range(cx: &Ctx<'_>, pos: u64, len: u64, ops: &XfsBufferedWriteIomapOps<'_>) -> Result<bool, i64> {
    iomap_zero_range(cx, pos, len, ops, &XFS_WRITEBACK_OPS)
}

/// `xfs_file_buffered_read` (fs/xfs/xfs_file.c, 6.1 and 6.2): IOLOCK shared around
/// `filemap_read`.
pub fn xfs_file_buffered_read(cx: &Ctx<'_>, pos: u64, len: u64) -> Vec<u8> {
    let _iolock = cx.w.ip.i_rwsem.read();
    filemap_read(cx, &super::XFS_READ_IOMAP_OPS, pos, len)
}

/// `xfs_vm_writepages` (fs/xfs/xfs_aops.c, 5.0-6.18) over `[start, end)`, WB_SYNC_NONE, as
/// the flusher (or `sync_file_range`) calls it; no inode locks. With `inject`, every delalloc
/// conversion of the pass fails with that errno; the first error is returned.
pub fn xfs_vm_writepages(cx: &Ctx<'_>, start: u64, end: u64, inject: Option<Errno>) -> Result<(), Errno> {
    iomap_writepages(cx, &XFS_WRITEBACK_OPS, start, end, false, inject)
}

/// `xfs_file_fsync` → `file_write_and_wait_range` (6.1 and 6.2): WB_SYNC_ALL writeback of the
/// whole file. Simplification: no log force (no crash states are modelled).
pub fn xfs_file_fsync(cx: &Ctx<'_>) {
    // No fault injected: nothing fails.
    let _ = filemap_write_and_wait_range(cx, &XFS_WRITEBACK_OPS, 0, cx.w.geo.span);
}

/// `xfs_file_fallocate` mode 0 or FALLOC_FL_KEEP_SIZE (fs/xfs/xfs_file.c, 5.0 to 6.18):
/// IOLOCK and MMAPLOCK exclusive, `inode_dio_wait`; `xfs_alloc_file_space` allocates
/// UNWRITTEN blocks over holes and delalloc in the range; without KEEP_SIZE a larger size goes
/// through `xfs_vn_setattr_size` → `xfs_setattr_size` with both locks held.
pub fn xfs_file_fallocate(cx: &Ctx<'_>, offset: u64, len: u64, keep_size: bool) {
    let w = cx.w;
    let _iolock = w.ip.i_rwsem.write();
    let _mmaplock = w.mapping.invalidate_lock.write();
    inode_dio_wait(cx);
    xfs_alloc_file_space(cx, offset, len);
    let old = w.mapping.i_pages.lock().i_size;
    if !keep_size && offset + len > old {
        xfs_setattr_size_locked(cx, offset + len);
    }
}

/// `xfs_alloc_file_space` (fs/xfs/xfs_bmap_util.c, 5.0 to 6.18): UNWRITTEN blocks over the
/// holes and delalloc of the range, in one ILOCK step. Simplification: the kernel allocates
/// extent by extent, a transaction each.
fn xfs_alloc_file_space(cx: &Ctx<'_>, offset: u64, len: u64) {
    let bs = cx.w.geo.block_size;
    let mut core = cx.w.ip.ilock.lock();
    core.update(cx, "xfs_alloc_file_space", offset / bs, (offset + len).div_ceil(bs), |c, b| match b {
        Bmap::Hole | Bmap::Delalloc => Some(Bmap::Unwritten(c.alloc_pblk())),
        _ => None,
    });
}

/// `xfs_file_fallocate(FALLOC_FL_ZERO_RANGE)` (fs/xfs/xfs_file.c, 5.0 to 6.18;
/// `xfs_falloc_zero_range` from 6.13): IOLOCK and MMAPLOCK exclusive, `inode_dio_wait`; the
/// new size is the range's end if that is past i_size; `xfs_free_file_space` over the range
/// (flush and drop its page cache, free its whole blocks, zero the partial blocks at its edges
/// through `iomap_zero_range`); `xfs_alloc_file_space` over the range rounded out to blocks;
/// then the size.
pub fn xfs_file_zero_range(cx: &Ctx<'_>, offset: u64, len: u64) {
    let w = cx.w;
    let bs = w.geo.block_size;
    let _iolock = w.ip.i_rwsem.write();
    let _mmaplock = w.mapping.invalidate_lock.write();
    inode_dio_wait(cx);
    let old = w.mapping.i_pages.lock().i_size;
    let new_size = (offset + len > old).then_some(offset + len);
    xfs_free_file_space_locked(cx, offset, len);
    let (start, end) = (offset / bs * bs, (offset + len).div_ceil(bs) * bs);
    xfs_alloc_file_space(cx, start, end - start);
    if let Some(size) = new_size {
        xfs_setattr_size_locked(cx, size);
    }
}

/// `xfs_setattr_size` (fs/xfs/xfs_iops.c, 5.0 to 6.18) for `ftruncate`: takes IOLOCK and
/// MMAPLOCK exclusive, waits for direct I/O (`inode_dio_wait`), then [`xfs_setattr_size_locked`].
pub fn xfs_setattr_size(cx: &Ctx<'_>, new_size: u64) {
    let w = cx.w;
    let _iolock = w.ip.i_rwsem.write();
    let _mmaplock = w.mapping.invalidate_lock.write();
    // "Wait for all direct I/O to complete."
    inode_dio_wait(cx);
    xfs_setattr_size_locked(cx, new_size);
}

/// `xfs_setattr_size` (fs/xfs/xfs_iops.c, 6.1 to 6.18) with IOLOCK and MMAPLOCK held: zero
/// from the old EOF to the new one when growing (`xfs_zero_range`) or the rest of the new EOF
/// block when shrinking (`xfs_truncate_page`); `truncate_setsize` (i_size, page cache); then,
/// "so that the null files problem cannot expose stale data", write back and wait for
/// `[i_disk_size, new_size)` if anything was zeroed or the in-memory size was ahead of the
/// on-disk one; then the transaction: free the blocks beyond the new EOF
/// (`xfs_itruncate_extents`) and log the new on-disk size. Simplification: a zeroing error
/// (only -EIO from a mapping the model's WARN rejects) is reported by the WARN, not returned.
fn xfs_setattr_size_locked(cx: &Ctx<'_>, new_size: u64) {
    let w = cx.w;
    let geo = &w.geo;
    let old = w.mapping.i_pages.lock().i_size;
    // Zoned (6.15+): one block reserved for the zeroing ("chicken out and try to allocate
    // space under it").
    let ac = geo.zoned.then(|| xfs_zoned_space_reserve(1));
    let ops = XfsBufferedWriteIomapOps { ac: ac.as_ref() };
    let zeroed = if new_size > old {
        xfs_zero_range(cx, old, new_size - old, &ops)
    } else {
        iomap_truncate_page(cx, new_size, &ops, &XFS_WRITEBACK_OPS)
    };
    let did_zeroing = zeroed.unwrap_or(false);
    {
        let mut st = w.mapping.i_pages.lock();
        cx.ev("xfs_setattr_size", What::Size { was: old, now: new_size });
        st.i_size = new_size;
    }
    if new_size > old {
        cx.extended(old, new_size);
    }
    if new_size >= old {
        // truncate_setsize: pagecache_isize_extended, then truncate_pagecache(new_size) in
        // both directions: growing, the folio holding the new EOF gets its part past EOF
        // zeroed and, if large and splittable (clean), split there.
        pagecache_isize_extended(cx, old, new_size);
        truncate_pagecache_range(cx, new_size, geo.span);
        write_out_to_new_size(cx, did_zeroing, old, new_size);
        return;
    }
    truncate_pagecache_range(cx, new_size, geo.span);
    write_out_to_new_size(cx, did_zeroing, old, new_size);
    let mut core = w.ip.ilock.lock();
    let first = new_size.div_ceil(geo.block_size);
    core.update(cx, "xfs_itruncate_extents", first, geo.nr_blocks(), |_, b| (b != Bmap::Hole).then_some(Bmap::Hole));
    // "Remove all pending CoW reservations" (xfs_reflink_cancel_cow_blocks, cancel_real).
    core.update_fork(cx, "xfs_reflink_cancel_cow_blocks", Fork::Cow, first, geo.nr_blocks(), |_, b| {
        (b != Bmap::Hole).then_some(Bmap::Hole)
    });
}

/// The write-out step of `xfs_setattr_size`: `filemap_write_and_wait_range(i_disk_size,
/// new_size - 1)` when `did_zeroing || (new_size > i_disk_size && old_size != i_disk_size)`,
/// then the transaction logs `new_size` as the on-disk size.
fn write_out_to_new_size(cx: &Ctx<'_>, did_zeroing: bool, old: u64, new_size: u64) {
    let disk_size = cx.w.ip.ilock.lock().disk_size;
    // filemap_write_and_wait_range(i_disk_size, new_size - 1) writes nothing when the range
    // is empty (lend < lstart).
    if (did_zeroing || old != disk_size) && new_size > disk_size {
        cx.ev("xfs_setattr_size", What::Note("filemap_write_and_wait_range(i_disk_size, new size)"));
        // No fault injected: nothing fails.
        let _ = filemap_write_and_wait_range(cx, &XFS_WRITEBACK_OPS, disk_size, new_size);
    }
    cx.w.ip.ilock.lock().disk_size = new_size;
}

/// `xfs_free_file_space` (fs/xfs/xfs_bmap_util.c, 6.1 to 6.18) for FALLOC_FL_PUNCH_HOLE: IOLOCK
/// and MMAPLOCK exclusive, `inode_dio_wait` (`xfs_file_fallocate`); `xfs_flush_unmap_range` writes back and drops the page cache over
/// the range rounded out to max(block, page); the whole blocks inside are unmapped; then
/// `xfs_zero_range` over the range (capped at EOF) zeroes the partial blocks at the edges
/// through the page cache, and a range reaching an EOF inside a page writes that page back.
pub fn xfs_free_file_space(cx: &Ctx<'_>, offset: u64, len: u64) {
    let w = cx.w;
    let _iolock = w.ip.i_rwsem.write();
    let _mmaplock = w.mapping.invalidate_lock.write();
    inode_dio_wait(cx);
    xfs_free_file_space_locked(cx, offset, len);
}

/// [`xfs_free_file_space`] with IOLOCK and MMAPLOCK held and direct I/O drained.
fn xfs_free_file_space_locked(cx: &Ctx<'_>, offset: u64, len: u64) {
    let w = cx.w;
    let geo = &w.geo;
    let bs = geo.block_size;
    let end = offset + len;
    let rounding = bs.max(geo.page_size);
    let (fstart, fend) = (offset / rounding * rounding, end.div_ceil(rounding) * rounding);
    // No fault injected: nothing fails.
    let _ = filemap_write_and_wait_range(cx, &XFS_WRITEBACK_OPS, fstart, fend);
    truncate_pagecache_range(cx, fstart, fend.min(geo.span));
    let (inner_start, inner_end) = (geo.block_up(offset), geo.block_down(end));
    if inner_start < inner_end {
        let mut core = w.ip.ilock.lock();
        core.update(cx, "xfs_bunmapi", inner_start / bs, inner_end / bs, |_, b| {
            (b != Bmap::Hole).then_some(Bmap::Hole)
        });
    }
    // "xfs_zero_range is smart enough to skip any holes, including those we just created, but
    // we must take care not to zero beyond EOF and enlarge i_size."
    let i_size = w.mapping.i_pages.lock().i_size;
    if offset >= i_size {
        return;
    }
    let len = len.min(i_size - offset);
    let _ = xfs_zero_range(cx, offset, len, &XFS_BUFFERED_WRITE_IOMAP_OPS);
    // "If we zeroed right up to EOF and EOF straddles a page boundary we must make sure that
    // the post-EOF area is also zeroed because the page could be mmap'd": writeback of the EOF
    // page zeroes it.
    if offset + len >= i_size && !(offset + len).is_multiple_of(geo.page_size) {
        // No fault injected: nothing fails.
        let _ = filemap_write_and_wait_range(
            cx,
            &XFS_WRITEBACK_OPS,
            (offset + len) / geo.page_size * geo.page_size,
            geo.span,
        );
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

/// `xfs_file_remap_range` (fs/xfs/xfs_file.c, 6.6 to 6.18) for FICLONERANGE within one file:
/// `xfs_reflink_remap_prep` (IOLOCK and MMAPLOCK exclusive, taken once for the one inode;
/// `inode_dio_wait`; the generic checks: block-aligned offsets, a source range inside EOF, a
/// length that is block-aligned unless it reaches EOF, no overlap: -EINVAL; write back both ranges;
/// zero from EOF to a destination beyond it (`xfs_reflink_zero_posteof`); set the reflink flag;
/// write back and drop the destination's page cache (`xfs_flush_unmap_range`)), then
/// `xfs_reflink_remap_blocks`: each destination block loses its old mapping (one owner fewer;
/// delalloc removed) and maps the source's block with one owner more if it is written (an
/// unwritten or absent source leaves a hole: found by `iomc conform`); the destination COW fork
/// is left alone; a size past EOF is logged. Returns 0 or a negative errno.
/// Simplification: the remap of the whole range is one ILOCK step (one transaction per extent
/// in the kernel).
pub fn xfs_file_remap_range(cx: &Ctx<'_>, src: u64, dst: u64, len: u64) -> i64 {
    let w = cx.w;
    let geo = &w.geo;
    let bs = geo.block_size;
    let _iolock = w.ip.i_rwsem.write();
    let _mmaplock = w.mapping.invalidate_lock.write();
    inode_dio_wait(cx);
    let isize = w.mapping.i_pages.lock().i_size;
    // generic_remap_checks (fs/remap_range.c): FICLONERANGE cannot shorten the request, so a
    // range past the source's EOF, or not block-aligned short of it, is -EINVAL; one ending at
    // EOF clones the EOF block whole.
    if !(src | dst).is_multiple_of(bs) || src >= isize || src + len > isize {
        return EINVAL;
    }
    let blen = if src + len == isize {
        isize.div_ceil(bs) * bs - src
    } else if len.is_multiple_of(bs) {
        len
    } else {
        return EINVAL;
    };
    if src < dst + blen && dst < src + blen {
        return EINVAL;
    }
    // Not a kernel check: the modelled span covers every op's range (`OpKind::end`), rounded
    // to folios, so this only guards the forks' bounds against an EOF block rounded past it.
    if dst + blen > geo.span {
        return EINVAL;
    }
    // No fault injected: nothing fails.
    let _ = filemap_write_and_wait_range(cx, &XFS_WRITEBACK_OPS, src, src + blen);
    let _ = filemap_write_and_wait_range(cx, &XFS_WRITEBACK_OPS, dst, dst + blen);
    if dst > isize {
        let _ = xfs_zero_range(cx, isize, dst - isize, &XFS_BUFFERED_WRITE_IOMAP_OPS);
    }
    w.ip.ilock.lock().reflink = true;
    let from = if dst > isize { isize } else { dst };
    let rounding = bs.max(geo.page_size);
    let (fstart, fend) = (from / rounding * rounding, (dst + blen).div_ceil(rounding) * rounding);
    let _ = filemap_write_and_wait_range(cx, &XFS_WRITEBACK_OPS, fstart, fend);
    truncate_pagecache_range(cx, fstart, fend.min(geo.span));
    {
        let mut core = w.ip.ilock.lock();
        let (sf, df, n) = (src / bs, dst / bs, blen / bs);
        let srcs: Vec<Bmap> = core.df[sf as usize..(sf + n) as usize].to_vec();
        if srcs.contains(&Bmap::Delalloc) {
            cx.warn(
                "xfs_reflink_remap_blocks",
                format!("delalloc in the source [{src}, {}) after the flush", src + blen),
            );
            return -117; // -EFSCORRUPTED
        }
        let mut i = 0usize;
        core.update(cx, "xfs_reflink_remap_extent", df, df + n, |c, old| {
            // Only written source blocks are shared (`smap_real = xfs_bmap_is_written_extent`):
            // an unwritten source reads as zeroes, and the destination becomes a hole.
            let new = match srcs[i] {
                Bmap::Written(p) => Bmap::Written(p),
                _ => Bmap::Hole,
            };
            i += 1;
            if let Bmap::Written(q) | Bmap::Unwritten(q) = old {
                c.refcount_dec(q);
            }
            if let Bmap::Written(p) = new {
                c.refcount_inc(p);
            }
            Some(new)
        });
        cx.instant(crate::events::OpDesc::Clone { src, dst, length: blen });
    }
    // xfs_reflink_update_dest: a size past EOF, in memory and on disk.
    let new_size = (dst + len).max(isize);
    if new_size > isize {
        let mut st = w.mapping.i_pages.lock();
        let old = st.i_size;
        st.i_size = new_size;
        cx.ev("xfs_reflink_update_dest", What::Size { was: old, now: new_size });
        drop(st);
        if dst > old {
            cx.extended(old, dst);
        }
        w.ip.ilock.lock().disk_size = new_size;
    }
    0
}
