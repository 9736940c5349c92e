//! Write faults through a shared mapping (mm/memory.c `do_shared_fault`, mm/filemap.c
//! `filemap_fault`, fs/xfs/xfs_file.c `xfs_filemap_page_mkwrite`), and the user's store.

use super::iomap_ops::xfs_buffered_write_iomap_begin_ac;
use super::zoned::{xfs_zoned_space_reserve, ZoneAllocCtx};
use super::XfsBufferedWriteIomapOps;
use crate::events::What;
use crate::iomap::{iomap_page_mkwrite, iomap_read_folio, Errno, FaultRetry, Iomap, IomapOps, IterFlags};
use crate::pagecache::{filemap_get_folio, folio_unlock, FolioCreate, FolioId, LockedFolio};
use crate::world::Ctx;
use std::collections::BTreeMap;

/// `xfs_page_mkwrite_iomap_ops` (fs/xfs/xfs_iomap.c, 6.2, 118e021b4b66): `->iomap_begin` only
/// (6.13 folds it back into the buffered-write ops, whose `->iomap_end` returns at once for
/// IOMAP_FAULT: the same behaviour). On a zoned inode, with the fault's reservation.
#[derive(Clone, Copy, Debug)]
pub struct XfsPageMkwriteIomapOps<'a> {
    /// `iter->private`: the fault's block reservation (zoned XFS only).
    pub ac: Option<&'a ZoneAllocCtx>,
}

impl IomapOps for XfsPageMkwriteIomapOps<'_> {
    fn iomap_begin(&self, cx: &Ctx<'_>, pos: u64, len: u64, flags: IterFlags) -> Result<Iomap, Errno> {
        xfs_buffered_write_iomap_begin_ac(cx, pos, len, flags, self.ac)
    }
    fn iomap_end(&self, _: &Ctx<'_>, _: u64, _: u64, _: u64, _: IterFlags, _: &Iomap) -> Option<Result<(), Errno>> {
        None
    }
    fn iomap_valid(&self, _: &Ctx<'_>, _: &Iomap, _: bool) -> Option<bool> {
        None
    }
}

/// One process's writable PTEs over the file: page index → (folio, write-protect generation
/// and EOF when the PTE was made writable). Private to the actor. Bytes a store puts beyond the
/// EOF its fault saw are not tracked as changed (ghost state; POSIX leaves them undefined), but
/// the op's result counts every byte stored below the EOF of the moment, as the real runner
/// does (`min(offset + stored, size) - offset`).
#[derive(Clone, Debug, Default)]
pub struct Vma {
    /// page index -> (folio, write-protect generation, EOF when the fault made it writable).
    ptes: BTreeMap<u64, (FolioId, u32, u64)>,
}

/// `filemap_fault` (mm/filemap.c, 6.1 and 6.2), the read side of a write fault: an uptodate
/// cached folio is used as is; otherwise, under `invalidate_lock` shared, the folio is created
/// (readahead) and read with a fresh read mapping (zeroes for hole, delalloc, unwritten).
/// Simplification: the fast path's lock/check/unlock of an uptodate folio is not modelled
/// (page_mkwrite locks and re-checks it).
fn filemap_fault(cx: &Ctx<'_>, index: u64) -> Result<FolioId, FaultRetry> {
    let w = cx.w;
    {
        let st = w.mapping.i_pages.lock();
        if index * w.geo.page_size >= st.i_size {
            return Err(FaultRetry::BeyondEof);
        }
        if let Some(id) = st.folio_at(index).filter(|id| st.folios[*id].uptodate) {
            return Ok(id);
        }
    }
    let _inval = w.mapping.invalidate_lock.read();
    cx.ev("filemap_fault", What::Lock { name: "invalidate_lock", excl: false });
    let folio = filemap_get_folio(cx, index, FolioCreate::Readahead).ok_or(FaultRetry::Error)?;
    iomap_read_folio(cx, &super::XFS_READ_IOMAP_OPS, &folio);
    let id = folio.id;
    folio_unlock(cx, folio);
    Ok(id)
}

