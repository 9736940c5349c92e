//! Memory reclaim and `drop_caches` (mm/vmscan.c, mm/truncate.c).

use crate::events::What;
use crate::world::Ctx;

/// Try once to evict each folio in `[start, end)`: trylock, then evict only if it is still in
/// the mapping, clean, not under writeback and not referenced; free its per-block state and
/// leave a shadow entry when `shadow`.
fn evict_range(cx: &Ctx<'_>, start: u64, end: u64, func: &'static str, shadow: bool) {
    let w = cx.w;
    let geo = &w.geo;
    let heads: Vec<u64> = {
        let st = w.mapping.i_pages.lock();
        st.folios_in_range(geo, start, end).into_iter().map(|id| st.folios[id].index).collect()
    };
    for head in heads {
        let pos = head * geo.page_size;
        let Some(guard) = w.mapping.folio_locks[head as usize].try_lock() else {
            cx.ev(func, What::FolioKept { pos, why: "locked" });
            continue;
        };
        {
            let mut st = w.mapping.i_pages.lock();
            let Some(id) = st.folio_at(head).filter(|id| st.folios[*id].index == head) else {
                continue;
            };
            let f = &st.folios[id];
            let why = if f.dirty {
                Some("dirty")
            } else if f.writeback {
                Some("under writeback")
            } else if f.refs > 0 {
                Some("referenced")
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
        drop(guard);
    }
}

/// `shrink_folio_list` → `__remove_mapping` (mm/vmscan.c) with `iomap_release_folio`
/// (fs/iomap/buffered-io.c), 6.1 and 6.2, applied once to each folio in `[start, end)`.
/// Simplification: the LRU scan is replaced by the scenario's explicit range; mapped folios
/// are unmapped without cost (no PTE state is modelled beyond the dirty bit).
pub fn shrink_folio_range(cx: &Ctx<'_>, start: u64, end: u64) {
    evict_range(cx, start, end, "shrink_folio_list", true);
}

/// `invalidate_mapping_pages` (mm/truncate.c, 6.1 and 6.2), as `drop_caches` uses it: like
/// reclaim, but no shadow entries are left.
pub fn invalidate_mapping_pages(cx: &Ctx<'_>, start: u64, end: u64) {
    evict_range(cx, start, end, "invalidate_mapping_pages", false);
}
