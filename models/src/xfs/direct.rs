//! Direct I/O (fs/xfs/xfs_file.c, fs/iomap/direct-io.c, fs/xfs/xfs_iomap.c): the O_DIRECT
//! write, whose completion changes extents and i_size and invalidates page cache without
//! i_rwsem or the invalidate lock (kernel.md §9.3), and the O_DIRECT read.
//!
//! The model's write is the AIO form (`io_submit`): submission runs under IOLOCK and
//! completion runs after it is dropped, as the dio workqueue would run it, so anything may run
//! between the two. A synchronous `pwrite` on an O_DIRECT descriptor completes before it
//! unlocks: its orders are a subset of these.

use super::{Bmap, XFS_WRITEBACK_OPS};
use crate::events::What;
use crate::iomap::filemap_write_and_wait_range;
use crate::iomap::{Errno, EINVAL};
use crate::pagecache::invalidate_inode_pages2_range;
use crate::world::Ctx;
use std::sync::atomic::Ordering;

/// Logical sector size of the modelled device: O_DIRECT offsets and lengths must be multiples
/// of it (`bt_logical_sectormask`; a loop device has 512-byte sectors).
pub const SECTOR_SIZE: u64 = 512;

/// What an O_DIRECT write ended as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DioWrite {
    /// Written directly: bytes written, or a negative errno.
    Done(i64),
    /// `-ENOTBLK`: a dirty folio in the range survived the invalidation; `xfs_file_write_iter`
    /// falls back to a buffered write of the same range.
    FallBackToBuffered,
}

/// `inode_dio_wait` (fs/inode.c): wait until no direct I/O is in flight (`i_dio_count` is
/// zero). Callers hold IOLOCK exclusive, so no new one can start.
pub fn inode_dio_wait(cx: &Ctx<'_>) {
    let mut waited = false;
    loop {
        if cx.w.ip.i_dio_count.load(Ordering::SeqCst) == 0 {
            return;
        }
        if !waited {
            cx.ev("inode_dio_wait", What::Note("direct I/O in flight: wait for its completion"));
            waited = true;
        }
        iomc_sync::yield_now(cx.w.backend);
    }
}

/// `xfs_file_dio_write` (fs/xfs/xfs_file.c, 6.1 to 6.18; 5.0's single function has the same
/// locking): offset and length must be sector-aligned (-EINVAL). A block-aligned write takes
/// IOLOCK shared (`xfs_file_dio_write_aligned`) and completes asynchronously; an unaligned one
/// takes it exclusive, waits for other direct I/O (`inode_dio_wait`) and completes before it
/// unlocks (`IOMAP_DIO_FORCE_WAIT`, `xfs_file_dio_write_unaligned`). A write starting beyond
/// EOF zeroes the gap first, exclusive and with direct I/O drained (`xfs_file_write_checks`).
/// Simplification: the exclusive IOLOCK taken for that zeroing is kept for the submission
/// (the kernel demotes it to shared), and the unaligned path's first try with
/// `IOMAP_DIO_OVERWRITE_ONLY` is folded into the exclusive retry it leads to whenever a block
/// needs allocation or zeroing.
pub fn xfs_file_dio_write(cx: &Ctx<'_>, pos: u64, len: u64, fill: u8) -> DioWrite {
    let w = cx.w;
    if !(pos | len).is_multiple_of(SECTOR_SIZE) {
        return DioWrite::Done(EINVAL);
    }
    let bs = w.geo.block_size;
    let aligned = (pos | len).is_multiple_of(bs);
    if aligned {
        let iolock = w.ip.i_rwsem.read();
        cx.ev("xfs_file_dio_write_aligned", What::Lock { name: "IOLOCK", excl: false });
        // xfs_file_write_checks: a write beyond EOF relocks exclusive to zero the gap.
        if pos <= w.mapping.i_pages.lock().i_size {
            let r = iomap_dio_write(cx, pos, len, fill, false);
            cx.ev("xfs_file_dio_write_aligned", What::Unlock { name: "IOLOCK" });
            drop(iolock);
            return r.and_complete(cx);
        }
        cx.ev("xfs_file_write_checks", What::Unlock { name: "IOLOCK" });
        drop(iolock);
    }
    let iolock = w.ip.i_rwsem.write();
    cx.ev("xfs_file_dio_write", What::Lock { name: "IOLOCK", excl: true });
    inode_dio_wait(cx);
    if let Err(e) = super::file::xfs_file_write_zero_eof(cx, pos, &super::XFS_BUFFERED_WRITE_IOMAP_OPS) {
        drop(iolock);
        return DioWrite::Done(e);
    }
    // Unaligned: IOMAP_DIO_FORCE_WAIT, completion before unlock; aligned beyond EOF: async.
    let r = iomap_dio_write(cx, pos, len, fill, !aligned);
    cx.ev("xfs_file_dio_write", What::Unlock { name: "IOLOCK" });
    drop(iolock);
    r.and_complete(cx)
}

