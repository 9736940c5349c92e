//! Writeback (mm/page-writeback.c `write_cache_pages`, fs/iomap `iomap_writepage_map`).

use super::{Errno, Iomap, IomapType, WritebackOps};
use crate::events::What;
use crate::pagecache::FolioId;
use crate::world::Ctx;

/// `struct iomap_writepage_ctx` with XFS's `data_seq` (`struct xfs_writepage_ctx`).
#[derive(Clone, Debug)]
pub struct WritepageCtx {
    /// The cached mapping (`wpc->iomap`).
    pub iomap: Iomap,
    /// `if_seq` when the mapping was looked up.
    pub data_seq: u64,
    /// The COW fork's sequence when the mapping was looked up (`XFS_WPC(wpc)->cow_seq`).
    pub cow_seq: u64,
    /// Fault injection, not kernel state: every delalloc conversion of this pass fails with
    /// this errno (`xfs_bmapi_convert_delalloc` returning -ENOSPC or -EIO).
    pub inject: Option<Errno>,
    /// The ioend being built (`wpc->ioend`), submitted when a block cannot join it or at the
    /// end of the pass.
    ioend: Option<PendingIoend>,
    /// Per folio under writeback in this pass, its blocks in ioends not yet completed
    /// (`ifs->write_bytes_pending`): the last completion ends its writeback.
    pending: Vec<(FolioId, u32)>,
}

/// An ioend being built: contiguous blocks of one type, in the file and on the disk.
#[derive(Clone, Debug)]
struct PendingIoend {
    io: Ioend,
    /// Each block's folio and the folio's file offset, in order.
    blocks: Vec<(FolioId, u64)>,
}

/// One ioend: contiguous blocks of one mapping type, in the file and on the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ioend {
    /// File offset.
    pub offset: u64,
    /// Bytes.
    pub size: u64,
    /// Disk byte address.
    pub addr: u64,
    /// The mapping was UNWRITTEN: completion must convert it.
    pub unwritten: bool,
    /// `i_size` when the folio was written (`end_pos`), for `xfs_setfilesize`.
    pub i_size: u64,
    /// IOMAP_F_SHARED: COW-fork blocks, remapped into the data fork at completion.
    pub shared: bool,
}

/// `filemap_write_and_wait_range` (mm/filemap.c): a WB_SYNC_ALL pass over the dirty folios
/// of `[start, end)` (`__filemap_fdatawrite_range`), then `filemap_fdatawait_range`: wait for
/// every folio in the range still under writeback, including clean ones another thread's
/// pass has in flight. Returns the pass's first error.
pub fn filemap_write_and_wait_range(cx: &Ctx<'_>, ops: &dyn WritebackOps, start: u64, end: u64) -> Result<(), Errno> {
    let ret = iomap_writepages(cx, ops, start, end, true, None);
    filemap_fdatawait_range(cx, start, end);
    ret
}

/// `filemap_fdatawait_range` (mm/filemap.c): sleep until no folio in `[start, end)` is under
/// writeback (`folio_wait_writeback` on each folio tagged WRITEBACK).
pub fn filemap_fdatawait_range(cx: &Ctx<'_>, start: u64, end: u64) {
    let w = cx.w;
    loop {
        let busy = {
            let st = w.mapping.i_pages.lock();
            st.folios_in_range(&w.geo, start, end).into_iter().any(|id| st.folios[id].writeback)
        };
        if !busy {
            return;
        }
        iomc_sync::yield_now(w.backend);
    }
}

