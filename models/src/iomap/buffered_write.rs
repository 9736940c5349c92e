//! The buffered write path (fs/iomap/buffered-io.c, 6.1 and 6.2).

use super::{iomap_iter, iomap_length, Errno, Iomap, IomapIter, IomapOps, IomapType, IterFlags, EFAULT};
use crate::behaviour::Mutation;
use crate::events::What;
use crate::pagecache::{filemap_get_folio, truncate_pagecache_range, FolioCreate, LockedFolio};
use crate::world::Ctx;

/// The user buffer of a `write()`: `length` bytes of `fill`, of which only the first `readable`
/// can be read without a fault (a `short_copy` scenario op lowers it).
#[derive(Clone, Copy, Debug)]
pub struct UserBuf {
    /// Byte value.
    pub fill: u8,
    /// Total bytes.
    pub length: u64,
    /// Bytes readable from the start.
    pub readable: u64,
}

/// `iomap_file_buffered_write` (fs/iomap/buffered-io.c, 6.1 and 6.2): iterate mappings over
/// `[pos, pos+buf.length)`, copying through the page cache. Returns bytes written or an errno.
pub fn iomap_file_buffered_write(cx: &Ctx<'_>, pos: u64, buf: UserBuf, ops: &dyn IomapOps) -> i64 {
    let mut iter = IomapIter::new(pos, buf.length, IterFlags { write: true, ..IterFlags::default() });
    let mut ret: i64 = 0;
    loop {
        match iomap_iter(cx, &mut iter, ops) {
            Ok(true) => iter.processed = iomap_write_iter(cx, &mut iter, &buf, pos, ops),
            Ok(false) => break,
            Err(e) => {
                ret = e;
                break;
            }
        }
    }
    if iter.pos == pos {
        ret
    } else {
        (iter.pos - pos) as i64
    }
}

/// `iomap_write_iter` (fs/iomap/buffered-io.c, 6.1, 6.2 and 6.6): copy page-sized chunks
/// (6.6+ with large folios on the write path: chunks up to the largest folio, cut to the folio
/// `iomap_write_begin` returns) within the current mapping. Returns bytes written in this mapping, or a negative errno if none.
/// `start` is where the whole write began (to index the user buffer).
pub fn iomap_write_iter(cx: &Ctx<'_>, iter: &mut IomapIter, buf: &UserBuf, start: u64, ops: &dyn IomapOps) -> i64 {
    let geo = &cx.w.geo;
    let mut length = iomap_length(iter);
    let mut pos = iter.pos;
    let mut written: u64 = 0;
    let mut status: i64;
    loop {
        let chunk =
            if cx.w.behaviour.write_large_folios { geo.page_size * geo.max_folio_pages() } else { geo.page_size };
        let offset = pos % chunk;
        let consumed = pos - start;
        let remaining = buf.length - consumed;
        let mut bytes = (chunk - offset).min(remaining).min(length);
        loop {
            // fault_in_iov_iter_readable: nothing readable at all is -EFAULT.
            if buf.readable <= consumed {
                cx.ev("fault_in_iov_iter_readable", What::ShortWrite { pos, why: "user buffer faults" });
                return if written > 0 { written as i64 } else { EFAULT };
            }
            let folio = match iomap_write_begin(cx, iter, pos, bytes, ops) {
                Err(e) => return if written > 0 { written as i64 } else { e },
                Ok(None) => {
                    // 6.2: IOMAP_F_STALE, the folio is already unlocked and put.
                    return written as i64;
                }
                Ok(Some(f)) => f,
            };
            // The folio may be smaller than the chunk: copy up to its end.
            bytes = bytes.min(f_end(&folio, geo) - pos);
            // copy_folio_from_iter_atomic: stops at the first unreadable byte.
            let copied = bytes.min(buf.readable - consumed);
            status = iomap_write_end(cx, iter, pos, bytes, copied, buf.fill, folio);
            if status == 0 {
                // Short copy into a folio that is not uptodate: retry with what was copied.
                if copied > 0 {
                    bytes = copied;
                }
                continue;
            }
            break;
        }
        let done = status as u64;
        pos += done;
        written += done;
        length -= done;
        if buf.length - (pos - start) == 0 || length == 0 {
            break;
        }
    }
    if written > 0 {
        written as i64
    } else {
        status
    }
}

/// End of `folio`'s bytes in the file.
fn f_end(folio: &LockedFolio<'_>, geo: &crate::world::Geometry) -> u64 {
    folio.pos(geo) + folio.size(geo)
}

