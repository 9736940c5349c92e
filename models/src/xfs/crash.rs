//! A power failure: what the disk holds at that instant.
//!
//! The model's assumption about the log: every transaction that committed before the crash is
//! durable (as if each commit forced the log; XFS's delayed logging can lose the last ones,
//! which only makes the durable state older, never newer). So the durable state is the data
//! blocks whose I/O completed, the data fork without its delalloc reservations (in memory
//! only), and the on-disk size (`i_disk_size`) as last logged.

use super::Bmap;
use crate::events::What;
use crate::world::Ctx;

/// The durable state at a crash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashImage {
    /// The on-disk data fork: delalloc reads as a hole.
    pub df: Vec<Bmap>,
    /// The on-disk size.
    pub disk_size: u64,
    /// Every block of the file below `disk_size`, as a reader after recovery sees it: written
    /// blocks from the disk, anything else zeroes.
    pub content: Vec<u8>,
}

/// A power failure now: take the ILOCK (so no transaction is half-applied), read the fork, the
/// on-disk size and the disk; record the image in the world (the first crash wins).
pub fn power_fail(cx: &Ctx<'_>) {
    let w = cx.w;
    let bs = w.geo.block_size;
    let core = w.ip.ilock.lock();
    let df: Vec<Bmap> = core.df.iter().map(|b| if *b == Bmap::Delalloc { Bmap::Hole } else { *b }).collect();
    let disk_size = core.disk_size.min(w.geo.span);
    let mut content = vec![0u8; disk_size as usize];
    for (blk, b) in df.iter().enumerate() {
        let pos = blk as u64 * bs;
        if pos >= disk_size {
            break;
        }
        if let Bmap::Written(p) = b {
            let end = (pos + bs).min(disk_size);
            w.disk.read_into(p * bs, &mut content[pos as usize..end as usize]);
        }
    }
    drop(core);
    cx.ev("power failure", What::Note("the disk as it is now is the crash view"));
    let mut slot = w.crash.lock().unwrap_or_else(|e| e.into_inner());
    if slot.is_none() {
        *slot = Some(CrashImage { df, disk_size, content });
    }
}