/// `write_cache_pages` → `iomap_do_writepage` → `iomap_writepage_map` (5.0-6.6; 6.18's
/// `writeback_iter` → `iomap_writeback_folio` walks the same way), then submission and I/O
/// completion, over the dirty folios in `[start, end)`. With `sync_all` (WB_SYNC_ALL) a folio
/// under writeback is waited for, otherwise skipped; an error ends a WB_SYNC_NONE pass and is
/// remembered by a WB_SYNC_ALL one, which goes on (`write_cache_pages`). Returns the first error.
///
/// Dirty folios are collected in batches of [`Behaviour::writeback_batch`](crate::Behaviour)
/// (`filemap_get_folios_tag` into a pagevec or folio_batch, each with a reference) before any
/// of them is locked and mapped: a folio removed after its batch was collected is skipped
/// (`folio->mapping != mapping`), and one re-created after it waits for a later pass
/// (kernel.md §14).
/// Blocks go into ioends as the kernel builds them (`iomap_add_to_ioend`): contiguous blocks of
/// one type share one, which is submitted when a block cannot join it or at the end of the
/// pass, so a folio stays under writeback while later folios are mapped from the cached
/// mapping, until the ioend holding its last block completes.
/// Simplification: an ioend completes as soon as it is submitted (the kernel completes it later,
/// from a workqueue); completion still runs as separate steps, so everything can interleave
/// between submission, conversion and `folio_end_writeback`.
pub fn iomap_writepages(
    cx: &Ctx<'_>,
    ops: &dyn WritebackOps,
    start: u64,
    end: u64,
    sync_all: bool,
    inject: Option<Errno>,
) -> Result<(), Errno> {
    let w = cx.w;
    let geo = &w.geo;
    let mut wpc =
        WritepageCtx { iomap: Iomap::NONE, data_seq: 0, cow_seq: 0, inject, ioend: None, pending: Vec::new() };
    let mut index = start / geo.page_size;
    let end_index = end.div_ceil(geo.page_size);
    let batch_size = usize::from(w.behaviour.writeback_batch.max(1));
    let mut ret = Ok(());
    while index < end_index {
        // filemap_get_folios_tag(PAGECACHE_TAG_DIRTY): up to a batch of dirty folios, each
        // with a reference, and the index after the last. The tag outlives PG_dirty until
        // folio_start_writeback: a folio another pass has locked and cleaned for I/O but not
        // yet started is found too, and waited for at its lock.
        let batch: Vec<(FolioId, u64)> = {
            let mut st = w.mapping.i_pages.lock();
            let mut found = Vec::new();
            let mut i = index;
            while i < end_index && found.len() < batch_size {
                match st.folio_at(i) {
                    Some(id) => {
                        let f = &st.folios[id];
                        let (head, nr, tagged) = (f.index, f.nr_pages, f.dirty || f.wb_locked);
                        if tagged {
                            st.folios[id].refs += 1;
                            found.push((id, head));
                        }
                        i = head + nr;
                    }
                    None => i += 1,
                }
            }
            index = i;
            found
        };
        if batch.is_empty() {
            break;
        }
        let mut rest = batch.iter();
        for &(id, head) in rest.by_ref() {
            if let Err(e) = write_one_folio(cx, ops, &mut wpc, id, head, sync_all) {
                if ret.is_ok() {
                    ret = Err(e);
                }
                if !sync_all {
                    break;
                }
            }
        }
        // folio_batch_release for the folios a WB_SYNC_NONE error left unvisited.
        let left: Vec<FolioId> = rest.map(|(id, _)| *id).collect();
        if !left.is_empty() {
            let mut st = w.mapping.i_pages.lock();
            for id in left {
                st.folios[id].refs -= 1;
            }
            break;
        }
    }
    // iomap_submit_ioend(wpc, wpc->ioend, ret): the cached ioend goes out last, failed when
    // the pass failed.
    if let Some(p) = wpc.ioend.take() {
        submit_and_complete(cx, ops, &mut wpc, p, ret.err());
    }
    ret
}

/// `iomap_add_to_ioend` (fs/iomap/buffered-io.c, 6.1 to 6.6; `iomap_can_add_to_ioend`): the
/// block joins the cached ioend when it has the same type and follows it in the file and on
/// the disk; otherwise the cached ioend is queued for submission (`submit`) and a new one
/// starts.
fn iomap_add_to_ioend(wpc: &mut WritepageCtx, submit: &mut Vec<PendingIoend>, io: Ioend, id: FolioId, fpos: u64) {
    match wpc.pending.iter_mut().find(|(f, _)| *f == id) {
        Some((_, n)) => *n += 1,
        None => wpc.pending.push((id, 1)),
    }
    if let Some(p) = wpc.ioend.as_mut() {
        let end = p.io.offset + p.io.size;
        if p.io.unwritten == io.unwritten
            && p.io.shared == io.shared
            && end == io.offset
            && p.io.addr + p.io.size == io.addr
        {
            p.io.size += io.size;
            p.io.i_size = io.i_size;
            p.blocks.push((id, fpos));
            return;
        }
    }
    if let Some(old) = wpc.ioend.replace(PendingIoend { io, blocks: vec![(id, fpos)] }) {
        submit.push(old);
    }
}