/// `iomap_write_begin` (fs/iomap/buffered-io.c): get and lock the folio for
/// `[pos, pos+len)`; 6.2 (d7b64041164c) then asks `->iomap_valid` and, if the mapping is stale,
/// sets IOMAP_F_STALE, unlocks and returns no folio. Then `__iomap_write_begin`.
pub fn iomap_write_begin<'w>(
    cx: &Ctx<'w>,
    iter: &mut IomapIter,
    pos: u64,
    len: u64,
    ops: &dyn IomapOps,
) -> Result<Option<LockedFolio<'w>>, Errno> {
    let geo = &cx.w.geo;
    if pos + len > iter.iomap.end() {
        cx.warn(
            "iomap_write_begin",
            format!("BUG_ON: write [{pos}, {}) beyond mapping end {}", pos + len, iter.iomap.end()),
        );
        return Err(super::EIO);
    }
    // Mutation: ask before the folio lock, when the answer can still change while we wait.
    let early = cx.w.behaviour.mutated(Mutation::ValidBeforeFolioLock).then(|| ops.iomap_valid(cx, &iter.iomap, false));
    let create = if cx.w.behaviour.write_large_folios { FolioCreate::Write { len } } else { FolioCreate::Order0 };
    let Some(folio) = filemap_get_folio(cx, pos / geo.page_size, create) else {
        return Err(super::EIO);
    };
    let verdict = match early {
        Some(v) => v,
        // The check joins the step that locked the folio: the kernel reads `if_seq` right
        // after `__filemap_get_folio` returns it locked. A fork change by another actor in
        // between (an I/O completion's conversion) commutes with that step (the lookup and
        // the lock touch the page cache only), so it is explored before it, where the check
        // sees it, and after the check, where it does not; the window the fix closes, from the
        // mapping to the lock, keeps its scheduling points.
        None => ops.iomap_valid(cx, &iter.iomap, true),
    };
    if let Some(false) = verdict {
        iter.iomap.stale = true;
        cx.ev("iomap_write_begin", What::ShortWrite { pos, why: "IOMAP_F_STALE: remap" });
        // folio_unlock + folio_put join the validity check's step, as in `folio_unlock`.
        let mut st = cx.w.mapping.i_pages.lock_merged();
        folio.unlock_put(cx, &mut st);
        drop(st);
        iomap_write_failed(cx, pos, len);
        return Ok(None);
    }
    let len = len.min(folio.pos(geo) + folio.size(geo) - pos);
    __iomap_write_begin(cx, &iter.iomap, pos, len, &folio);
    Ok(Some(folio))
}

/// `iomap_block_needs_zeroing` (fs/iomap/buffered-io.c, 6.1 to 6.18): zero instead of reading
/// when the source mapping (`iomap_iter_srcmap`: the data fork under a COW mapping) is not
/// MAPPED, is new, or the block starts at or beyond EOF.
pub fn iomap_block_needs_zeroing(iomap: &Iomap, block_pos: u64, i_size: u64) -> bool {
    let src = iomap.source();
    src.ty != IomapType::Mapped || src.new || block_pos >= i_size
}

/// `__iomap_write_begin` (fs/iomap/buffered-io.c, 6.1 text, same in 6.2; 6.6 order of the
/// per-block state allocation with `per_block_dirty`): for each block of
/// `[pos, pos+len)` that is not uptodate and only partly written, zero or read the rest of it,
/// decided from the cached `iomap`. Simplification: decided block by block; the kernel merges
/// adjacent non-uptodate blocks into one range that gets the same decision.
fn __iomap_write_begin(cx: &Ctx<'_>, iomap: &Iomap, pos: u64, len: u64, folio: &LockedFolio<'_>) {
    let w = cx.w;
    let geo = &w.geo;
    let bs = geo.block_size;
    let fpos = folio.pos(geo);
    let mut reads: Vec<u64> = Vec::new();
    {
        // Joins the step that locked the folio (and, from 6.2, validated the mapping): the
        // kernel goes from `folio_lock` through `->iomap_valid` to here with no wait. A fork
        // change by another actor in between commutes with this step (it reads only the
        // cached iomap), and so does every page-cache access another actor can make while we
        // hold the folio lock (dirty-tag scans, flag tests, a bio's copy of uptodate blocks);
        // the reads below keep their points.
        let mut st = w.mapping.i_pages.lock_merged();
        if w.behaviour.per_block_dirty {
            // 6.6 (the per-block dirty series): a write covering the whole folio dirties all of
            // it and gets no iomap_folio_state; otherwise ifs_alloc comes before the uptodate
            // check.
            if pos <= fpos && pos + len >= fpos + folio.size(geo) {
                return;
            }
            st.iomap_page_create(geo, folio.id);
        }
        if st.folios[folio.id].uptodate {
            return;
        }
        st.iomap_page_create(geo, folio.id);
        let i_size = st.i_size;
        let (from, to) = (pos, pos + len);
        let mut block = geo.block_down(pos);
        while block < geo.block_up(pos + len) {
            let bidx = ((block - fpos) / bs) as usize;
            let covered = from <= block && block + bs <= to;
            if !st.folios[folio.id].block_uptodate(bidx) && !covered {
                if iomap_block_needs_zeroing(iomap, block, i_size) {
                    let f = &mut st.folios[folio.id];
                    let b0 = (block - fpos) as usize;
                    let (z0, z1) = (block.max(from).min(block + bs), to.clamp(block, block + bs));
                    // folio_zero_segments(poff, from, to, poff + plen)
                    f.data[b0..(z0 - fpos) as usize].fill(0);
                    f.data[(z1 - fpos) as usize..b0 + bs as usize].fill(0);
                    if block < from {
                        cx.ev("__iomap_write_begin", What::Zero { from: block, to: from.min(block + bs) });
                    }
                    if to < block + bs {
                        cx.ev("__iomap_write_begin", What::Zero { from: to.max(block), to: block + bs });
                    }
                    st.iomap_set_range_uptodate(geo, folio.id, block, bs);
                } else {
                    reads.push(block);
                }
            }
            block += bs;
        }
    }
    for block in reads {
        // iomap_read_folio_sync: a synchronous read of the block from the source mapping.
        let src = iomap.source();
        let daddr = src.addr + (block - src.offset);
        let data = w.disk.read(daddr, bs);
        let mut st = w.mapping.i_pages.lock();
        let f = &mut st.folios[folio.id];
        let b0 = (block - fpos) as usize;
        f.data[b0..b0 + bs as usize].copy_from_slice(&data);
        cx.ev("iomap_read_folio_sync", What::ReadIn { from: block, to: block + bs, ty: src.ty });
        st.iomap_set_range_uptodate(geo, folio.id, block, bs);
    }
}