/// A submitted direct write.
enum Submitted {
    /// The completion is still to run (AIO).
    Pending(Completion),
    /// The completion ran (synchronous): bytes written.
    Completed(i64),
    /// The page cache could not be invalidated: fall back to a buffered write.
    FallBack,
}

/// What `iomap_dio_complete` needs.
struct Completion {
    pos: u64,
    len: u64,
    unwritten: bool,
}

impl Submitted {
    /// Run the completion now if it is still pending (the AIO completion after the submitter
    /// unlocked).
    fn and_complete(self, cx: &Ctx<'_>) -> DioWrite {
        match self {
            Submitted::FallBack => DioWrite::FallBackToBuffered,
            Submitted::Completed(written) => DioWrite::Done(written),
            Submitted::Pending(c) => {
                iomap_dio_complete(cx, &c);
                DioWrite::Done(c.len as i64)
            }
        }
    }
}

/// `__iomap_dio_rw` for a write (fs/iomap/direct-io.c, 6.1 to 6.18): write back and
/// invalidate the range's page cache (`kiocb_invalidate_pages`; a folio that stays means
/// -ENOTBLK), `inode_dio_begin`, then per mapping of `xfs_direct_write_iomap_begin` the bio,
/// zeroing the rest of a partial block that is unwritten or new (`iomap_dio_zero`). The bio
/// completes here (the disk holds the data); with `sync` the completion runs here too.
fn iomap_dio_write(cx: &Ctx<'_>, pos: u64, len: u64, fill: u8, sync: bool) -> Submitted {
    let w = cx.w;
    let bs = w.geo.block_size;
    let end = pos + len;
    // kiocb_invalidate_pages -> filemap_invalidate_pages: write back, then invalidate.
    // No fault injected: nothing fails.
    let _ = filemap_write_and_wait_range(cx, &XFS_WRITEBACK_OPS, pos, end);
    if !invalidate_inode_pages2_range(cx, pos, end) {
        cx.ev("iomap_dio_rw", What::Note("page cache invalidation failed: -ENOTBLK, fall back to buffered I/O"));
        return Submitted::FallBack;
    }
    w.ip.i_dio_count.fetch_add(1, Ordering::SeqCst);
    let unwritten = xfs_direct_write_iomap_begin(cx, pos, len);
    // The bios: data over the range, zeroes over the rest of a partial block that was
    // unwritten or newly allocated (every block the model allocates here is unwritten).
    let (bstart, bend) = (pos / bs * bs, end.div_ceil(bs) * bs);
    let blocks: Vec<(u64, Bmap)> = {
        let core = w.ip.ilock.lock();
        (bstart / bs..bend / bs).map(|fsb| (fsb * bs, core.df[fsb as usize])).collect()
    };
    for (bpos, b) in blocks {
        let (Bmap::Unwritten(p) | Bmap::Written(p)) = b else {
            cx.warn("iomap_dio_bio_iter", format!("block {bpos} not allocated after xfs_direct_write_iomap_begin"));
            continue;
        };
        let (s, e) = (pos.max(bpos), end.min(bpos + bs));
        if matches!(b, Bmap::Unwritten(_)) && (s > bpos || e < bpos + bs) {
            w.disk.write(p * bs, &vec![0u8; bs as usize]);
            cx.ev("iomap_dio_zero", What::Zero { from: bpos, to: bpos + bs });
        }
        w.disk.write(p * bs + (s - bpos), &vec![fill; (e - s) as usize]);
        cx.ev("submit_bio", What::DiskWrite { from: s, to: e, pblk: p });
    }
    let c = Completion { pos, len, unwritten };
    if sync {
        iomap_dio_complete(cx, &c);
        return Submitted::Completed(len as i64);
    }
    Submitted::Pending(c)
}

/// `xfs_direct_write_iomap_begin` (fs/xfs/xfs_iomap.c, 6.1 to 6.18) over `[pos, pos+len)`:
/// ILOCK, look the range up; a hole or delalloc extent (`imap_needs_alloc`) is allocated
/// UNWRITTEN by `xfs_iomap_write_direct` (`XFS_BMAPI_PREALLOC`) in one transaction. Returns
/// whether any block written is unwritten (`IOMAP_DIO_UNWRITTEN`). Simplification: the whole
/// range is mapped in one ILOCK step (the iterator maps extent by extent).
fn xfs_direct_write_iomap_begin(cx: &Ctx<'_>, pos: u64, len: u64) -> bool {
    let bs = cx.w.geo.block_size;
    let (first, last) = (pos / bs, (pos + len).div_ceil(bs));
    let mut core = cx.w.ip.ilock.lock();
    core.update(cx, "xfs_iomap_write_direct", first, last, |c, b| match b {
        Bmap::Hole | Bmap::Delalloc => Some(Bmap::Unwritten(c.alloc_pblk())),
        _ => None,
    });
    (first..last).any(|fsb| matches!(core.df[fsb as usize], Bmap::Unwritten(_)))
}