/// Submission and completion of one ioend: the bio carries the folios' bytes as they are now
/// (no stable pages), then I/O completion (`xfs_end_ioend`) and `folio_end_writeback` for each
/// folio whose last pending block this was. A failed ioend (`error`) writes nothing and
/// converts nothing (`xfs_end_ioend` skips to "done"); its folios end writeback clean, and the
/// error reported tells the application their data may be lost.
/// Simplification: an ioend completes as soon as it is submitted (the earliest the kernel's
/// workqueue can); the pass's cached ioend is submitted at its end, as in the kernel.
fn submit_and_complete(
    cx: &Ctx<'_>,
    ops: &dyn WritebackOps,
    wpc: &mut WritepageCtx,
    p: PendingIoend,
    error: Option<Errno>,
) {
    let w = cx.w;
    let geo = &w.geo;
    let bs = geo.block_size;
    let io = p.io;
    let mut folios: Vec<(FolioId, u64)> = p.blocks.clone();
    folios.dedup();
    match error {
        None => {
            let data: Vec<u8> = {
                let st = w.mapping.i_pages.lock();
                let mut data = Vec::with_capacity(io.size as usize);
                for (i, (id, fpos)) in p.blocks.iter().enumerate() {
                    let off = (io.offset + i as u64 * bs - fpos) as usize;
                    data.extend_from_slice(&st.folios[*id].data[off..off + bs as usize]);
                }
                data
            };
            // The copy and the write are one step, the device's DMA from the folios: no other
            // actor reads these disk blocks meanwhile (their folios stay under writeback until
            // completion: a buffered read or write-begin of them finds them cached and uptodate,
            // direct I/O and the oracle flush and wait for writeback first), and a change to the
            // folios after the copy is not in the bio either way.
            w.disk.write_merged(io.addr, &data);
            cx.ev("submit_bio", What::DiskWrite { from: io.offset, to: io.offset + io.size, pblk: io.addr / bs });
        }
        Some(e) => {
            cx.ev(
                "iomap_submit_ioend",
                What::WritebackSkip { from: io.offset, to: io.offset + io.size, why: "ioend failed with the pass" },
            );
            let sizes: Vec<u64> = {
                let st = w.mapping.i_pages.lock();
                folios.iter().map(|(id, _)| st.folios[*id].size(geo)).collect()
            };
            for ((_, fpos), size) in folios.iter().zip(sizes) {
                let h = w.rec.invoke(cx.actor, crate::events::OpDesc::Discard { offset: *fpos, length: size });
                w.rec.respond(h, e, Vec::new());
            }
        }
    }
    let mut done: Vec<(FolioId, u64)> = Vec::new();
    for (id, fpos) in &folios {
        let n = p.blocks.iter().filter(|(f, _)| f == id).count() as u32;
        if let Some(i) = wpc.pending.iter().position(|(f, _)| f == id) {
            wpc.pending[i].1 -= n;
            if wpc.pending[i].1 == 0 {
                wpc.pending.remove(i);
                done.push((*id, *fpos));
            }
        }
    }
    let end_first = w.behaviour.mutated(crate::behaviour::Mutation::EndWritebackBeforeConvert);
    // After a successful conversion, `folio_end_writeback` joins `xfs_end_ioend`'s step: the
    // flag is read lock-free only by `filemap_fdatawait_range` and
    // `filemap_range_needs_writeback`, whose callers' outcome does not depend on seeing the
    // conversion done and the flag still set; every other reader holds the folio lock.
    let merged = error.is_none() && !end_first;
    let end_writeback = |done: &[(FolioId, u64)]| {
        if done.is_empty() {
            return;
        }
        let mut st = w.mapping.i_pages.lock_merged_if(merged);
        for (id, fpos) in done {
            st.folios[*id].writeback = false;
            cx.ev("folio_end_writeback", What::WritebackEnd { pos: *fpos });
        }
    };
    if end_first {
        end_writeback(&done);
    }
    if error.is_none() {
        ops.end_ioend(cx, &io);
    }
    if !end_first {
        end_writeback(&done);
    }
}

