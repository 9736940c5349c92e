//! `iomap_page_mkwrite` (fs/iomap/buffered-io.c, 6.1 and 6.2).

use super::{iomap_iter, iomap_length, IomapIter, IomapOps, IterFlags};
use crate::events::What;
use crate::pagecache::{filemap_lock_folio, LockedFolio};
use crate::world::Ctx;

/// Why a write fault must be retried from the start (VM_FAULT_NOPAGE / SIGBUS-free retry).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultRetry {
    /// The folio was truncated or reclaimed before it could be locked.
    Truncated,
    /// The page lies beyond EOF (SIGBUS).
    BeyondEof,
    /// The mapping iteration failed.
    Error,
}

/// `iomap_page_mkwrite` (fs/iomap/buffered-io.c, 6.1 and 6.2): lock the folio, check it was not
/// truncated (`folio_mkwrite_check_truncate`: it must still be the faulted folio), iterate `->iomap_begin` with
/// IOMAP_WRITE|IOMAP_FAULT over the part inside EOF (XFS may reserve delalloc), and mark the
/// whole folio dirty (`iomap_folio_mkwrite_iter`). Returns the folio still locked
/// (VM_FAULT_LOCKED). Simplification: `folio_wait_stable` is a no-op (no stable pages).
pub fn iomap_page_mkwrite<'w>(
    cx: &Ctx<'w>,
    index: u64,
    faulted: crate::pagecache::FolioId,
    ops: &dyn IomapOps,
) -> Result<LockedFolio<'w>, FaultRetry> {
    let w = cx.w;
    let geo = &w.geo;
    let folio = filemap_lock_folio(cx, index).ok_or(FaultRetry::Truncated)?;
    if folio.id != faulted {
        // vmf->page was truncated and something else now sits at this index.
        crate::pagecache::folio_unlock(cx, folio);
        return Err(FaultRetry::Truncated);
    }
    let (fpos, len) = {
        let st = w.mapping.i_pages.lock();
        let fpos = folio.pos(geo);
        if fpos >= st.i_size {
            drop(st);
            crate::pagecache::folio_unlock(cx, folio);
            return Err(FaultRetry::BeyondEof);
        }
        (fpos, folio.size(geo).min(st.i_size - fpos))
    };
    let mut iter = IomapIter::new(fpos, len, IterFlags { write: true, fault: true, zero: false });
    loop {
        match iomap_iter(cx, &mut iter, ops) {
            Ok(true) => iter.processed = iomap_folio_mkwrite_iter(cx, &iter, &folio) as i64,
            Ok(false) => break,
            Err(_) => {
                crate::pagecache::folio_unlock(cx, folio);
                return Err(FaultRetry::Error);
            }
        }
    }
    Ok(folio)
}

/// `iomap_folio_mkwrite_iter` (fs/iomap/buffered-io.c, 6.1 to 6.18): WARN if the folio is not
/// uptodate, then `folio_mark_dirty` on the whole folio (from 6.6 through `iomap_dirty_folio`,
/// which allocates per-block state).
fn iomap_folio_mkwrite_iter(cx: &Ctx<'_>, iter: &IomapIter, folio: &LockedFolio<'_>) -> u64 {
    let mut st = cx.w.mapping.i_pages.lock();
    if cx.w.behaviour.per_block_dirty {
        // folio_mark_dirty -> iomap_dirty_folio (6.6+) allocates the per-block state first
        // (ifs_alloc), so a folio once written whole has it from its first fault on.
        st.iomap_page_create(&cx.w.geo, folio.id);
    }
    let f = &mut st.folios[folio.id];
    if !f.uptodate {
        cx.warn("iomap_folio_mkwrite_iter", format!("WARN_ON_ONCE(!folio_test_uptodate) at {}", iter.pos));
    }
    // folio_mark_dirty -> iomap_dirty_folio (6.6+): every block of the folio dirty.
    f.ifs_dirty.fill(true);
    if !f.dirty {
        f.dirty = true;
        cx.ev("iomap_folio_mkwrite_iter", What::FolioDirty { pos: folio.pos(&cx.w.geo) });
    }
    iomap_length(iter)
}