/// `xfs_filemap_page_mkwrite` → `__xfs_filemap_fault(write_fault)` (fs/xfs/xfs_file.c, 6.1 and
/// 6.2): `invalidate_lock` (XFS_MMAPLOCK) shared around `iomap_page_mkwrite`, with the
/// buffered-write ops in 6.1 (whose `->iomap_end` may punch) and `xfs_page_mkwrite_iomap_ops`
/// from 6.2. Returns the folio locked; the MMAPLOCK is already dropped. A zoned inode first
/// reserves the folio's blocks (`xfs_write_fault_zoned`, 6.15+; simplification: a folio of the
/// largest size the geometry allows, since "the overallocation ... will be released instantly").
fn xfs_filemap_page_mkwrite<'w>(cx: &Ctx<'w>, index: u64, faulted: FolioId) -> Result<LockedFolio<'w>, FaultRetry> {
    let w = cx.w;
    let geo = &w.geo;
    let ac = geo.zoned.then(|| xfs_zoned_space_reserve(geo.max_folio_pages() * geo.page_size / geo.block_size));
    let ac = ac.as_ref();
    let _mmaplock = (!w.behaviour.mutated(crate::behaviour::Mutation::FaultWithoutMmaplock)).then(|| {
        let g = w.mapping.invalidate_lock.read();
        cx.ev("xfs_filemap_page_mkwrite", What::Lock { name: "MMAPLOCK", excl: false });
        g
    });
    if w.behaviour.fault_iomap_end {
        iomap_page_mkwrite(cx, index, faulted, &XfsBufferedWriteIomapOps { ac })
    } else {
        iomap_page_mkwrite(cx, index, faulted, &XfsPageMkwriteIomapOps { ac })
    }
}

/// A user store of `length` bytes of `fill` at `offset` through a shared writable mapping:
/// per page, store through the PTE if it is still writable (the folio was not write-protected
/// by writeback nor removed), else take the write fault (`do_shared_fault`: `filemap_fault`,
/// unlock, `page_mkwrite`, install the PTE, unlock) and store after the fault returns, without
/// the folio lock. Returns the bytes stored inside the EOF of the moment (a page beyond EOF
/// gets SIGBUS and ends the store).
pub fn xfs_mmap_store(cx: &Ctx<'_>, vma: &mut Vma, offset: u64, length: u64, fill: u8) -> i64 {
    let w = cx.w;
    let ps = w.geo.page_size;
    let mut stored = 0u64;
    let mut pos = offset;
    let end = offset + length;
    while pos < end {
        let index = pos / ps;
        let chunk_end = end.min((index + 1) * ps);
        // The folio this page's PTE still maps (read-only after writeback write-protected it).
        let mut mapped_before = None;
        if let Some(&(id, gen, eof)) = vma.ptes.get(&index) {
            let mut st = w.mapping.i_pages.lock();
            let now = st.i_size;
            let i_size = now.min(eof);
            let f = &mut st.folios[id];
            if f.in_mapping && f.wrprotect_gen == gen {
                let fpos = f.pos(&w.geo);
                f.data[(pos - fpos) as usize..(chunk_end - fpos) as usize].fill(fill);
                // Bytes stored beyond EOF are not file data (ghost state only tracks file data).
                f.mark_changed(&w.geo, pos, chunk_end.min(i_size));
                cx.ev("store to user mapping", What::Copy { from: pos, to: chunk_end, fill });
                stored += chunk_end.min(now).saturating_sub(pos);
                pos = chunk_end;
                continue;
            }
            vma.ptes.remove(&index);
            mapped_before = Some(id).filter(|id| st.folios[*id].in_mapping && st.folios[*id].mapped > 0);
        }
        let faulted = match filemap_fault(cx, index) {
            Ok(id) => id,
            Err(FaultRetry::BeyondEof) => break,
            Err(_) => continue,
        };
        match xfs_filemap_page_mkwrite(cx, index, faulted) {
            Ok(folio) => {
                // finish_fault installs the writable PTE; fault_dirty_shared_page unlocks.
                let mut st = w.mapping.i_pages.lock();
                let eof = st.i_size;
                if mapped_before != Some(folio.id) {
                    st.folios[folio.id].mapped += 1;
                }
                vma.ptes.insert(index, (folio.id, st.folios[folio.id].wrprotect_gen, eof));
                folio.unlock_put(cx, &mut st);
            }
            Err(FaultRetry::BeyondEof) => break,
            Err(_) => continue,
        }
    }
    stored as i64
}