/// One folio of a batch: lock it, skip it if it left the mapping or is no longer dirty (or, for
/// WB_SYNC_NONE, is under writeback), clear its dirty flag for I/O and write it. Drops the
/// batch's reference.
fn write_one_folio(
    cx: &Ctx<'_>,
    ops: &dyn WritebackOps,
    wpc: &mut WritepageCtx,
    id: FolioId,
    head: u64,
    sync_all: bool,
) -> Result<(), Errno> {
    let w = cx.w;
    let geo = &w.geo;
    let bs = geo.block_size;
    // A free folio lock is taken in the step that collected the batch (or finished the
    // previous folio); a held one is waited for, a real scheduling point. The batch holds a
    // reference, so reclaim between the two would have kept the folio, as when its trylock
    // fails against our lock; another locker is one that came first (`filemap_get_folio`).
    let guard = w.mapping.folio_locks[head as usize].lock_merged();
    let fpos = head * geo.page_size;
    // Under the folio lock: still ours and dirty? Then clear dirty and pick the blocks.
    let blocks: Option<FolioToWrite> = loop {
        // Merged into the folio lock's step (or the writeback wait's yield): an acquisition
        // commutes with every other actor's operation on other objects (a right mover), so
        // no interleaving is lost.
        let mut st = w.mapping.i_pages.lock_merged();
        let i_size = st.i_size;
        let f = &mut st.folios[id];
        if !f.in_mapping || !f.dirty {
            f.refs -= 1;
            break None;
        }
        if f.writeback {
            if !sync_all {
                f.refs -= 1;
                break None;
            }
            drop(st);
            // folio_wait_writeback with the folio locked.
            iomc_sync::yield_now(w.backend);
            continue;
        }
        cx.ev("write_cache_pages", What::FolioLocked { pos: fpos });
        // A truncate may have split the folio while we waited for its lock (the model's
        // split always succeeds; the kernel's fails while we hold a reference): write what
        // the folio is now.
        let fsize = f.nr_pages * geo.page_size;
        f.dirty = false;
        f.wrprotect_gen += 1;
        f.changed.fill(false);
        // 6.6+: the blocks to write are the dirty ones; iomap_writepage_map clears the bits.
        let dirty_blocks = f.ifs_dirty.clone();
        cx.ev("folio_clear_dirty_for_io", What::FolioClean { pos: fpos });
        if fpos >= i_size {
            // iomap_do_writepage: folio wholly beyond EOF is invalidated, not written.
            f.refs -= 1;
            break None;
        }
        let end_pos = (fpos + fsize).min(i_size);
        if end_pos < fpos + fsize {
            // Straddles EOF: zero the post-EOF part before writing.
            f.data[(end_pos - fpos) as usize..].fill(0);
        }
        // 6.1-6.5 write every uptodate block of a dirty folio; 6.6+ (per-block dirty bits,
        // `ifs_block_is_dirty`) only the dirty ones of a folio of more than one block that has
        // per-block state. A folio without it (written while uptodate, so `__iomap_write_begin`
        // allocated none and `iomap_set_range_dirty` had no bits to set) gets it here with
        // every block dirty (`ifs_alloc` + `iomap_set_range_dirty(folio, 0, end_pos - pos)`).
        let per_block = w.behaviour.per_block_dirty && dirty_blocks.len() > 1 && f.ifs.is_some();
        let blocks = (0..fsize / bs)
            .map(|i| fpos + i * bs)
            .filter(|b| {
                let i = ((b - fpos) / bs) as usize;
                *b < end_pos && f.block_uptodate(i) && (!per_block || dirty_blocks[i])
            })
            .collect();
        f.wb_locked = true;
        break Some(FolioToWrite { id, fpos, fsize, blocks, end_pos });
    };
    match blocks {
        Some(folio) => iomap_writepage_map(cx, ops, wpc, &folio, guard),
        None => {
            drop(guard);
            Ok(())
        }
    }
}

/// A locked folio that `write_cache_pages` cleared for I/O.
struct FolioToWrite {
    id: FolioId,
    fpos: u64,
    fsize: u64,
    /// Uptodate blocks inside EOF (6.1-6.5 write every uptodate block of a dirty folio; 6.6+
    /// only its dirty blocks).
    blocks: Vec<u64>,
    /// `min(folio end, i_size)` when it was cleared.
    end_pos: u64,
}

