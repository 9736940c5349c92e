//! Memory reclaim and `drop_caches` (mm/vmscan.c, mm/truncate.c).

use crate::events::What;
use crate::world::Ctx;

/// How [`evict_range`] treats what it meets.
#[derive(Clone, Copy)]
struct Evict {
    /// Kernel function named in events.
    func: &'static str,
    /// Leave a shadow entry for each folio evicted (reclaim), or clear the shadow entries in
    /// the range (`invalidate_exceptional_entry`).
    shadow: bool,
    /// Split a large folio the range covers only in part ([`madvise_pageout_range`]).
    split_partial: bool,
    /// Keep a folio mapped by a PTE (`mapping_evict_folio`'s refcount test); reclaim unmaps it
    /// instead.
    skip_mapped: bool,
}

/// Try once to evict each folio in `[start, end)`: trylock, then evict only if it is still in
/// the mapping, clean, not under writeback and not referenced; free its per-block state and
/// leave a shadow entry, or clear the range's shadow entries, as `how` says.
fn evict_range(cx: &Ctx<'_>, start: u64, end: u64, how: Evict) {
    let Evict { func, shadow, split_partial, skip_mapped } = how;
    let w = cx.w;
    let geo = &w.geo;
    let (heads, end) = {
        let mut st = w.mapping.i_pages.lock();
        if !shadow {
            // find_lock_entries returns the shadow entries too; invalidate_exceptional_entry
            // deletes each.
            st.clear_shadows(geo, start, end);
        }
        // MADV_PAGEOUT sees only mapped pages, and none wholly beyond EOF can be mapped.
        let end = if split_partial { end.min(st.i_size.div_ceil(geo.page_size) * geo.page_size) } else { end };
        let heads: Vec<u64> = st.folios_in_range(geo, start, end).into_iter().map(|id| st.folios[id].index).collect();
        (heads, end)
    };
    for head in heads {
        let pos = head * geo.page_size;
        // The trylock joins the step that found the folio (the scan, or the previous folio's
        // step): a lock taken by another actor in between is one taken before the scan (its
        // step commutes with the scan, which only reads the xarray), so the trylock fails as
        // it would there; a lock released in between is released in a step that commutes
        // with the scan too.
        let Some(guard) = w.mapping.folio_locks[head as usize].try_lock_merged() else {
            cx.ev(func, What::FolioKept { pos, why: "locked" });
            continue;
        };
        {
            // Merged into the trylock's step: a successful acquisition commutes with every
            // other actor's operation on other objects (a right mover), so no interleaving
            // is lost.
            let mut st = w.mapping.i_pages.lock_merged();
            let Some(id) = st.folio_at(head).filter(|id| st.folios[*id].index == head) else {
                continue;
            };
            let f = &st.folios[id];
            if split_partial && geo.pageout_uptodate_only && !f.uptodate {
                cx.ev(func, What::FolioKept { pos, why: "not uptodate, so not mapped (iomc conform)" });
                continue;
            }
            let partial = pos < start || pos + f.size(geo) > end;
            let ids = if split_partial && f.nr_pages > 1 && partial {
                // split_folio fails (-EBUSY) under writeback, with extra references, or when
                // filemap_release_folio -> iomap_release_folio refuses: a dirty folio with
                // per-block state.
                if f.writeback || f.refs > 0 || (f.dirty && f.ifs.is_some()) {
                    cx.ev(func, What::FolioKept { pos, why: "large folio partly in range, cannot split" });
                    continue;
                }
                cx.ev("split_folio", What::Note("large folio partly in the range split into pages"));
                let pages = st.split_folio(geo, id);
                pages
                    .into_iter()
                    .filter(|p| st.folios[*p].pos(geo) < end && st.folios[*p].pos(geo) + geo.page_size > start)
                    .collect()
            } else {
                vec![id]
            };
            for id in ids {
                let f = &st.folios[id];
                let pos = f.pos(geo);
                let why = if f.dirty {
                    Some("dirty")
                } else if f.writeback {
                    Some("under writeback")
                } else if f.refs > 0 {
                    Some("referenced")
                } else if skip_mapped && f.mapped > 0 {
                    Some("mapped")
                } else {
                    None
                };
                match why {
                    Some(why) => cx.ev(func, What::FolioKept { pos, why }),
                    None => {
                        let size = f.size(geo);
                        st.delete_folio(id, shadow);
                        cx.ev(func, What::FolioEvicted { pos, size, shadow });
                    }
                }
            }
        }
        drop(guard);
    }
}

