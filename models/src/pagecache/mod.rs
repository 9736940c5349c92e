//! The page cache: folios in an xarray, their flags and per-block state, the folio lock,
//! lookup and creation, reclaim, truncation and `mapping_seek_hole_data`.

mod filemap;
mod reclaim;
mod seek;
mod truncate;

pub use filemap::{
    filemap_get_folio, filemap_lock_folio, filemap_range_needs_writeback, folio_unlock, FolioCreate, LockedFolio,
};
pub use reclaim::{
    invalidate_after_exit, invalidate_inode_pages2_range, invalidate_mapping_pages, madvise_pageout_range,
};
pub use seek::{mapping_seek_hole_data, seek_shadow_as_hole, Whence};
pub use truncate::{pagecache_isize_extended, truncate_pagecache_range};

use crate::world::Geometry;
use iomc_sync::{Backend, Mutex, RwLock};

/// Index of a folio in [`MappingState::folios`]; unique within one execution.
pub type FolioId = usize;

/// One xarray slot (one page index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Nothing: a hole in the page cache.
    Empty,
    /// A workingset shadow (value) entry left by reclaim: DATA to `mapping_seek_hole_data`,
    /// absent to lookups.
    Shadow,
    /// Covered by this folio.
    Folio(FolioId),
}

/// A folio and its state (`struct folio` flags plus iomap's per-block state).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folio {
    /// First page index.
    pub index: u64,
    /// Size in pages.
    pub nr_pages: u64,
    /// Still in the mapping (`folio->mapping != NULL`).
    pub in_mapping: bool,
    /// PG_uptodate.
    pub uptodate: bool,
    /// PG_dirty (and the xarray DIRTY tag).
    pub dirty: bool,
    /// PG_writeback.
    pub writeback: bool,
    /// PG_locked while writeback holds the folio lock (from `folio_clear_dirty_for_io` to
    /// `folio_unlock`). Ghost state read only by `filemap_range_needs_writeback`, whose
    /// `folio_test_locked` the model cannot ask of its checker mutexes without a scheduling
    /// point. Simplification: other holders are not seen; the zeroing that asks holds
    /// IOLOCK and MMAPLOCK exclusive, which keeps writers, faults and truncation out, and a
    /// reader's or reclaim's hold only makes the kernel flush for nothing.
    pub wb_locked: bool,
    /// Per-block uptodate bits (`struct iomap_page`, 6.1/6.2); only with more than one block
    /// per folio; dropped by reclaim and full invalidation.
    pub ifs: Option<Vec<bool>>,
    /// References held by actors beyond the page cache's own (lookups not yet put).
    pub refs: u32,
    /// Ghost state for the oracle, not kernel state: per block, whether its bytes were changed
    /// (written, stored, zeroed for EOF) since the folio was last cleaned for I/O. 6.1/6.2
    /// track dirtiness per folio only; this tells the `dirty-over-hole` invariant which blocks
    /// of a dirty folio really hold data that has to reach the disk.
    pub changed: Vec<bool>,
    /// Per-block dirty bits of `iomap_folio_state` (6.6+, used when
    /// [`Behaviour::per_block_dirty`](crate::Behaviour) is on): set by a buffered write over the
    /// blocks it copied into and by `iomap_dirty_folio` over the whole folio, cleared when
    /// writeback cleans the folio.
    pub ifs_dirty: Vec<bool>,
    /// PTEs of actors' shared mappings that map this folio (`folio_mapcount`); reclaim and
    /// truncation unmap before they remove a folio, `invalidate_mapping_pages` skips a mapped one.
    pub mapped: u32,
    /// Bumped whenever writeback write-protects the folio's PTEs (`folio_clear_dirty_for_io`
    /// → `page_mkclean`): a mapping made writable before must fault again to store.
    pub wrprotect_gen: u32,
    /// The folio's bytes.
    pub data: Vec<u8>,
}

impl Folio {
    /// File offset of the first byte.
    pub fn pos(&self, geo: &Geometry) -> u64 {
        self.index * geo.page_size
    }
    /// Size in bytes.
    pub fn size(&self, geo: &Geometry) -> u64 {
        self.nr_pages * geo.page_size
    }
    /// Mark the blocks of `[from, to)` (file offsets) as changed since the last clean (ghost state).
    pub fn mark_changed(&mut self, geo: &Geometry, from: u64, to: u64) {
        let fpos = self.pos(geo);
        if to <= from {
            return;
        }
        let first = ((from - fpos) / geo.block_size) as usize;
        let last = ((to - fpos).div_ceil(geo.block_size) as usize).min(self.changed.len());
        for c in &mut self.changed[first..last] {
            *c = true;
        }
    }