/// `iomap_writepage_map` (fs/iomap/buffered-io.c, 6.1, 6.2 and 6.6): map every block to write
/// with `->map_blocks` (which revalidates the cached mapping), skip blocks mapped to a hole, add
/// the others to the wpc's ioend (`iomap_add_to_ioend`), start writeback, unlock, then submit
/// the ioends this folio closed (`submit_and_complete`).
/// A mapping error stops the walk at the failing block: `->discard_folio(folio, pos)`, then,
/// with nothing added to an ioend, the folio is unlocked clean and not under writeback
/// (6.6-6.7 leave its per-block dirty bits set: [`Behaviour::error_clears_ifs_dirty`]); the
/// error is returned (`mapping_set_error`). Blocks mapped before the error are not written:
/// the ioends this folio closed fail now and the wpc's cached one at the end of the pass
/// (`iomap_submit_ioend(wpc, ioend, error)`, 6.2).
///
/// [`Behaviour::error_clears_ifs_dirty`]: crate::Behaviour
fn iomap_writepage_map(
    cx: &Ctx<'_>,
    ops: &dyn WritebackOps,
    wpc: &mut WritepageCtx,
    folio: &FolioToWrite,
    guard: iomc_sync::MutexGuard<'_, ()>,
) -> Result<(), Errno> {
    let FolioToWrite { id, fpos, fsize, ref blocks, end_pos } = *folio;
    let w = cx.w;
    let bs = w.geo.block_size;
    let mut submit: Vec<PendingIoend> = Vec::new();
    let mut count = 0u32;
    let mut error = None;
    for (i, &block) in blocks.iter().enumerate() {
        // The dirty range this block is in runs to the first block not written after it.
        let run = blocks[i..].iter().zip(0..).take_while(|(b, k)| **b == block + k * bs).count() as u64;
        if let Err(e) = ops.map_blocks(cx, wpc, block, run * bs) {
            error = Some((e, block));
            break;
        }
        match wpc.iomap.ty {
            IomapType::Hole => {
                cx.ev(
                    "iomap_writepage_map",
                    What::WritebackSkip { from: block, to: block + bs, why: "mapped to a hole" },
                );
            }
            IomapType::Mapped | IomapType::Unwritten => {
                let io = Ioend {
                    offset: block,
                    size: bs,
                    addr: wpc.iomap.addr + (block - wpc.iomap.offset),
                    unwritten: wpc.iomap.ty == IomapType::Unwritten,
                    i_size: end_pos,
                    shared: wpc.iomap.shared,
                };
                iomap_add_to_ioend(wpc, &mut submit, io, id, fpos);
                count += 1;
            }
            IomapType::Delalloc => {
                cx.warn("iomap_writepage_map", format!("delalloc mapping at {block} after map_blocks"));
            }
        }
    }
    if let Some((e, pos)) = error {
        ops.discard_folio(cx, fpos, fsize, pos, e);
        if count == 0 {
            let mut st = w.mapping.i_pages.lock();
            let f = &mut st.folios[id];
            if w.behaviour.error_clears_ifs_dirty {
                f.ifs_dirty.fill(false);
            }
            f.refs -= 1;
            f.wb_locked = false;
            cx.ev("folio_unlock", What::FolioUnlocked { pos: fpos });
            drop(st);
            drop(guard);
            return Err(e);
        }
    }
    // folio_start_writeback, then unlock: one step with the last `->map_blocks` (the kernel
    // holds the folio lock from the mapping to here). Between them the flag is read lock-free
    // only by `filemap_fdatawait_range`, whose callers first run their own pass, which waits
    // at this folio's lock (its dirty tag outlives PG_dirty: `wb_locked`), and by
    // `filemap_range_needs_writeback`, which sees `wb_locked` before and PG_writeback after;
    // the unlock is a left mover. After a mapping error the discard keeps its own point.
    {
        let mut st = w.mapping.i_pages.lock_merged_if(error.is_none());
        let f = &mut st.folios[id];
        // iomap_clear_range_dirty over the whole folio.
        f.ifs_dirty.fill(false);
        if count > 0 {
            f.writeback = true;
            cx.ev("folio_start_writeback", What::WritebackStart { pos: fpos });
        }
        f.refs -= 1;
        f.wb_locked = false;
        cx.ev("folio_unlock", What::FolioUnlocked { pos: fpos });
    }
    drop(guard);
    // The ioends this folio's blocks closed go out now (with the pass's error, if any: 6.2's
    // iomap_submit_ioend(wpc, ioend, error) fails them).
    let ret = error.map_or(Ok(()), |(e, _)| Err(e));
    for p in submit {
        submit_and_complete(cx, ops, wpc, p, ret.err());
    }
    ret
}
