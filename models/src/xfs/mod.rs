//! XFS: the inode and its data fork, `if_seq`, the block allocator, the disk, the iomap and
//! writeback callbacks, and the file operations.

mod aops;
mod crash;
mod direct;
mod disk;
mod fault;
mod file;
mod iomap_ops;
mod zoned;

pub use aops::{XfsWritebackOps, XFS_WRITEBACK_OPS};
pub use crash::{power_fail, CrashImage};
pub use direct::{inode_dio_wait, xfs_file_dio_read, xfs_file_dio_write, DioWrite, SECTOR_SIZE};
pub use disk::{Disk, PBLK_BASE, POISON};
pub use fault::{xfs_mmap_store, Vma, XfsPageMkwriteIomapOps};
pub use file::{
    xfs_errortag_set, xfs_file_buffered_read, xfs_file_buffered_write, xfs_file_fallocate, xfs_file_fsync,
    xfs_file_remap_range, xfs_file_zero_range, xfs_free_file_space, xfs_setattr_size, xfs_vm_writepages,
};
pub use iomap_ops::{
    xfs_bmap_punch_delalloc_range, xfs_bmap_punch_delalloc_range_fork, xfs_buffered_write_iomap_begin,
    xfs_buffered_write_iomap_begin_ac, XfsBufferedWriteIomapOps, XfsReadIomapOps, XFS_BUFFERED_WRITE_IOMAP_OPS,
    XFS_READ_IOMAP_OPS,
};
pub use zoned::{
    xfs_file_buffered_write_zoned, xfs_zoned_buffered_write_iomap_begin, xfs_zoned_end_io, xfs_zoned_map_blocks,
    xfs_zoned_space_reserve, ZoneAllocCtx,
};

use crate::behaviour::Mutation;
use crate::events::{ExtKind, IomapType, What};
use crate::iomap::Iomap;
use crate::world::{Ctx, Geometry};
use iomc_sync::{Backend, Mutex, RwLock};
use std::sync::atomic::AtomicU32;

/// One file block's state in the data fork.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bmap {
    /// No extent.
    Hole,
    /// Delayed allocation (`nullstartblock`).
    Delalloc,
    /// Allocated at this physical block, unwritten.
    Unwritten(u64),
    /// Allocated at this physical block, written.
    Written(u64),
}

impl Bmap {
    /// Kind without the block number.
    pub fn kind(self) -> ExtKind {
        match self {
            Bmap::Hole => ExtKind::Hole,
            Bmap::Delalloc => ExtKind::Delalloc,
            Bmap::Unwritten(_) => ExtKind::Unwritten,
            Bmap::Written(_) => ExtKind::Written,
        }
    }
    fn pblk(self) -> Option<u64> {
        match self {
            Bmap::Unwritten(p) | Bmap::Written(p) => Some(p),
            _ => None,
        }
    }
}

/// What the ILOCK protects (and what is read with `READ_ONCE`): the data fork, `if_seq`, the
/// on-disk size, the allocator, and the mount's `drop_writes` error tag.
/// Simplification: the fork is stored per block; an "extent" is a maximal run of blocks of one
/// kind with contiguous physical blocks, as XFS keeps mergeable records merged.
#[derive(Clone, Debug)]
pub struct InodeCore {
    /// `ip->i_df`, one entry per file block of the modelled span.
    pub df: Vec<Bmap>,
    /// `ip->i_df.if_seq`: bumped by every fork change (`xfs_iext_inc_seq`).
    pub if_seq: u64,
    /// `ip->i_cowfp`, the COW fork, one entry per file block (all holes until the inode is
    /// reflinked): staging extents for writes to shared blocks, remapped into the data fork at
    /// I/O completion (`xfs_reflink_end_cow`).
    pub cf: Vec<Bmap>,
    /// `ip->i_cowfp->if_seq`.
    pub cow_seq: u64,
    /// XFS_DIFLAG2_REFLINK: set by the first clone; the write path then looks at the COW fork
    /// (`xfs_is_cow_inode`).
    pub reflink: bool,
    /// The refcount btree: physical blocks mapped more than once, with their count (a block
    /// not here has one owner).
    pub refcount: std::collections::BTreeMap<u64, u32>,
    /// On-disk file size (`ip->i_disk_size`), as the transactions that set it logged it: the
    /// crash view's size.
    pub disk_size: u64,

    /// Next free physical block (a bump allocator).
    pub next_pblk: u64,
    /// `XFS_ERRTAG_DROP_WRITES` (mount-wide; kept here because only the errortag op and
    /// `->iomap_end` touch it).
    pub drop_writes: bool,
}

