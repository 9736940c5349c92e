//! Short-write cleanup of reserved delalloc (fs/iomap/buffered-io.c, 6.2, f43dc4dc3eff).

use super::{Iomap, IomapType};
use crate::events::What;
use crate::pagecache::{filemap_lock_folio, mapping_seek_hole_data, Whence};
use crate::world::Ctx;

/// The filesystem's punch callback: remove delalloc (only) over `[start, end)` bytes.
pub type PunchFn = fn(&Ctx<'_>, u64, u64);

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
    punch: PunchFn,
) {
    let geo = &cx.w.geo;
    if iomap.ty != IomapType::Delalloc || !iomap.new {
        return;
    }
    let start = if written > 0 { geo.block_up(pos + written) } else { geo.block_down(pos) };
    let end = geo.block_up(pos + length);
    if start >= end {
        return;
    }
    iomap_write_delalloc_release(cx, start, end, punch);
}

/// `iomap_write_delalloc_release` (fs/iomap/buffered-io.c, 6.2 V4 text): under
/// `invalidate_lock` exclusive, walk `[start, min(i_size, end))` with SEEK_DATA/SEEK_HOLE over
/// the page cache, punch delalloc where no dirty folio is, and always punch the tail.
/// Simplification: the seek reads per-block state under the xarray lock without taking the
/// folio lock of a partially uptodate folio (the invalidate_lock already keeps faults out).
pub fn iomap_write_delalloc_release(cx: &Ctx<'_>, start: u64, end: u64, punch: PunchFn) {
    let w = cx.w;
    let b = &w.behaviour;
    let _inval = if b.cleanup_invalidate_lock {
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
    while start < scan_end {
        let data = {
            let st = w.mapping.i_pages.lock();
            seek(&st, &w.geo, start, scan_end, Whence::Data)
        };
        let Some(data) = data.filter(|d| *d < scan_end) else {
            break;
        };
        let data_end = {
            let st = w.mapping.i_pages.lock();
            seek(&st, &w.geo, data, scan_end, Whence::Hole).unwrap_or(scan_end)
        };
        if data_end <= data {
            cx.warn("iomap_write_delalloc_release", format!("SEEK_HOLE({data}) returned {data_end}"));
            break;
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

/// `iomap_write_delalloc_scan` (fs/iomap/buffered-io.c, 6.2): over a data range, keep delalloc
/// under dirty folios and punch the clean gaps before them.
pub fn iomap_write_delalloc_scan(cx: &Ctx<'_>, punch_start: &mut u64, start: u64, end: u64, punch: PunchFn) {
    let geo = &cx.w.geo;
    let mut start = start;
    while start < end {
        let Some(folio) = filemap_lock_folio(cx, start / geo.page_size) else {
            start = (start / geo.page_size) * geo.page_size + geo.page_size;
            continue;
        };
        let folio_end = folio.pos(geo) + folio.size(geo);
        let dirty = cx.w.mapping.i_pages.lock().folios[folio.id].dirty
            && !cx.w.behaviour.mutated(crate::behaviour::Mutation::PunchUnderDirty);
        if dirty {
            if start > *punch_start {
                punch(cx, *punch_start, start);
            }
            *punch_start = end.min(folio_end);
        }
        start = folio_end;
        crate::pagecache::folio_unlock(cx, folio);
    }
}