/// `iomap_write_end` → `__iomap_write_end` (fs/iomap/buffered-io.c, 6.1 and 6.2), with the
/// preceding user copy: copy `copied` bytes, reject a short copy into a folio that is not
/// uptodate (return 0), else mark `[pos, pos+len)` uptodate, dirty the folio, extend i_size,
/// unlock and put. Simplification: the copy and the end are one step under the folio lock.
/// For `iomap_zero_iter` (`iter.flags.zero`) the "copy" is `folio_zero_range`, and from 6.10
/// (knob `write_iter_isize`) i_size moves in `iomap_write_iter` only, so zeroing never moves it.
pub fn iomap_write_end(
    cx: &Ctx<'_>,
    iter: &mut IomapIter,
    pos: u64,
    len: u64,
    copied: u64,
    fill: u8,
    folio: LockedFolio<'_>,
) -> i64 {
    let w = cx.w;
    let geo = &w.geo;
    let fpos = folio.pos(geo);
    // One step with `__iomap_write_begin`'s last one (the kernel runs both under the folio lock
    // with only the user copy between them): every caller holds IOLOCK exclusive, which keeps
    // out the lock-free observers of what `__iomap_write_begin` changed (buffered reads hold
    // IOLOCK shared; the release walk's `mapping_seek_hole_data` runs under IOLOCK exclusive);
    // the other lock-free readers read nothing it changed (writeback's dirty-tag scan, the bio's
    // copy of uptodate blocks, i_size) or, having read it, wait for the folio lock we hold
    // (`filemap_fault` → `page_mkwrite`), so no interleaving is lost.
    let mut st = w.mapping.i_pages.lock_merged();
    let f = &mut st.folios[folio.id];
    f.data[(pos - fpos) as usize..(pos + copied - fpos) as usize].fill(fill);
    f.mark_changed(geo, pos, pos + copied);
    if iter.flags.zero {
        cx.ev("iomap_zero_iter", What::Zero { from: pos, to: pos + copied });
    } else if copied > 0 {
        cx.ev("copy_folio_from_iter_atomic", What::Copy { from: pos, to: pos + copied, fill });
    }
    let ret = if copied < len && !f.uptodate {
        0
    } else {
        st.iomap_set_range_uptodate(geo, folio.id, pos, len);
        let f = &mut st.folios[folio.id];
        // 6.6+ `__iomap_write_end`: iomap_set_range_dirty over the copied bytes, then
        // filemap_dirty_folio (not iomap_dirty_folio: the other blocks stay clean).
        f.iomap_set_range_dirty(geo, pos, pos + copied);
        if !f.dirty {
            f.dirty = true;
            cx.ev("filemap_dirty_folio", What::FolioDirty { pos: fpos });
        }
        copied
    };
    let old_size = st.i_size;
    let moves_size = !(iter.flags.zero && w.behaviour.write_iter_isize);
    if moves_size && pos + ret > old_size {
        st.i_size = pos + ret;
        cx.ev("i_size_write", What::Size { was: old_size, now: pos + ret });
        cx.extended(old_size, pos + ret);
    }
    folio.unlock_put(cx, &mut st);
    drop(st);
    if moves_size && old_size < pos {
        crate::pagecache::pagecache_isize_extended(cx, old_size, pos);
    }
    if ret < len {
        iomap_write_failed(cx, pos + ret, len - ret);
    }
    ret as i64
}

/// `iomap_write_failed` (fs/iomap/buffered-io.c, 6.1 and 6.2): truncate the page cache only
/// beyond EOF, over `[max(pos, i_size), pos+len)`.
fn iomap_write_failed(cx: &Ctx<'_>, pos: u64, len: u64) {
    let i_size = cx.w.mapping.i_pages.lock().i_size;
    if pos + len > i_size {
        truncate_pagecache_range(cx, pos.max(i_size), pos + len);
    }
}
