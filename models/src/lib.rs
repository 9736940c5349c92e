//! # iomc-models: the kernel paths, function by function
//!
//! Each public function models one kernel function and says which one, and for which kernel
//! versions, in its first doc line. Where the model simplifies, one line says what and why.
//!
//! ## Objects and scheduling points
//! The shared state of one modelled file lives in a [`World`]. Only objects the kernel contends
//! on, or accesses as one unit, are checker objects (each lock operation is a scheduling point):
//!
//! | checker object | kernel object | holds |
//! |---|---|---|
//! | `mapping.i_pages` (mutex) | the xarray and its `xa_lock`, folio flags | [`pagecache::MappingState`] |
//! | `mapping.folio_locks[i]` | the folio lock of the folio whose head is page `i` | nothing |
//! | `mapping.invalidate_lock` (rwsem) | `mapping->invalidate_lock` (XFS_MMAPLOCK) | nothing |
//! | `ip.i_rwsem` (rwsem) | `inode->i_rwsem` (XFS_IOLOCK) | nothing |
//! | `ip.ilock` (mutex) | XFS_ILOCK and the fields read with `READ_ONCE` | [`xfs::InodeCore`] |
//! | `disk` (mutex) | the block device | [`xfs::Disk`] |
//!
//! Everything an actor does between two of these operations is private to it (its `iomap`, its
//! iterator, the user buffer) and runs as one step.

pub mod behaviour;
pub mod events;
pub mod geometry;
pub mod iomap;
pub mod pagecache;
pub mod world;
pub mod xfs;

pub use behaviour::{
    newest_preset, preset_for_release, Behaviour, Mutation, WriteFailureCleanup, KNOBS, MUTATIONS, PRESETS,
};
pub use events::{Event, ExtKind, IomapType, OpDesc, OpRecord, Recorder, Warning, What};
pub use world::{Ctx, Geometry, World};