/// `iomap_dio_complete` (fs/iomap/direct-io.c, 6.1 to 6.18) → `xfs_dio_write_end_io`
/// (fs/xfs/xfs_file.c): unwritten blocks are converted by `xfs_iomap_write_unwritten`, which
/// also moves i_size and the on-disk size in its transaction; otherwise i_size grows if the
/// write went past it and `xfs_setfilesize` logs it. Then the page cache over the range is
/// invalidated again (`kiocb_invalidate_post_direct_write`, 6.6; inline before) with neither
/// i_rwsem nor the invalidate lock held (a failure only prints `dio_warn_stale_pagecache`),
/// and `inode_dio_end`.
fn iomap_dio_complete(cx: &Ctx<'_>, c: &Completion) {
    let w = cx.w;
    let bs = w.geo.block_size;
    let end = c.pos + c.len;
    // Simplification: the conversion, i_size_write and the on-disk size are one transaction
    // under the ILOCK in the kernel; the model takes the ILOCK, then the page-cache lock that
    // holds i_size, then the ILOCK again (the model never nests them this way round).
    if c.unwritten {
        let mut core = w.ip.ilock.lock();
        core.update(cx, "xfs_iomap_write_unwritten", c.pos / bs, end.div_ceil(bs), |_, b| match b {
            Bmap::Unwritten(p) => Some(Bmap::Written(p)),
            _ => None,
        });
    }
    let i_size = {
        let mut st = w.mapping.i_pages.lock();
        grow_isize(cx, &mut st, end);
        st.i_size
    };
    // xfs_new_eof: the on-disk size moves to min(end, i_size) if that is past it.
    {
        let mut core = w.ip.ilock.lock();
        let new = end.min(i_size);
        if new > core.disk_size {
            core.disk_size = new;
        }
    }
    if !invalidate_inode_pages2_range(cx, c.pos, end) {
        // dio_warn_stale_pagecache: errseq_set(&mapping->wb_err, -EIO) and a pr_crit.
        cx.ev("dio_warn_stale_pagecache", What::Note("page cache invalidation failure on direct I/O"));
        cx.instant(crate::events::OpDesc::StalePagecache { offset: c.pos, length: c.len });
    }
    w.ip.i_dio_count.fetch_sub(1, Ordering::SeqCst);
}

/// `i_size_write(end)` if `end` is past i_size; records the extension for the oracle.
fn grow_isize(cx: &Ctx<'_>, st: &mut crate::pagecache::MappingState, end: u64) -> bool {
    if end <= st.i_size {
        return false;
    }
    let was = st.i_size;
    st.i_size = end;
    cx.ev("i_size_write", What::Size { was, now: end });
    cx.extended(was, end);
    true
}

/// `xfs_file_dio_read` (fs/xfs/xfs_file.c, 5.0 to 6.18) → `iomap_dio_rw`: IOLOCK shared,
/// sector-aligned (-EINVAL otherwise), write back the range (`kiocb_write_and_wait`), then
/// read through `xfs_read_iomap_begin`: written blocks from the disk, anything else zeroes;
/// the result is cut at the i_size sampled when the read started. Simplification: the whole
/// range is mapped in one ILOCK step.
pub fn xfs_file_dio_read(cx: &Ctx<'_>, pos: u64, len: u64) -> Result<Vec<u8>, Errno> {
    let w = cx.w;
    if !(pos | len).is_multiple_of(SECTOR_SIZE) {
        return Err(EINVAL);
    }
    let bs = w.geo.block_size;
    let _iolock = w.ip.i_rwsem.read();
    let i_size = w.mapping.i_pages.lock().i_size;
    if pos >= i_size {
        return Ok(Vec::new());
    }
    let end = (pos + len).min(i_size);
    // No fault injected: nothing fails.
    let _ = filemap_write_and_wait_range(cx, &XFS_WRITEBACK_OPS, pos, end);
    let blocks: Vec<Bmap> = {
        let core = w.ip.ilock.lock();
        (pos / bs..end.div_ceil(bs)).map(|fsb| core.df[fsb as usize]).collect()
    };
    let mut out = Vec::with_capacity((end - pos) as usize);
    for (i, b) in blocks.into_iter().enumerate() {
        let bpos = (pos / bs + i as u64) * bs;
        let (s, e) = (pos.max(bpos), end.min(bpos + bs));
        match b {
            Bmap::Written(p) => out.extend(w.disk.read(p * bs + (s - bpos), e - s)),
            _ => out.resize(out.len() + (e - s) as usize, 0),
        }
    }
    cx.ev("iomap_dio_rw", What::Note("direct read from the disk"));
    Ok(out)
}
