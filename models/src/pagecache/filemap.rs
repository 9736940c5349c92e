//! Folio lookup, creation and locking (mm/filemap.c).

use super::{FolioId, MappingState, Slot};
use crate::events::What;
use crate::world::{Ctx, Geometry};
use iomc_sync::MutexGuard;

/// What `__filemap_get_folio` may do when no folio is cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FolioCreate {
    /// No FGP_CREAT: return nothing.
    No,
    /// FGP_CREAT as the 6.1/6.2 buffered write path uses it: an order-0 folio (large folios on
    /// the write path came in 6.6).
    Order0,
    /// FGP_CREAT with `fgf_set_order(len)` (6.6+ `iomap_get_folio`): the largest allowed folio
    /// of at most `2^(ilog2(len) - PAGE_SHIFT)` pages, aligned at `index` (an unaligned index
    /// lowers the order to its lowest set bit) and free, else smaller.
    Write {
        /// The bytes the write wants in this folio.
        len: u64,
    },
    /// Readahead (`page_cache_ra_order`): the largest allowed folio that is aligned, free and
    /// starts before EOF.
    Readahead,
}

/// A folio the caller holds locked, with a reference.
#[derive(Debug)]
pub struct LockedFolio<'w> {
    /// The folio.
    pub id: FolioId,
    /// Its first page index.
    pub index: u64,
    /// Its size in pages.
    pub nr_pages: u64,
    guard: MutexGuard<'w, ()>,
}

impl LockedFolio<'_> {
    /// File offset of the folio's first byte.
    pub fn pos(&self, geo: &Geometry) -> u64 {
        self.index * geo.page_size
    }
    /// Folio size in bytes.
    pub fn size(&self, geo: &Geometry) -> u64 {
        self.nr_pages * geo.page_size
    }
    /// `folio_put` inside a step that already holds the xarray lock, then `folio_unlock`.
    /// Simplification: the put comes just before the unlock (the kernel unlocks first); this only
    /// hides a moment in which reclaim would find the folio referenced and skip it.
    pub fn unlock_put(self, cx: &Ctx<'_>, st: &mut MappingState) {
        let f = &mut st.folios[self.id];
        f.refs = f.refs.saturating_sub(1);
        cx.ev("folio_unlock", What::FolioUnlocked { pos: self.index * cx.w.geo.page_size });
        drop(self.guard);
    }
}

/// `folio_unlock` + `folio_put` (mm/filemap.c, 6.1 to 6.18), joining the caller's current step
/// (no scheduling point): the put by a holder of the folio lock commutes with every other
/// actor's operation (references are read only under the folio lock, which we hold, and other
/// gets and puts commute with it), and the unlock is a left mover (Lipton).
pub fn folio_unlock(cx: &Ctx<'_>, folio: LockedFolio<'_>) {
    let mut st = cx.w.mapping.i_pages.lock_merged();
    folio.unlock_put(cx, &mut st);
}

/// Where a new folio for `index` would go: `(head, nr_pages)`.
fn new_folio_shape(st: &MappingState, geo: &Geometry, index: u64, create: FolioCreate) -> (u64, u64) {
    if let FolioCreate::Write { len } = create {
        // fgf_set_order: order ilog2(len) - PAGE_SHIFT, 0 below two pages.
        let shift = len.max(1).ilog2();
        let page_shift = geo.page_size.ilog2();
        let mut cap = if shift > page_shift { 1u64 << (shift - page_shift) } else { 1 };
        if index != 0 {
            cap = cap.min(1 << index.trailing_zeros());
        }
        for &n in geo.write_folio_pages.iter().rev().filter(|n| **n <= cap) {
            let fits = index + n <= geo.nr_pages()
                && (index..index + n).all(|i| !matches!(st.slots[i as usize], Slot::Folio(_)));
            if fits {
                return (index, n);
            }
        }
    }
    if create == FolioCreate::Readahead {
        let mut sizes = geo.folio_pages.clone();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        for n in sizes {
            let head = index - index % n;
            let fits = head + n <= geo.nr_pages()
                && head * geo.page_size < st.i_size.max(1)
                && (head..head + n).all(|i| !matches!(st.slots[i as usize], Slot::Folio(_)));
            if fits {
                return (head, n);
            }
        }
    }
    (index, 1)
}

