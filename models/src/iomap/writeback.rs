//! Writeback (mm/page-writeback.c `write_cache_pages`, fs/iomap `iomap_writepage_map`).

use super::{Iomap, IomapType, WritebackOps};
use crate::events::What;
use crate::world::Ctx;

/// `struct iomap_writepage_ctx` with XFS's `data_seq` (`struct xfs_writepage_ctx`).
#[derive(Clone, Copy, Debug)]
pub struct WritepageCtx {
    /// The cached mapping (`wpc->iomap`).
    pub iomap: Iomap,
    /// `if_seq` when the mapping was looked up.
    pub data_seq: u64,
}

/// One block's I/O: an ioend of one block (the model submits and completes per folio).
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
}

/// `write_cache_pages` → `iomap_do_writepage` → `iomap_writepage_map` (6.1 and 6.2), then
/// submission and I/O completion, over the dirty folios in `[start, end)`. With `sync_all`
/// (WB_SYNC_ALL) a folio under writeback is waited for, otherwise skipped.
/// Simplification: each folio's blocks are submitted and completed before the next folio is
/// looked at (the kernel batches contiguous blocks into ioends and completes them later in a
/// workqueue); completion still runs as separate steps after the folio is unlocked, so
/// everything can interleave between submission, conversion and `folio_end_writeback`.
pub fn iomap_writepages(cx: &Ctx<'_>, ops: &dyn WritebackOps, start: u64, end: u64, sync_all: bool) {
    let w = cx.w;
    let geo = &w.geo;
    let bs = geo.block_size;
    let mut wpc = WritepageCtx { iomap: Iomap::NONE, data_seq: 0 };
    let mut index = start / geo.page_size;
    let end_index = end.div_ceil(geo.page_size);
    while index < end_index {
        // filemap_get_folios_tag(PAGECACHE_TAG_DIRTY): next dirty folio, with a reference.
        let next = {
            let mut st = w.mapping.i_pages.lock();
            let found = (index..end_index).find_map(|i| st.folio_at(i).filter(|id| st.folios[*id].dirty));
            found.map(|id| {
                st.folios[id].refs += 1;
                (id, st.folios[id].index, st.folios[id].nr_pages)
            })
        };
        let Some((id, head, nr)) = next else { break };
        index = head + nr;
        let guard = w.mapping.folio_locks[head as usize].lock();
        let fpos = head * geo.page_size;
        // Under the folio lock: still ours and dirty? Then clear dirty and pick the blocks.
        let blocks: Option<(Vec<u64>, u64)> = loop {
            let mut st = w.mapping.i_pages.lock();
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
            let dirty_blocks = std::mem::replace(&mut f.ifs_dirty, vec![false; f.changed.len()]);
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
            // `ifs_block_is_dirty`) only the dirty ones of a folio of more than one block.
            let per_block = w.behaviour.per_block_dirty && dirty_blocks.len() > 1;
            let blocks = (0..fsize / bs)
                .map(|i| fpos + i * bs)
                .filter(|b| {
                    let i = ((b - fpos) / bs) as usize;
                    *b < end_pos && f.block_uptodate(i) && (!per_block || dirty_blocks[i])
                })
                .collect();
            break Some((blocks, end_pos));
        };
        match blocks {
            Some((blocks, end_pos)) => {
                let folio = FolioToWrite { id, fpos, blocks, end_pos };
                iomap_writepage_map(cx, ops, &mut wpc, &folio, guard)
            }
            None => drop(guard),
        }
    }
}

/// A locked folio that `write_cache_pages` cleared for I/O.
struct FolioToWrite {
    id: crate::pagecache::FolioId,
    fpos: u64,
    /// Uptodate blocks inside EOF (6.1-6.5 write every uptodate block of a dirty folio; 6.6+
    /// only its dirty blocks).
    blocks: Vec<u64>,
    /// `min(folio end, i_size)` when it was cleared.
    end_pos: u64,
}

/// `iomap_writepage_map` (fs/iomap/buffered-io.c, 6.1, 6.2 and 6.6): map every block to write with
/// `->map_blocks` (which revalidates the cached mapping), skip blocks mapped to a hole,
/// start writeback, unlock, submit; then I/O completion and `folio_end_writeback`.
fn iomap_writepage_map(
    cx: &Ctx<'_>,
    ops: &dyn WritebackOps,
    wpc: &mut WritepageCtx,
    folio: &FolioToWrite,
    guard: iomc_sync::MutexGuard<'_, ()>,
) {
    let FolioToWrite { id, fpos, ref blocks, end_pos } = *folio;
    let w = cx.w;
    let bs = w.geo.block_size;
    let mut ioends: Vec<Ioend> = Vec::new();
    for &block in blocks.iter() {
        if ops.map_blocks(cx, wpc, block).is_err() {
            break;
        }
        match wpc.iomap.ty {
            IomapType::Hole => {
                cx.ev(
                    "iomap_writepage_map",
                    What::WritebackSkip { from: block, to: block + bs, why: "mapped to a hole" },
                );
            }
            IomapType::Mapped | IomapType::Unwritten => ioends.push(Ioend {
                offset: block,
                size: bs,
                addr: wpc.iomap.addr + (block - wpc.iomap.offset),
                unwritten: wpc.iomap.ty == IomapType::Unwritten,
                i_size: end_pos,
            }),
            IomapType::Delalloc => {
                cx.warn("iomap_writepage_map", format!("delalloc mapping at {block} after map_blocks"));
            }
        }
    }
    // folio_start_writeback, then unlock; the bio carries the folio's bytes.
    let payload: Vec<Vec<u8>> = {
        let mut st = w.mapping.i_pages.lock();
        let f = &mut st.folios[id];
        if !ioends.is_empty() {
            f.writeback = true;
            cx.ev("folio_start_writeback", What::WritebackStart { pos: fpos });
        }
        let data = ioends
            .iter()
            .map(|io| f.data[(io.offset - fpos) as usize..(io.offset - fpos + bs) as usize].to_vec())
            .collect();
        f.refs -= 1;
        cx.ev("folio_unlock", What::FolioUnlocked { pos: fpos });
        data
    };
    drop(guard);
    if ioends.is_empty() {
        return;
    }
    // Submission: the bios reach the disk.
    for (io, data) in ioends.iter().zip(&payload) {
        w.disk.write(io.addr, data);
        cx.ev("submit_bio", What::DiskWrite { from: io.offset, to: io.offset + io.size, pblk: io.addr / bs });
    }
    // Completion (xfs_end_io workqueue): convert, then end writeback.
    let end_first = w.behaviour.mutated(crate::behaviour::Mutation::EndWritebackBeforeConvert);
    if end_first {
        let mut st = w.mapping.i_pages.lock();
        st.folios[id].writeback = false;
        cx.ev("folio_end_writeback", What::WritebackEnd { pos: fpos });
    }
    for io in &ioends {
        ops.end_ioend(cx, io);
    }
    if !end_first {
        let mut st = w.mapping.i_pages.lock();
        st.folios[id].writeback = false;
        cx.ev("folio_end_writeback", What::WritebackEnd { pos: fpos });
    }
}
