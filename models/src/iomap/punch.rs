//! Short-write cleanup of reserved delalloc (fs/iomap/buffered-io.c, 6.2, f43dc4dc3eff).

use super::{Iomap, IomapType};
use crate::events::What;
use crate::pagecache::{filemap_lock_folio, mapping_seek_hole_data, Whence};
use crate::world::Ctx;

/// The filesystem's punch callback: remove delalloc (only) over `[start, end)` bytes.
pub type PunchFn<'a> = &'a dyn Fn(&Ctx<'_>, u64, u64);

/// `iomap_file_buffered_write_punch_delalloc` (fs/iomap/buffered-io.c, 6.2): after a short
/// write into a DELALLOC+NEW mapping, release the unused reservation over
/// `[round_up(pos+written), round_up(pos+length))` (or from `round_down(pos)` if nothing was
/// written).
pub fn iomap_file_buffered_write_punch_delalloc(
    cx: &Ctx<'_>,
    iomap: &Iomap,
    pos: u64,
    length: u64,
    written: u64,
    punch: PunchFn<'_>,
) {
    if iomap.ty != IomapType::Delalloc {
        return;
    }
    if let Some((start, end)) = iomap_unused_delalloc(&cx.w.geo, iomap, pos, length, written) {
        iomap_write_delalloc_release(cx, start, end, punch);
    }
}

/// The reservation a short write leaves unused, `[start_byte, end_byte)` in bytes, if the
/// mapping is NEW (reserved by this write) and the range is not empty: from the block after
/// the last one written (`iomap_last_written_block`, 6.12; the same rule inline before), or
/// from the first block when nothing was written, to the end of the mapped range rounded up.
pub fn iomap_unused_delalloc(
    geo: &crate::world::Geometry,
    iomap: &Iomap,
    pos: u64,
    length: u64,
    written: u64,
) -> Option<(u64, u64)> {
    let start = if written > 0 { geo.block_up(pos + written) } else { geo.block_down(pos) };
    let end = geo.block_up(pos + length);
    (iomap.new && start < end).then_some((start, end))
}

/// `iomap_write_delalloc_release` (fs/iomap/buffered-io.c, 6.2 V4 text): under
/// `invalidate_lock` exclusive, walk `[start, min(i_size, end))` with SEEK_DATA/SEEK_HOLE over
/// the page cache, punch delalloc where no dirty folio is, and always punch the tail. When
/// SEEK_HOLE returns the offset SEEK_DATA just found (a folio left between the two seeks: a
/// drop_caches, which takes no invalidate_lock), 6.2-6.11 WARN and go on, 6.12 seeks again
/// ([`Behaviour::release_reseek`], kernel.md §9.3).
///
/// [`Behaviour::release_reseek`]: crate::Behaviour
/// Simplification: the seek reads per-block state under the xarray lock without taking the
/// folio lock of a partially uptodate folio (the invalidate_lock already keeps faults out).
pub fn iomap_write_delalloc_release(cx: &Ctx<'_>, start: u64, end: u64, punch: PunchFn<'_>) {
    let w = cx.w;
    let b = &w.behaviour;
    // 6.2-6.11 take invalidate_lock here; from 6.12 (`punch_lock_in_fs`) the caller holds it.
    let _inval = if b.cleanup_invalidate_lock && !b.punch_lock_in_fs {
        let g = w.mapping.invalidate_lock.write();
        cx.ev("filemap_invalidate_lock", What::Lock { name: "invalidate_lock", excl: true });
        Some(g)
    } else {
        None
    };
    let mut punch_start = start;
    let mut start = start;
    let shadow_is_hole = b.mutated(crate::behaviour::Mutation::ShadowIsHole);
    let seek = |st: &crate::pagecache::MappingState, geo, s, e, wh| {
        if shadow_is_hole {
            crate::pagecache::seek_shadow_as_hole(st, geo, s, e, wh)
        } else {
            mapping_seek_hole_data(st, geo, s, e, wh)
        }
    };
    let scan_end = if b.cleanup_eof_cap { w.mapping.i_pages.lock().i_size.min(end) } else { end };
    let (mut rounds, max_rounds) = (0u64, 4 * w.geo.span / w.geo.page_size + 4);
    while start < scan_end {
        let data = {
            let st = w.mapping.i_pages.lock();
            seek(&st, &w.geo, start, scan_end, Whence::Data)
        };
        cx.ev("mapping_seek_hole_data", What::Seek { data: true, start, end: scan_end, found: data });
        let Some(data) = data.filter(|d| *d < scan_end) else {
            break;
        };
        let data_end = {
            let st = w.mapping.i_pages.lock();
            seek(&st, &w.geo, data, scan_end, Whence::Hole).unwrap_or(scan_end)
        };
        cx.ev("mapping_seek_hole_data", What::Seek { data: false, start: data, end: scan_end, found: Some(data_end) });
        rounds += 1;
        if rounds > max_rounds {
            // A limit on a loop the kernel bounds only by the page cache settling down.
            cx.warn("iomap_write_delalloc_release", format!("no progress after {max_rounds} seeks at {data}"));
            break;
        }
        if data_end == data && b.release_reseek {
            // 6.12 (7a9d43eace88): "If we race with post-direct I/O invalidation of the page
            // cache, there might be no data left at start_byte": seek again.
            cx.ev(
                "iomap_write_delalloc_release",
                What::Note("SEEK_HOLE returned its start: the folio went, seek again"),
            );
            start = data;
            continue;
        }
        if data_end <= data {
            // 6.2-6.11: WARN_ON_ONCE(data_end <= start_byte), then scan the empty range and
            // go on from data_end.
            cx.warn("iomap_write_delalloc_release", format!("SEEK_HOLE({data}) returned {data_end}"));
        }
        iomap_write_delalloc_scan(cx, &mut punch_start, data, data_end, punch);
        start = data_end;
    }
    if punch_start < end {
        punch(cx, punch_start, end);
    }
    if _inval.is_some() {
        cx.ev("filemap_invalidate_unlock", What::Unlock { name: "invalidate_lock" });
    }
}

/// `iomap_write_delalloc_scan` (fs/iomap/buffered-io.c, 6.2; 6.6 adds
/// `iomap_write_delalloc_ifs_punch`, [`Behaviour::ifs_punch`]): over a data range, keep delalloc
/// under dirty folios and punch the clean gaps before them and, from 6.6, the clean blocks
/// inside them.
///
/// [`Behaviour::ifs_punch`]: crate::Behaviour
pub fn iomap_write_delalloc_scan(cx: &Ctx<'_>, punch_start: &mut u64, start: u64, end: u64, punch: PunchFn<'_>) {
    let geo = &cx.w.geo;
    let mut start = start;
    while start < end {
        let Some(folio) = filemap_lock_folio(cx, start / geo.page_size) else {
            start = (start / geo.page_size) * geo.page_size + geo.page_size;
            continue;
        };
        let fpos = folio.pos(geo);
        let folio_end = fpos + folio.size(geo);
        let b = &cx.w.behaviour;
        let (dirty, clean_blocks) = {
            let st = cx.w.mapping.i_pages.lock();
            let f = &st.folios[folio.id];
            let dirty = f.dirty && !b.mutated(crate::behaviour::Mutation::PunchUnderDirty);
            // iomap_write_delalloc_ifs_punch (6.6): with per-block state, the blocks of
            // [start, min(end, folio end)) whose dirty bit is clear.
            let bs = geo.block_size;
            let clean: Vec<u64> = if dirty && b.per_block_dirty && b.ifs_punch && f.ifs.is_some() {
                (start / bs..end.min(folio_end).div_ceil(bs))
                    .filter(|blk| !f.ifs_dirty.get(((blk * bs - fpos) / bs) as usize).copied().unwrap_or(true))
                    .collect()
            } else {
                Vec::new()
            };
            (dirty, clean)
        };
        if dirty {
            // iomap_write_delalloc_punch: punch the clean gap before this dirty folio, then
            // (6.6) its clean blocks, and carry the punch start past the folio.
            if start > *punch_start {
                punch(cx, *punch_start, start);
            }
            let bs = geo.block_size;
            for blk in clean_blocks {
                punch(cx, blk * bs, blk * bs + bs);
            }
            *punch_start = end.min(folio_end);
        }
        start = folio_end;
        crate::pagecache::folio_unlock(cx, folio);
    }
}
