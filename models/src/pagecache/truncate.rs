//! Page-cache truncation (mm/truncate.c).

use crate::events::What;
use crate::world::Ctx;

/// `truncate_pagecache_range` → `truncate_inode_pages_range` (mm/truncate.c, 6.1 and 6.2) over
/// bytes `[start, end)`: folios wholly inside are removed even if dirty (their data is
/// discarded); a partially covered folio waits for writeback, has the covered part zeroed and
/// stays in the cache, still dirty if it was (`iomap_invalidate_folio` of part of a folio
/// keeps it). Simplification: large folios are not split.
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
        if start <= fpos && fend <= end {
            st.delete_folio(folio.id, false);
            cx.ev("truncate_inode_folio", What::FolioEvicted { pos: fpos, size: fend - fpos, shadow: false });
        } else {
            let (zs, ze) = (start.max(fpos), end.min(fend));
            let f = &mut st.folios[folio.id];
            f.data[(zs - fpos) as usize..(ze - fpos) as usize].fill(0);
            cx.ev("truncate_inode_partial_folio", What::Zero { from: zs, to: ze });
        }
        folio.unlock_put(cx, &mut st);
    }
}
