//! The block device: never-written blocks hold poison.

use crate::world::Geometry;
use iomc_sync::{Backend, Mutex};

/// First physical block number the allocator hands out (so disk and file block numbers differ
/// in timelines).
pub const PBLK_BASE: u64 = 1000;

/// The disk. Bytes never written read as [`POISON`], so both "forgot to zero" (poison shows)
/// and "zeroed too much" (zeroes where data was) are visible.
#[derive(Debug)]
pub struct Disk {
    bytes: Mutex<Vec<u8>>,
    base: u64,
}

/// The byte a never-written disk sector holds.
pub const POISON: u8 = 0xA5;

impl Disk {
    /// A poisoned disk with room for twice the modelled span (it grows if needed).
    pub fn new(backend: Backend, geo: &Geometry) -> Disk {
        Disk {
            bytes: Mutex::named(backend, "disk", vec![POISON; (2 * geo.span) as usize]),
            base: PBLK_BASE * geo.block_size,
        }
    }

    /// `submit_bio(REQ_OP_READ)` and wait: `len` bytes at disk byte address `daddr`.
    pub fn read(&self, daddr: u64, len: u64) -> Vec<u8> {
        let bytes = self.bytes.lock();
        let start = daddr.saturating_sub(self.base) as usize;
        let end = start + len as usize;
        let mut out = vec![POISON; len as usize];
        if start < bytes.len() {
            let have = end.min(bytes.len());
            out[..have - start].copy_from_slice(&bytes[start..have]);
        }
        out
    }

    /// [`Disk::read`] into a caller's buffer (the oracle's views: no allocation per block).
    pub fn read_into(&self, daddr: u64, out: &mut [u8]) {
        let bytes = self.bytes.lock();
        let start = daddr.saturating_sub(self.base) as usize;
        let have = (start + out.len()).min(bytes.len()).max(start);
        out[..have - start].copy_from_slice(bytes.get(start..have).unwrap_or(&[]));
        out[have - start..].fill(POISON);
    }

    /// `submit_bio(REQ_OP_WRITE)` completing: `data` lands at `daddr`.
    pub fn write(&self, daddr: u64, data: &[u8]) {
        let mut bytes = self.bytes.lock();
        let start = daddr.saturating_sub(self.base) as usize;
        if bytes.len() < start + data.len() {
            bytes.resize(start + data.len(), POISON);
        }
        bytes[start..start + data.len()].copy_from_slice(data);
    }
}