/// `madvise(MADV_PAGEOUT)` over `[start, end)` of a shared mapping that has every cached page
/// mapped (`madvise_cold_or_pageout_pte_range` → `reclaim_pages` → `shrink_folio_list`, mm/
/// madvise.c and mm/vmscan.c, 6.1 to 6.18; `shrink_folio_list` → `__remove_mapping` with
/// `iomap_release_folio`): try once to evict each clean, unreferenced folio not under
/// writeback, leaving a shadow entry; a large folio the range covers only in part is split
/// first (`split_folio`, after a trylock), which kswapd never does. The scenario op `reclaim`
/// is this, the real counterpart `iomc conform` runs; over whole folios it is what kswapd does
/// to them. Simplification: the LRU scan is replaced by the explicit range; mapped folios are
/// unmapped without cost; a split and the eviction of the pages in the range are one step
/// under the head page's lock (the kernel relocks each page).
///
/// madvise(2) works on whole pages (`len = PAGE_ALIGN(len_in)`; the real side maps from the
/// page holding `start`), so the range is rounded out to pages before "covers in part" is
/// decided: `[0, 4097)` covers an 8 KiB folio whole. Pages wholly beyond EOF cannot be
/// mapped (the fault gets SIGBUS), so the range ends at EOF rounded up to a page: a large
/// folio straddling EOF is seen only through its pages inside EOF.
pub fn madvise_pageout_range(cx: &Ctx<'_>, start: u64, end: u64) {
    let page = cx.w.geo.page_size;
    let (start, end) = (start / page * page, end.div_ceil(page) * page);
    let how = Evict { func: "shrink_folio_list", shadow: true, split_partial: true, skip_mapped: false };
    evict_range(cx, start, end, how);
}

/// `invalidate_mapping_pages` → `mapping_try_invalidate` (mm/truncate.c, 6.1 to 6.18), as
/// `drop_caches` uses it: like reclaim, but a mapped folio is kept (`mapping_evict_folio`: its
/// PTEs hold references), no shadow entries are left and those in the range are deleted
/// (`invalidate_exceptional_entry`).
pub fn invalidate_mapping_pages(cx: &Ctx<'_>, start: u64, end: u64) {
    let how = Evict { func: "invalidate_mapping_pages", shadow: false, split_partial: false, skip_mapped: true };
    evict_range(cx, start, end, how);
}

/// What a reader sees after every process that mapped the file has exited: their mappings are
/// gone (`exit_mmap` unmaps every PTE), then `invalidate_mapping_pages` drops the clean cache.
/// The oracle's durable view and the conformance check's final view use this.
pub fn invalidate_after_exit(cx: &Ctx<'_>, start: u64, end: u64) {
    let how = Evict { func: "invalidate_mapping_pages", shadow: false, split_partial: false, skip_mapped: false };
    evict_range(cx, start, end, how);
}

/// `invalidate_inode_pages2_range` (mm/truncate.c, 5.0 to 6.18) over the folios touching
/// `[start, end)`, as direct I/O calls it before and after a write: lock each folio (waiting
/// for it), wait for its writeback, unmap it from every mapping (`unmap_mapping_folio`: the
/// PTEs go, the next store faults again), then remove it unless it is dirty
/// (`invalidate_complete_folio2` fails: -EBUSY). No shadow entries are left, and those in the
/// range are deleted. Returns whether every folio went. Simplification: XFS has no
/// `->launder_folio`, so a dirty folio is simply kept.
pub fn invalidate_inode_pages2_range(cx: &Ctx<'_>, start: u64, end: u64) -> bool {
    let w = cx.w;
    let geo = &w.geo;
    let func = "invalidate_inode_pages2_range";
    let heads: Vec<u64> = {
        let mut st = w.mapping.i_pages.lock();
        st.clear_shadows(geo, start, end);
        st.folios_in_range(geo, start, end).into_iter().map(|id| st.folios[id].index).collect()
    };
    let mut all = true;
    for head in heads {
        let pos = head * geo.page_size;
        let guard = w.mapping.folio_locks[head as usize].lock();
        loop {
            // Merged into the folio lock's (or the writeback wait's yield's) step: a right
            // mover, as in `evict_range`.
            let mut st = w.mapping.i_pages.lock_merged();
            let Some(id) = st.folio_at(head).filter(|id| st.folios[*id].index == head) else {
                break;
            };
            if st.folios[id].writeback {
                drop(st);
                // folio_wait_writeback with the folio locked.
                iomc_sync::yield_now(w.backend);
                continue;
            }
            let f = &mut st.folios[id];
            if f.mapped > 0 {
                f.mapped = 0;
                f.wrprotect_gen += 1;
                cx.ev("unmap_mapping_folio", What::Note("folio unmapped from every mapping"));
            }
            if f.dirty {
                all = false;
                cx.ev(func, What::FolioKept { pos, why: "dirty" });
            } else {
                let size = f.size(geo);
                st.delete_folio(id, false);
                cx.ev(func, What::FolioEvicted { pos, size, shadow: false });
            }
            break;
        }
        drop(guard);
    }
    all
}
