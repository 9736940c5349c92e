//! Page-cache truncation (mm/truncate.c).

use crate::events::What;
use crate::world::Ctx;

/// `truncate_pagecache_range` → `truncate_inode_pages_range` (mm/truncate.c, 6.1 to 6.18) over
/// bytes `[start, end)`: folios wholly inside are removed even if dirty (their data is
/// discarded); a partially covered folio waits for writeback, has the covered part zeroed and
/// stays in the cache, still dirty if it was (`iomap_invalidate_folio` of part of a folio
/// keeps it). A partially covered large folio is split first (`split_folio`) and its pages
/// handled one by one; when the split fails (see [`can_split`]) a dirty folio stays whole with
/// the covered part zeroed and a clean one is dropped whole (6.1 to 6.18).
/// Simplification: the split pages are handled in the same step as the split, under the lock of
/// the head page only (the kernel keeps every split page locked).
pub fn truncate_pagecache_range(cx: &Ctx<'_>, start: u64, end: u64) {
    let w = cx.w;
    let geo = &w.geo;
    if end <= start {
        return;
    }
    cx.ev("truncate_pagecache_range", What::TruncatePagecache { from: start, to: end });
    let heads: Vec<u64> = {
        let st = w.mapping.i_pages.lock();
        st.folios_in_range(geo, start, end).into_iter().map(|id| st.folios[id].index).collect()
    };
    for head in heads {
        let Some(folio) = super::filemap_lock_folio(cx, head) else {
            continue;
        };
        // folio_wait_writeback: sleeps with the folio locked until I/O completion ends it.
        loop {
            let wb = w.mapping.i_pages.lock().folios[folio.id].writeback;
            if !wb {
                break;
            }
            iomc_sync::yield_now(w.backend);
        }
        let mut st = w.mapping.i_pages.lock();
        let fpos = folio.pos(geo);
        let fend = fpos + folio.size(geo);
        if fend <= start || end <= fpos {
            // The folio now at `head` is another, smaller one (the large folio found before was
            // removed meanwhile) and lies outside the range: `find_lock_entries` would not have
            // returned it.
            folio.unlock_put(cx, &mut st);
            continue;
        }
        let partial = !(start <= fpos && fend <= end);
        // split_folio fails (-EBUSY) when `can_split` says so: a dirty folio then stays whole
        // with the covered part zeroed ("return false": the caller skips it), a clean one is
        // dropped whole.
        let unsplittable = partial && folio.nr_pages > 1 && !can_split(&st.folios[folio.id]);
        if unsplittable {
            cx.ev("split_folio", What::Note("large folio cannot be split (-EBUSY)"));
        }
        if partial && folio.nr_pages > 1 && !unsplittable {
            let pages = st.split_folio(geo, folio.id);
            cx.ev("split_folio", What::Note("large folio split into pages"));
            for (i, id) in pages.into_iter().enumerate() {
                let (ppos, pend) = (fpos + i as u64 * geo.page_size, fpos + (i as u64 + 1) * geo.page_size);
                if pend <= start || end <= ppos {
                    continue;
                }
                if start <= ppos && pend <= end {
                    st.delete_folio(id, false);
                    cx.ev("truncate_inode_folio", What::FolioEvicted { pos: ppos, size: pend - ppos, shadow: false });
                } else {
                    zero_segment(cx, &mut st, id, start.max(ppos), end.min(pend), "truncate_inode_partial_folio");
                }
            }
            folio.unlock_put(cx, &mut st);
            continue;
        }
        if !partial || (unsplittable && !st.folios[folio.id].dirty) {
            st.delete_folio(folio.id, false);
            cx.ev("truncate_inode_folio", What::FolioEvicted { pos: fpos, size: fend - fpos, shadow: false });
        } else {
            zero_segment(cx, &mut st, folio.id, start.max(fpos), end.min(fend), "truncate_inode_partial_folio");
        }
        folio.unlock_put(cx, &mut st);
    }
}

/// Whether `split_folio` of a locked page-cache folio can succeed (`__folio_split`, mm/
/// huge_memory.c, 6.1 to 6.18): `filemap_release_folio` → `iomap_release_folio` refuses a
/// dirty folio that has per-block state (a dirty folio written whole has none, 6.6+), and
/// `can_split_folio` refuses one that another task holds a reference to (ours is the one
/// `filemap_lock_folio` took).
fn can_split(f: &super::Folio) -> bool {
    !(f.refs > 1 || (f.dirty && f.ifs.is_some()))
}

/// `folio_zero_segment` of `[zs, ze)` inside folio `id`, for `func` (the event's name).
fn zero_segment(cx: &Ctx<'_>, st: &mut super::MappingState, id: super::FolioId, zs: u64, ze: u64, func: &'static str) {
    let geo = &cx.w.geo;
    let f = &mut st.folios[id];
    let fpos = f.pos(geo);
    f.data[(zs - fpos) as usize..(ze - fpos) as usize].fill(0);
    // Ghost state: blocks wholly inside the zeroed range hold nothing to write back.
    let bs = geo.block_size;
    for b in (zs.div_ceil(bs)..ze / bs).map(|b| ((b * bs - fpos) / bs) as usize) {
        if let Some(c) = f.changed.get_mut(b) {
            *c = false;
        }
    }
    cx.ev(func, What::Zero { from: zs, to: ze });
}

/// `pagecache_isize_extended` (mm/truncate.c, 5.0 to 6.18): when i_size grows from `from` to
/// `to` with blocks smaller than a page, the page straddling the old EOF may now cover blocks
/// that have no backing; write-protect it (`folio_mkclean`, keeping it dirty) so that the next
/// store through a mapping faults and `page_mkwrite` allocates them. From 6.13
/// ([`Behaviour::isize_extended_zero`]) a dirty folio is also zeroed from `from` to
/// `min(to, folio end)`: "the post-eof range of the folio must be zeroed before it is exposed".
///
/// [`Behaviour::isize_extended_zero`]: crate::Behaviour
pub fn pagecache_isize_extended(cx: &Ctx<'_>, from: u64, to: u64) {
    let geo = &cx.w.geo;
    let bs = geo.block_size;
    if from >= to || bs == geo.page_size {
        return;
    }
    let rounded_from = from.div_ceil(bs) * bs;
    if to <= rounded_from || rounded_from.is_multiple_of(geo.page_size) {
        return;
    }
    let Some(folio) = super::filemap_lock_folio(cx, from / geo.page_size) else { return };
    let mut st = cx.w.mapping.i_pages.lock();
    st.folios[folio.id].wrprotect_gen += 1;
    cx.ev("pagecache_isize_extended", What::Note("page straddling the old EOF write-protected"));
    if cx.w.behaviour.isize_extended_zero && st.folios[folio.id].dirty {
        let f = &st.folios[folio.id];
        let end = to.min(f.pos(geo) + f.size(geo));
        zero_segment(cx, &mut st, folio.id, from, end, "pagecache_isize_extended");
    }
    folio.unlock_put(cx, &mut st);
}