impl InodeCore {
    /// The maximal run of the data fork containing `fsb`: `(start_fsb, len, first block's
    /// state)`.
    pub fn extent_at(&self, fsb: u64) -> (u64, u64, Bmap) {
        run_at(&self.df, fsb)
    }

    /// The fork `which`.
    pub fn fork(&self, which: Fork) -> &Vec<Bmap> {
        match which {
            Fork::Data => &self.df,
            Fork::Cow => &self.cf,
        }
    }

    /// `xfs_iomap_inode_sequence` (fs/xfs/xfs_iomap.c, 6.2 to 6.18): the validity cookie, the
    /// data fork's `if_seq` with the COW fork's in the high half for an IOMAP_F_SHARED mapping.
    pub fn iomap_sequence(&self, shared: bool) -> u64 {
        if shared {
            (self.cow_seq << 32) | self.if_seq
        } else {
            self.if_seq
        }
    }

    /// Is physical block `p` shared (`xfs_reflink_trim_around_shared`'s refcount lookup)?
    pub fn shared(&self, p: u64) -> bool {
        self.refcount.get(&p).is_some_and(|n| *n > 1)
    }

    /// One more owner of physical block `p` (`xfs_refcount_increase_extent`).
    pub fn refcount_inc(&mut self, p: u64) {
        *self.refcount.entry(p).or_insert(1) += 1;
    }

    /// One owner fewer of physical block `p` (`xfs_refcount_decrease_extent`; at one owner the
    /// record goes, at none the block is free).
    pub fn refcount_dec(&mut self, p: u64) {
        if let Some(n) = self.refcount.get_mut(&p) {
            *n -= 1;
            if *n <= 1 {
                self.refcount.remove(&p);
            }
        }
    }

    /// Change blocks `[start_fsb, end_fsb)` of the data fork with `f` (`None` = leave); bump
    /// `if_seq` once if anything changed (`xfs_iext_insert`/`update_extent`/`remove` each bump
    /// it) and record the change. Returns whether anything changed.
    pub fn update(
        &mut self,
        cx: &Ctx<'_>,
        func: &'static str,
        start_fsb: u64,
        end_fsb: u64,
        f: impl FnMut(&mut Self, Bmap) -> Option<Bmap>,
    ) -> bool {
        self.update_fork(cx, func, Fork::Data, start_fsb, end_fsb, f)
    }

    /// [`InodeCore::update`] on fork `which` (the COW fork bumps its own sequence).
    pub fn update_fork(
        &mut self,
        cx: &Ctx<'_>,
        func: &'static str,
        which: Fork,
        start_fsb: u64,
        end_fsb: u64,
        mut f: impl FnMut(&mut Self, Bmap) -> Option<Bmap>,
    ) -> bool {
        let bs = cx.w.geo.block_size;
        let seq_was = match which {
            Fork::Data => self.if_seq,
            Fork::Cow => self.cow_seq,
        };
        let mut runs: Vec<(u64, u64, ExtKind, ExtKind)> = Vec::new();
        for fsb in start_fsb..end_fsb.min(self.df.len() as u64) {
            let old = self.fork(which)[fsb as usize];
            if let Some(new) = f(self, old) {
                if new != old {
                    match which {
                        Fork::Data => self.df[fsb as usize] = new,
                        Fork::Cow => self.cf[fsb as usize] = new,
                    }
                    match runs.last_mut() {
                        Some(r) if r.1 == fsb && r.2 == old.kind() && r.3 == new.kind() => r.1 = fsb + 1,
                        _ => runs.push((fsb, fsb + 1, old.kind(), new.kind())),
                    }
                }
            }
        }
        if runs.is_empty() {
            return false;
        }
        let skip = match func {
            "xfs_iomap_write_unwritten" => Mutation::NoSeqBumpUnwrittenConvert,
            "xfs_bmapi_convert_delalloc" => Mutation::NoSeqBumpDelallocConvert,
            "xfs_bmapi_reserve_delalloc" => Mutation::NoSeqBumpDelallocReserve,
            "xfs_bmap_del_extent_delay" => Mutation::NoSeqBumpPunch,
            _ => Mutation::None,
        };
        let seq_now = match which {
            Fork::Cow => {
                self.cow_seq += 1;
                self.cow_seq
            }
            Fork::Data => {
                if skip == Mutation::None || !cx.w.behaviour.mutated(skip) {
                    self.if_seq += 1;
                }
                self.if_seq
            }
        };
        for (s, e, was, now) in runs {
            let what = What::Extent { from_byte: s * bs, to_byte: e * bs, was, now, seq_was, seq_now };
            cx.ev(if which == Fork::Cow { cow_event(func) } else { func }, what);
        }
        true
    }

