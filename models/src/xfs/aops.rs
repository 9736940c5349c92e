//! XFS writeback callbacks (fs/xfs/xfs_aops.c).

use super::{iomap_from_extent, Bmap};
use crate::iomap::{Errno, Ioend, WritebackOps, WritepageCtx};
use crate::world::Ctx;

/// `xfs_writeback_ops`.
#[derive(Clone, Copy, Debug)]
pub struct XfsWritebackOps;

/// The writeback ops.
pub const XFS_WRITEBACK_OPS: XfsWritebackOps = XfsWritebackOps;

impl WritebackOps for XfsWritebackOps {
    /// `xfs_map_blocks` (fs/xfs/xfs_aops.c, 6.1 and 6.2): reuse the cached mapping if
    /// `xfs_imap_valid` (offset inside and `data_seq == if_seq`), else look up the extent; a
    /// delalloc extent is allocated by `xfs_bmapi_convert_delalloc` as UNWRITTEN (since v5.8,
    /// a5949d3faedf), bumping `if_seq`. Simplification: lookup and conversion are one ILOCK
    /// step (the kernel drops the ILOCK to start a transaction, then rechecks).
    fn map_blocks(&self, cx: &Ctx<'_>, wpc: &mut WritepageCtx, offset: u64) -> Result<(), Errno> {
        let geo = &cx.w.geo;
        let mut core = cx.w.ip.ilock.lock();
        let m = &wpc.iomap;
        let seq_ok =
            wpc.data_seq == core.if_seq || cx.w.behaviour.mutated(crate::behaviour::Mutation::WritebackNoRevalidate);
        if m.length > 0 && m.offset <= offset && offset < m.end() && seq_ok {
            return Ok(());
        }
        let fsb = offset / geo.block_size;
        let (start, len, b) = core.extent_at(fsb);
        if b == Bmap::Delalloc {
            // xfs_bmapi_convert_delalloc: allocate the whole delalloc extent, unwritten.
            core.update(cx, "xfs_bmapi_convert_delalloc", start, start + len, |c, _| {
                Some(Bmap::Unwritten(c.alloc_pblk()))
            });
        }
        wpc.iomap = iomap_from_extent(&core, geo, fsb);
        wpc.data_seq = core.if_seq;
        Ok(())
    }

    /// `xfs_end_ioend` (fs/xfs/xfs_aops.c, 6.1 and 6.2): convert an unwritten range to written
    /// (`xfs_iomap_write_unwritten`, bumping `if_seq`) and update the on-disk size
    /// (`xfs_setfilesize`); `folio_end_writeback` follows in the caller.
    fn end_ioend(&self, cx: &Ctx<'_>, io: &Ioend) {
        let bs = cx.w.geo.block_size;
        let mut core = cx.w.ip.ilock.lock();
        if io.unwritten {
            core.update(cx, "xfs_iomap_write_unwritten", io.offset / bs, (io.offset + io.size) / bs, |_, b| match b {
                Bmap::Unwritten(p) => Some(Bmap::Written(p)),
                _ => None,
            });
        }
        let new_eof = (io.offset + io.size).min(io.i_size);
        if new_eof > core.disk_size {
            core.disk_size = new_eof;
        }
    }
}
