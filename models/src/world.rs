//! The modelled file: page cache, XFS inode, disk, recorder, and the knobs in force.

use crate::behaviour::Behaviour;
use crate::events::Recorder;
use crate::pagecache::AddressSpace;
use crate::xfs::{Disk, XfsInode};
use iomc_sync::Backend;

/// Block, page and folio sizes, and how much of the file is modelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Filesystem block size in bytes (power of two).
    pub block_size: u64,
    /// Page size in bytes (power of two).
    pub page_size: u64,
    /// Folio sizes (in pages) the page cache may create, ascending: readahead and faults pick
    /// the largest that fits.
    pub folio_pages: Vec<u64>,
    /// Folio sizes (in pages) the 6.6+ buffered write path may create (`fgf_set_order`),
    /// ascending; usually the same list. `iomc conform` widens it to what the kernel may use.
    pub write_folio_pages: Vec<u64>,
    /// Bytes of file offset space modelled (a multiple of the largest folio).
    pub span: u64,
    /// The `reclaim` op reaches only uptodate folios. Off for checks, where `reclaim` is
    /// kswapd's and takes any clean folio; `iomc conform` turns it on because the real
    /// counterpart maps only the pages `mincore` reports (cached and uptodate): faulting in a
    /// folio that is not uptodate would read it.
    pub pageout_uptodate_only: bool,
    /// XFS's `always_cow` debug knob: every buffered write goes through the COW fork
    /// (`xfs_is_always_cow_inode`).
    pub always_cow: bool,
    /// Zoned XFS: every write out of place through the COW fork, blocks allocated at
    /// submission and mapped into the data fork at I/O completion (`xfs_is_zoned_inode`).
    pub zoned: bool,
}

impl Geometry {
    /// Pages in the modelled span.
    pub fn nr_pages(&self) -> u64 {
        self.span / self.page_size
    }
    /// File blocks in the modelled span.
    pub fn nr_blocks(&self) -> u64 {
        self.span / self.block_size
    }
    /// Largest folio the page cache may create, in pages.
    pub fn max_folio_pages(&self) -> u64 {
        self.folio_pages.iter().chain(&self.write_folio_pages).copied().max().unwrap_or(1)
    }

    /// Geometry with the same folio sizes on every path.
    pub fn new(block_size: u64, page_size: u64, folio_pages: Vec<u64>, span: u64) -> Geometry {
        Geometry {
            block_size,
            page_size,
            write_folio_pages: folio_pages.clone(),
            folio_pages,
            span,
            pageout_uptodate_only: false,
            always_cow: false,
            zoned: false,
        }
    }
    /// Round `x` down to a block boundary.
    pub fn block_down(&self, x: u64) -> u64 {
        x / self.block_size * self.block_size
    }
    /// Round `x` up to a block boundary.
    pub fn block_up(&self, x: u64) -> u64 {
        x.div_ceil(self.block_size) * self.block_size
    }
}

/// One execution's modelled file. Built fresh for every execution: nothing is shared between
/// executions, so an execution depends only on its schedule.
#[derive(Debug)]
pub struct World {
    /// Which checker runs this world.
    pub backend: Backend,
    /// Sizes.
    pub geo: Geometry,
    /// Kernel variant knobs.
    pub behaviour: Behaviour,
    /// The file's `address_space`.
    pub mapping: AddressSpace,
    /// The XFS inode.
    pub ip: XfsInode,
    /// The block device.
    pub disk: Disk,
    /// Events, operation history and model warnings (no scheduling points).
    pub rec: Recorder,
    /// The durable state at the first `crash` op, if one ran (not a checker object: written
    /// once, read by the oracle after the threads joined).
    pub crash: std::sync::Mutex<Option<crate::xfs::CrashImage>>,
}

impl World {
    /// A new empty file of size 0 with no extents, an empty page cache and a poisoned disk.
    pub fn new(backend: Backend, geo: Geometry, behaviour: Behaviour) -> World {
        World::with_recording(backend, geo, behaviour, true)
    }

    /// Like [`World::new`], with event and history recording on or off (benchmarks).
    pub fn with_recording(backend: Backend, geo: Geometry, behaviour: Behaviour, record: bool) -> World {
        let mapping = AddressSpace::new(backend, &geo);
        let ip = XfsInode::new(backend, &geo);
        let disk = Disk::new(backend, &geo);
        World { backend, geo, behaviour, mapping, ip, disk, rec: Recorder::new(record), crash: Default::default() }
    }
}

/// The calling actor and its world: what every model function receives.
#[derive(Clone, Copy, Debug)]
pub struct Ctx<'w> {
    /// The world.
    pub w: &'w World,
    /// Index of the actor (0 = main: setup and the final checks).
    pub actor: u8,
}

impl<'w> Ctx<'w> {
    /// Record an event for this actor.
    pub fn ev(&self, func: &'static str, what: crate::events::What) {
        self.w.rec.event(self.actor, func, what);
    }
    /// Record that i_size grew from `from` to `to` (an instant in the history: the oracle's
    /// size-extension and crash rules read it).
    pub fn extended(&self, from: u64, to: u64) {
        self.instant(crate::events::OpDesc::Extend { from, to });
    }
    /// Record an instant in the history (an op that starts and ends at once).
    pub fn instant(&self, desc: crate::events::OpDesc) {
        let h = self.w.rec.invoke(self.actor, desc);
        self.w.rec.respond(h, 0, Vec::new());
    }
    /// Record a model assertion failure standing for a kernel WARN/ASSERT.
    pub fn warn(&self, name: &'static str, detail: String) {
        self.w.rec.warn(self.actor, name, detail);
    }
}