    /// The maximal run of fork `which` containing `fsb` (as [`InodeCore::extent_at`]).
    pub fn fork_extent_at(&self, which: Fork, fsb: u64) -> (u64, u64, Bmap) {
        run_at(self.fork(which), fsb)
    }

    /// Allocate one physical block.
    pub fn alloc_pblk(&mut self) -> u64 {
        let p = self.next_pblk;
        self.next_pblk += 1;
        p
    }
}

/// The maximal run of `fork` containing `fsb`: blocks of one kind with contiguous physical
/// blocks.
fn run_at(fork: &[Bmap], fsb: u64) -> (u64, u64, Bmap) {
    let n = fork.len() as u64;
    let same = |i: u64, j: u64| -> bool {
        let (x, y) = (fork[i as usize], fork[j as usize]);
        x.kind() == y.kind()
            && match (x.pblk(), y.pblk()) {
                (Some(p), Some(q)) => q == p + (j - i),
                _ => true,
            }
    };
    let mut start = fsb;
    while start > 0 && same(start - 1, fsb) {
        start -= 1;
    }
    let mut end = fsb + 1;
    while end < n && same(fsb, end) {
        end += 1;
    }
    (start, end - start, fork[start as usize])
}

/// Which fork of the inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fork {
    /// `XFS_DATA_FORK`.
    Data,
    /// `XFS_COW_FORK`.
    Cow,
}