    /// `iomap_set_range_dirty` (fs/iomap/buffered-io.c, 6.6): set the dirty bits of the blocks
    /// of `[from, to)` (file offsets).
    pub fn iomap_set_range_dirty(&mut self, geo: &Geometry, from: u64, to: u64) {
        let fpos = self.pos(geo);
        let first = (from.saturating_sub(fpos) / geo.block_size) as usize;
        let last = (to.saturating_sub(fpos).div_ceil(geo.block_size) as usize).min(self.ifs_dirty.len());
        for d in self.ifs_dirty.iter_mut().take(last).skip(first) {
            *d = true;
        }
    }

    /// Is block `i` of this folio uptodate (folio flag or per-block bit)?
    pub fn block_uptodate(&self, i: usize) -> bool {
        self.uptodate || self.ifs.as_ref().is_some_and(|b| b.get(i).copied().unwrap_or(false))
    }
}

/// Page-cache state under the xarray lock. `i_size` lives here too: every model access to it
/// sits in a step that already touches page-cache state, so a separate checker object would
/// only add scheduling points (the kernel reads it lock-free with `i_size_read`).
#[derive(Clone, Debug)]
pub struct MappingState {
    /// One slot per page index of the modelled span.
    pub slots: Vec<Slot>,
    /// Every folio created in this execution, by id.
    pub folios: Vec<Folio>,
    /// In-memory file size (`inode->i_size`).
    pub i_size: u64,
}

impl MappingState {
    /// The folio covering page `index`, if any.
    pub fn folio_at(&self, index: u64) -> Option<FolioId> {
        match self.slots.get(index as usize) {
            Some(Slot::Folio(id)) => Some(*id),
            _ => None,
        }
    }

    /// The folio covering file byte `pos`, if any.
    pub fn folio_at_pos(&self, geo: &Geometry, pos: u64) -> Option<FolioId> {
        self.folio_at(pos / geo.page_size)
    }

    /// Insert a new folio of `nr_pages` at `index` (not uptodate, clean, no per-block state).
    pub fn insert_folio(&mut self, geo: &Geometry, index: u64, nr_pages: u64) -> FolioId {
        let id = self.folios.len();
        self.folios.push(Folio {
            index,
            nr_pages,
            in_mapping: true,
            uptodate: false,
            dirty: false,
            writeback: false,
            wb_locked: false,
            ifs: None,
            mapped: 0,
            refs: 0,
            wrprotect_gen: 0,
            changed: vec![false; (nr_pages * geo.page_size / geo.block_size) as usize],
            ifs_dirty: vec![false; (nr_pages * geo.page_size / geo.block_size) as usize],
            data: vec![0u8; (nr_pages * geo.page_size) as usize],
        });
        for i in index..index + nr_pages {
            self.slots[i as usize] = Slot::Folio(id);
        }
        id
    }

    /// Delete the shadow entries of the pages in `[start, end)`.
    pub fn clear_shadows(&mut self, geo: &Geometry, start: u64, end: u64) {
        let last = end.div_ceil(geo.page_size).min(self.slots.len() as u64);
        for i in start / geo.page_size..last {
            if self.slots[i as usize] == Slot::Shadow {
                self.slots[i as usize] = Slot::Empty;
            }
        }
    }

    /// Remove a folio from the mapping, leaving shadow entries or empty slots.
    pub fn delete_folio(&mut self, id: FolioId, shadow: bool) {
        let f = &mut self.folios[id];
        f.in_mapping = false;
        f.ifs = None;
        f.mapped = 0;
        let (index, nr) = (f.index, f.nr_pages);
        for i in index..index + nr {
            self.slots[i as usize] = if shadow { Slot::Shadow } else { Slot::Empty };
        }
    }

    /// `iomap_page_create` / `ifs_alloc` (6.1 to 6.18): per-block state when a folio holds more
    /// than one block; every uptodate bit set if the folio is uptodate and (6.6+) every dirty
    /// bit if it is dirty.
    pub fn iomap_page_create(&mut self, geo: &Geometry, id: FolioId) {
        let f = &mut self.folios[id];
        let nblocks = (f.size(geo) / geo.block_size) as usize;
        if nblocks > 1 && f.ifs.is_none() {
            f.ifs = Some(vec![f.uptodate; nblocks]);
            if f.dirty {
                f.ifs_dirty.fill(true);
            }
        }
    }