/// `__filemap_get_folio(FGP_LOCK [| FGP_CREAT])` (mm/filemap.c, 6.1 and 6.2): find the folio
/// covering `index`, take a reference, lock it and check it is still in the mapping (retry if
/// it was removed meanwhile); with FGP_CREAT, allocate a folio and insert it locked.
/// Simplification: a folio's lock is taken before its insertion (the kernel allocates and
/// inserts it already locked); the allocation is a real preemption point either way.
pub fn filemap_get_folio<'w>(cx: &Ctx<'w>, index: u64, create: FolioCreate) -> Option<LockedFolio<'w>> {
    let w = cx.w;
    let geo = &w.geo;
    loop {
        // Lookup under RCU / xa_lock: take a reference (folio_try_get).
        let found = {
            let mut st = w.mapping.i_pages.lock();
            match st.folio_at(index) {
                Some(id) => {
                    let f = &mut st.folios[id];
                    f.refs += 1;
                    let what = What::FolioFound {
                        pos: f.pos(geo),
                        size: f.size(geo),
                        uptodate: f.uptodate,
                        dirty: f.dirty,
                        writeback: f.writeback,
                    };
                    cx.ev("__filemap_get_folio", what);
                    Ok((id, f.index))
                }
                None if create == FolioCreate::No => return None,
                None => Err(new_folio_shape(&st, geo, index, create)),
            }
        };
        match found {
            Ok((id, head)) => {
                // A free folio lock is taken in the lookup's step (a held one is waited for: a
                // real scheduling point). Nothing is lost: between the lookup and the lock,
                // reclaim would see our reference and keep the folio, as it does when its
                // trylock fails because we hold the lock; a truncation or another lock holder
                // is waited for or makes us look again, as if it had come first.
                let guard = w.mapping.folio_locks[head as usize].lock_merged();
                // Merged into the folio lock's step: an acquisition commutes with every other
                // actor's operation on other objects (a right mover), so no interleaving is
                // lost; the kernel's recheck (`folio->mapping`, `folio->index`) reads fields
                // only a holder of this lock changes.
                let mut st = w.mapping.i_pages.lock_merged();
                let f = &mut st.folios[id];
                // Still in the mapping, and (after a split) still the folio covering `index`.
                if f.in_mapping && f.index == head && index < f.index + f.nr_pages {
                    cx.ev("folio_lock", What::FolioLocked { pos: head * geo.page_size });
                    let nr_pages = f.nr_pages;
                    return Some(LockedFolio { id, index: head, nr_pages, guard });
                }
                // Truncated or reclaimed while we waited: put it and look again.
                f.refs -= 1;
                drop(st);
                drop(guard);
            }
            Err((head, nr)) => {
                // The kernel's lookup, allocation and `filemap_add_folio` of a locked new folio:
                // one step when the lock is free (an insertion by another actor in between
                // makes the kernel's add fail with -EEXIST and look again, as if it had come
                // first).
                let guard = w.mapping.folio_locks[head as usize].lock_merged();
                // Merged into the folio lock's step (a right mover, as above): the kernel
                // allocates the folio locked and inserts it in one xa_lock section.
                let mut st = w.mapping.i_pages.lock_merged();
                let free = (head..head + nr).all(|i| !matches!(st.slots[i as usize], Slot::Folio(_)));
                if free {
                    let id = st.insert_folio(geo, head, nr);
                    st.folios[id].refs += 1;
                    let (pos, size) = (head * geo.page_size, nr * geo.page_size);
                    cx.ev("filemap_add_folio", What::FolioCreated { pos, size, locked: true });
                    return Some(LockedFolio { id, index: head, nr_pages: nr, guard });
                }
                // Someone else inserted a folio meanwhile: start over and find it.
                drop(st);
                drop(guard);
            }
        }
    }
}

/// `filemap_lock_folio` (mm/filemap.c, 6.1 and 6.2): lookup without FGP_CREAT, locked.
pub fn filemap_lock_folio<'w>(cx: &Ctx<'w>, index: u64) -> Option<LockedFolio<'w>> {
    filemap_get_folio(cx, index, FolioCreate::No)
}

/// `filemap_range_needs_writeback` (mm/filemap.c): some folio in `[start, end)` is dirty,
/// locked (the model sees writeback's lock only: [`Folio::wb_locked`]) or under writeback. One
/// look under the page-cache lock (the kernel walks the xarray under RCU).
///
/// [`Folio::wb_locked`]: super::Folio
pub fn filemap_range_needs_writeback(cx: &Ctx<'_>, start: u64, end: u64) -> bool {
    let geo = &cx.w.geo;
    let st = cx.w.mapping.i_pages.lock();
    st.folios_in_range(geo, start, end).into_iter().any(|id| {
        let f = &st.folios[id];
        f.dirty || f.wb_locked || f.writeback
    })
}