/// Event names for changes to the COW fork (the kernel functions are the same, with
/// `XFS_COW_FORK`).
fn cow_event(func: &'static str) -> &'static str {
    match func {
        "xfs_bmapi_reserve_delalloc" => "xfs_bmapi_reserve_delalloc(COW)",
        "xfs_bmapi_convert_delalloc" => "xfs_bmapi_convert_delalloc(COW)",
        "xfs_bmap_del_extent_delay" => "xfs_bmap_del_extent_delay(COW)",
        "xfs_reflink_end_cow" => "xfs_bmap_del_extent_cow",
        "xfs_reflink_cancel_cow_blocks" => "xfs_reflink_cancel_cow_blocks",
        _ => "COW fork",
    }
}

/// `xfs_bmbt_to_iomap` (fs/xfs/xfs_iomap.c, 6.1 and 6.2) of the extent containing `fsb`,
/// with the current `if_seq` as validity cookie.
pub fn iomap_from_extent(core: &InodeCore, geo: &Geometry, fsb: u64) -> Iomap {
    let bs = geo.block_size;
    let (start, len, b) = core.extent_at(fsb);
    let (ty, addr) = match b {
        Bmap::Hole => (IomapType::Hole, 0),
        Bmap::Delalloc => (IomapType::Delalloc, 0),
        Bmap::Unwritten(p) => (IomapType::Unwritten, p * bs),
        Bmap::Written(p) => (IomapType::Mapped, p * bs),
    };
    Iomap { offset: start * bs, length: len * bs, ty, addr, cookie: core.if_seq, ..Iomap::NONE }
}

/// `struct xfs_inode` (the parts modelled).
#[derive(Debug)]
pub struct XfsInode {
    /// `inode->i_rwsem` = XFS_IOLOCK.
    pub i_rwsem: RwLock<()>,
    /// XFS_ILOCK and what it protects.
    pub ilock: Mutex<InodeCore>,
    /// Direct I/O in flight (`inode->i_dio_count`, an atomic_t the kernel reads and changes
    /// without a lock): not a checker object, so reading it is no scheduling point; the
    /// waiter yields while it is not zero.
    pub i_dio_count: AtomicU32,
}

impl XfsInode {
    /// An empty inode: every block a hole.
    pub fn new(backend: Backend, geo: &Geometry) -> XfsInode {
        let core = InodeCore {
            df: vec![Bmap::Hole; geo.nr_blocks() as usize],
            if_seq: 1,
            cf: vec![Bmap::Hole; geo.nr_blocks() as usize],
            cow_seq: 1,
            reflink: false,
            refcount: Default::default(),
            disk_size: 0,
            next_pblk: PBLK_BASE,
            drop_writes: false,
        };
        XfsInode {
            i_rwsem: RwLock::named(backend, "i_rwsem (IOLOCK)", ()),
            ilock: Mutex::named(backend, "ILOCK", core),
            i_dio_count: AtomicU32::new(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::Behaviour;
    use crate::world::World;

    fn world(bs: u64) -> World {
        let geo = Geometry::new(bs, 4096, vec![1], 16384);
        World::new(Backend::Std, geo, Behaviour::preset("linux-6.2").unwrap())
    }

    #[test]
    fn extent_at_returns_maximal_runs_with_contiguous_blocks() {
        let w = world(4096);
        let mut c = w.ip.ilock.lock();
        c.df = vec![Bmap::Unwritten(1000), Bmap::Unwritten(1001), Bmap::Unwritten(1005), Bmap::Hole];
        assert_eq!(c.extent_at(0), (0, 2, Bmap::Unwritten(1000)));
        assert_eq!(c.extent_at(1), (0, 2, Bmap::Unwritten(1000)));
        assert_eq!(c.extent_at(2), (2, 1, Bmap::Unwritten(1005)), "a physical gap splits the extent");
        assert_eq!(c.extent_at(3), (3, 1, Bmap::Hole));
    }

    #[test]
    fn every_fork_change_bumps_if_seq_once_and_no_change_bumps_nothing() {
        let w = world(4096);
        let cx = Ctx { w: &w, actor: 0 };
        let mut c = w.ip.ilock.lock();
        let seq = c.if_seq;
        assert!(c.update(&cx, "reserve", 0, 2, |_, _| Some(Bmap::Delalloc)));
        assert_eq!(c.if_seq, seq + 1);
        assert!(!c.update(&cx, "noop", 0, 2, |_, _| Some(Bmap::Delalloc)));
        assert_eq!(c.if_seq, seq + 1);
        assert!(c.update(&cx, "convert", 0, 4, |c, b| (b == Bmap::Delalloc).then(|| Bmap::Unwritten(c.alloc_pblk()))));
        assert_eq!(c.df, vec![Bmap::Unwritten(PBLK_BASE), Bmap::Unwritten(PBLK_BASE + 1), Bmap::Hole, Bmap::Hole]);
        assert_eq!(c.if_seq, seq + 2);
    }

    #[test]
    fn punch_delalloc_touches_delalloc_only() {
        let w = world(4096);
        let cx = Ctx { w: &w, actor: 0 };
        w.ip.ilock.lock().df = vec![Bmap::Delalloc, Bmap::Written(7), Bmap::Delalloc, Bmap::Unwritten(9)];
        xfs_bmap_punch_delalloc_range(&cx, 0, 16384);
        assert_eq!(w.ip.ilock.lock().df, vec![Bmap::Hole, Bmap::Written(7), Bmap::Hole, Bmap::Unwritten(9)]);
    }

    /// kernel.md §14: an empty punch at block 0 (6.2's `xfs_discard_folio(pos = 0)`) deletes
    /// every delalloc extent of the fork; an empty punch anywhere else deletes nothing.
    #[test]
    fn empty_punch_at_zero_deletes_every_delalloc_extent_and_elsewhere_nothing() {
        let w = world(4096);
        let cx = Ctx { w: &w, actor: 0 };
        let fork = vec![Bmap::Delalloc, Bmap::Delalloc, Bmap::Written(7), Bmap::Delalloc];
        w.ip.ilock.lock().df = fork.clone();
        xfs_bmap_punch_delalloc_range(&cx, 4096, 4096);
        assert_eq!(w.ip.ilock.lock().df, fork, "an empty range past block 0 punches nothing");
        xfs_bmap_punch_delalloc_range(&cx, 0, 0);
        assert_eq!(w.ip.ilock.lock().df, vec![Bmap::Hole, Bmap::Hole, Bmap::Written(7), Bmap::Hole]);
    }

    #[test]
    fn write_iomap_begin_reserves_delalloc_up_to_the_next_extent_and_marks_it_new() {
        let w = world(1024);
        let cx = Ctx { w: &w, actor: 0 };
        {
            let mut c = w.ip.ilock.lock();
            c.df = vec![Bmap::Hole; 16];
            c.df[5] = Bmap::Written(2000);
        }
        let m = xfs_buffered_write_iomap_begin(&cx, 1024, 8192, Default::default()).unwrap();
        assert_eq!((m.offset, m.length, m.ty, m.new), (1024, 4096, IomapType::Delalloc, true));
        assert_eq!(m.cookie, w.ip.ilock.lock().if_seq);
        let m = xfs_buffered_write_iomap_begin(&cx, 5 * 1024 + 10, 100, Default::default()).unwrap();
        assert_eq!((m.offset, m.length, m.ty, m.new, m.addr), (5120, 1024, IomapType::Mapped, false, 2000 * 1024));
    }
}
