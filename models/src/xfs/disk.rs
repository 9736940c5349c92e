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
        let mut out = vec![0; len as usize];
        self.read_into(daddr, &mut out);
        out
    }

    /// `submit_bio(REQ_OP_READ)` into a caller's buffer (the oracle's views: no allocation per
    /// block); bytes beyond anything ever written read as [`POISON`].
    pub fn read_into(&self, daddr: u64, out: &mut [u8]) {
        let bytes = self.bytes.lock();
        let start = daddr.saturating_sub(self.base) as usize;
        let have = (start + out.len()).min(bytes.len()).max(start);
        out[..have - start].copy_from_slice(bytes.get(start..have).unwrap_or(&[]));
        out[have - start..].fill(POISON);
    }

    /// `submit_bio(REQ_OP_WRITE)` completing: `data` lands at `daddr`.
    pub fn write(&self, daddr: u64, data: &[u8]) {
        Self::store(&mut self.bytes.lock(), self.base, daddr, data);
    }

    /// [`Disk::write`] as part of the caller's current step (no preemption point before it:
    /// [`iomc_sync::Mutex::lock_merged`]); the caller says why nothing is lost.
    pub fn write_merged(&self, daddr: u64, data: &[u8]) {
        Self::store(&mut self.bytes.lock_merged(), self.base, daddr, data);
    }

    fn store(bytes: &mut Vec<u8>, base: u64, daddr: u64, data: &[u8]) {
        let start = daddr.saturating_sub(base) as usize;
        if bytes.len() < start + data.len() {
            bytes.resize(start + data.len(), POISON);
        }
        bytes[start..start + data.len()].copy_from_slice(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads are poison where nothing was written (including past the end of the device
    /// buffer), the data where it was; `read` and `read_into` agree.
    #[test]
    fn reads_are_poison_except_where_written() {
        let geo = Geometry::new(4096, 4096, vec![1], 8192);
        let d = Disk::new(Backend::Std, &geo);
        let base = PBLK_BASE * 4096;
        d.write(base + 4096, &[7u8; 4096]);
        assert_eq!(d.read(base, 4096), vec![POISON; 4096]);
        assert_eq!(d.read(base + 4096, 4096), vec![7u8; 4096]);
        let mut buf = vec![0u8; 8192];
        d.read_into(base + 2048, &mut buf);
        assert_eq!(&buf[..2048], &[POISON; 2048][..]);
        assert_eq!(&buf[2048..6144], &[7u8; 4096][..]);
        assert_eq!(&buf[6144..], &[POISON; 2048][..]);
        // Far beyond what the device buffer holds.
        assert_eq!(d.read(base + (1 << 20), 16), vec![POISON; 16]);
        let mut far = [0u8; 16];
        d.read_into(base + (1 << 20), &mut far);
        assert_eq!(far, [POISON; 16]);
    }
}
