//! fs/iomap: `struct iomap`, the iterator, buffered write, writeback, read and the delalloc
//! release walk. The filesystem plugs in through [`IomapOps`] and [`WritebackOps`].

mod buffered_write;
mod iter;
mod page_mkwrite;
mod punch;
mod read;
mod writeback;
mod zero;

pub use buffered_write::{
    iomap_block_needs_zeroing, iomap_file_buffered_write, iomap_write_begin, iomap_write_end, iomap_write_iter, UserBuf,
};
pub use iter::{iomap_iter, iomap_length, IomapIter};
pub use page_mkwrite::{iomap_page_mkwrite, FaultRetry};
pub use punch::{
    iomap_file_buffered_write_punch_delalloc, iomap_unused_delalloc, iomap_write_delalloc_release,
    iomap_write_delalloc_scan, PunchFn,
};
pub use read::{filemap_read, iomap_read_folio};
pub use writeback::{filemap_fdatawait_range, filemap_write_and_wait_range, iomap_writepages, Ioend, WritepageCtx};
pub use zero::{iomap_truncate_page, iomap_zero_range};

pub use crate::events::IomapType;
use crate::world::Ctx;

/// A negative errno.
pub type Errno = i64;
/// -EIO
pub const EIO: Errno = -5;
/// -EAGAIN
pub const EAGAIN: Errno = -11;
/// -ENOSPC
pub const ENOSPC: Errno = -28;
/// -EFAULT
pub const EFAULT: Errno = -14;
/// -EINVAL
pub const EINVAL: Errno = -22;

/// `struct iomap` (include/linux/iomap.h, 6.2 fields; 6.1 lacks the cookie and STALE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Iomap {
    /// File offset of the mapping.
    pub offset: u64,
    /// Length in bytes (0 = no mapping yet).
    pub length: u64,
    /// IOMAP_HOLE / DELALLOC / MAPPED / UNWRITTEN.
    pub ty: IomapType,
    /// Disk byte address of `offset` (MAPPED and UNWRITTEN only).
    pub addr: u64,
    /// IOMAP_F_NEW: the filesystem just reserved or allocated this range.
    pub new: bool,
    /// IOMAP_F_STALE (6.2): the mapping must be looked up again.
    pub stale: bool,
    /// `validity_cookie` (6.2): the fork sequence number sampled under the ILOCK
    /// (`xfs_iomap_inode_sequence`: the COW fork's in the high half when SHARED).
    pub cookie: u64,
    /// IOMAP_F_SHARED: a COW-fork mapping; writeback and the punch go to the COW fork.
    pub shared: bool,
    /// `iter->srcmap`: where the old data is (the data fork under a COW mapping); `None` is a
    /// HOLE srcmap, i.e. the iomap itself is the source.
    pub srcmap: Option<SrcMap>,
}

/// The parts of `iter->srcmap` the write path reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrcMap {
    /// File offset.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
    /// Its type.
    pub ty: IomapType,
    /// Disk byte address of `offset`.
    pub addr: u64,
}

impl Iomap {
    /// No mapping (length 0).
    pub const NONE: Iomap = Iomap {
        offset: 0,
        length: 0,
        ty: IomapType::Hole,
        addr: 0,
        new: false,
        stale: false,
        cookie: 0,
        shared: false,
        srcmap: None,
    };

    /// `iomap_iter_srcmap`: the srcmap if there is one, else the iomap itself.
    pub fn source(&self) -> Iomap {
        match self.srcmap {
            Some(s) => Iomap { offset: s.offset, length: s.length, ty: s.ty, addr: s.addr, ..Iomap::NONE },
            None => *self,
        }
    }

    /// End of the mapping.
    pub fn end(&self) -> u64 {
        self.offset + self.length
    }
}

/// `iomap_iter` flags that matter here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IterFlags {
    /// IOMAP_WRITE
    pub write: bool,
    /// IOMAP_FAULT
    pub fault: bool,
    /// IOMAP_ZERO (`iomap_zero_range`)
    pub zero: bool,
}

/// `struct iomap_ops` plus the 6.2 `page_ops->iomap_valid` hook, as the filesystem provides them.
pub trait IomapOps {
    /// `->iomap_begin`: the mapping at `pos` for up to `len` bytes.
    fn iomap_begin(&self, cx: &Ctx<'_>, pos: u64, len: u64, flags: IterFlags) -> Result<Iomap, Errno>;
    /// `->iomap_end`, if the ops have one (`None` = no such method).
    fn iomap_end(
        &self,
        cx: &Ctx<'_>,
        pos: u64,
        length: u64,
        written: u64,
        flags: IterFlags,
        iomap: &Iomap,
    ) -> Option<Result<(), Errno>>;
    /// `page_ops->iomap_valid`, if provided (`None` = no such method, as in 6.1). `merged`:
    /// the caller has just locked the folio and the check joins that step (see
    /// [`iomap_write_begin`](crate::iomap::iomap_write_begin)).
    fn iomap_valid(&self, cx: &Ctx<'_>, iomap: &Iomap, merged: bool) -> Option<bool>;
}

/// `struct iomap_writeback_ops` (6.1 and 6.2).
pub trait WritebackOps {
    /// `->map_blocks`: make `wpc.iomap` cover `offset`, revalidating a cached one; `len` is
    /// the rest of the folio's dirty range from `offset` (`iomap_find_dirty_range`).
    fn map_blocks(&self, cx: &Ctx<'_>, wpc: &mut WritepageCtx, offset: u64, len: u64) -> Result<(), Errno>;
    /// I/O completion for one ioend (`xfs_end_ioend`).
    fn end_ioend(&self, cx: &Ctx<'_>, ioend: &Ioend);
    /// `->discard_folio(folio, pos)` after `->map_blocks` failed with `error` at `pos` in the
    /// folio at `folio_pos` of `folio_size` bytes.
    fn discard_folio(&self, cx: &Ctx<'_>, folio_pos: u64, folio_size: u64, pos: u64, error: Errno);
}