    /// `iomap_set_range_uptodate` (6.1 and 6.2): set per-block bits over `[pos, pos+len)` and the
    /// folio flag once every block is uptodate (or at once without per-block state).
    pub fn iomap_set_range_uptodate(&mut self, geo: &Geometry, id: FolioId, pos: u64, len: u64) {
        let f = &mut self.folios[id];
        let fpos = f.index * geo.page_size;
        match &mut f.ifs {
            Some(bits) => {
                let first = ((pos - fpos) / geo.block_size) as usize;
                let last = ((pos + len - fpos).div_ceil(geo.block_size)) as usize;
                let last = last.min(bits.len());
                for b in &mut bits[first..last] {
                    *b = true;
                }
                if bits.iter().all(|b| *b) {
                    f.uptodate = true;
                }
            }
            None => f.uptodate = true,
        }
    }

    /// `split_folio` (mm/huge_memory.c): replace folio `id` by order-0 folios carrying its data,
    /// flags and per-block state; the first keeps `id`. Returns the page folios in order.
    pub fn split_folio(&mut self, geo: &Geometry, id: FolioId) -> Vec<FolioId> {
        let f = self.folios[id].clone();
        let ps = geo.page_size as usize;
        let bpp = (geo.page_size / geo.block_size) as usize;
        let mut out = Vec::new();
        for i in 0..f.nr_pages as usize {
            let bits = |v: &[bool]| v[i * bpp..(i + 1) * bpp].to_vec();
            let ifs_bits = f.ifs.as_deref().map(bits);
            let uptodate = f.uptodate || ifs_bits.as_ref().is_some_and(|b| b.iter().all(|x| *x));
            let page = Folio {
                index: f.index + i as u64,
                nr_pages: 1,
                in_mapping: true,
                uptodate,
                dirty: f.dirty,
                writeback: f.writeback,
                wb_locked: false,
                ifs: ifs_bits.filter(|_| bpp > 1),
                refs: if i == 0 { f.refs } else { 0 },
                // unmap_folio before the split: every PTE of the old folio is gone.
                mapped: 0,
                // unmap_folio before the split: every PTE of the old folio is gone, so a
                // store through a mapping made before must fault again.
                wrprotect_gen: f.wrprotect_gen + 1,
                changed: bits(&f.changed),
                // Simplification: each page keeps its blocks' dirty bits (the kernel frees the
                // iomap_folio_state on split and marks every piece of a dirty folio dirty).
                ifs_dirty: bits(&f.ifs_dirty),
                data: f.data[i * ps..(i + 1) * ps].to_vec(),
            };
            let pid = if i == 0 {
                self.folios[id] = page;
                id
            } else {
                self.folios.push(page);
                self.folios.len() - 1
            };
            self.slots[(f.index + i as u64) as usize] = Slot::Folio(pid);
            out.push(pid);
        }
        out
    }

    /// Folio ids in the mapping whose pages intersect `[start, end)` bytes, in index order.
    pub fn folios_in_range(&self, geo: &Geometry, start: u64, end: u64) -> Vec<FolioId> {
        let mut out = Vec::new();
        if end <= start {
            return out;
        }
        let first = start / geo.page_size;
        let last = (end - 1) / geo.page_size;
        let mut i = first;
        while i <= last && (i as usize) < self.slots.len() {
            if let Slot::Folio(id) = self.slots[i as usize] {
                out.push(id);
                let f = &self.folios[id];
                i = f.index + f.nr_pages;
            } else {
                i += 1;
            }
        }
        out
    }
}

/// `struct address_space` of the file.
#[derive(Debug)]
pub struct AddressSpace {
    /// The xarray, folio state and `i_size`, under one lock (`xa_lock`).
    pub i_pages: Mutex<MappingState>,
    /// `mapping->invalidate_lock` (XFS_MMAPLOCK).
    pub invalidate_lock: RwLock<()>,
    /// Folio locks, one per page index: the lock of the folio whose head is that page. A
    /// folio is only ever removed by a holder of its lock, so a removed folio and a new one at
    /// the same index share a lock only while a stale lookup notices the removal.
    pub folio_locks: Vec<Mutex<()>>,
}

impl AddressSpace {
    /// An empty page cache over the modelled span.
    pub fn new(backend: Backend, geo: &Geometry) -> AddressSpace {
        let n = geo.nr_pages() as usize;
        AddressSpace {
            i_pages: Mutex::named(
                backend,
                "i_pages",
                MappingState { slots: vec![Slot::Empty; n], folios: Vec::new(), i_size: 0 },
            ),
            invalidate_lock: RwLock::named(backend, "invalidate_lock", ()),
            folio_locks: (0..n)
                .map(|i| Mutex::named(backend, format!("folio {}", i as u64 * geo.page_size), ()))
                .collect(),
        }
    }
}
