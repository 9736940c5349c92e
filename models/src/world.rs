//! The modelled file: page cache, XFS inode, disk, recorder, and the knobs in force.

use crate::behaviour::Behaviour;
use crate::events::Recorder;
use crate::pagecache::AddressSpace;
use crate::xfs::{Disk, XfsInode};
use iomc_sync::Backend;

pub use crate::geometry::Geometry;

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
