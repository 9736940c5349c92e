//! Observing the real file the way the model is observed: a [`Snapshot`] (size and per-block
//! extent state from FIEMAP) after an op, and the [`FinalViews`] (page cache, then disk) at the
//! end of a run.

use std::thread::sleep;
use std::time::Duration;

use iomc_scenario::observe::{BlockState, FinalViews, Snapshot};
use rustix::fs::Advice;

use crate::ops::RealFile;
use crate::sys::{self, FIEMAP_EXTENT_DELALLOC, FIEMAP_EXTENT_UNWRITTEN};
use crate::{io_err, Error, Result};

/// How often eviction is retried before [`RealFile::final_views`] gives up.
const EVICT_ATTEMPTS: u32 = 5;

impl RealFile {
    /// The file size and the extent state of every block inside EOF (the size rounded up to
    /// the block size), from `FS_IOC_FIEMAP` with flags 0 over `[0, blocks * block_size)`.
    ///
    /// No `FIEMAP_FLAG_SYNC`: nothing is flushed, so delayed allocations show up as
    /// [`BlockState::Delalloc`] (`FIEMAP_EXTENT_DELALLOC`). `FIEMAP_EXTENT_UNWRITTEN` is
    /// [`BlockState::Unwritten`], any other extent [`BlockState::Written`], and a block no
    /// extent covers a [`BlockState::Hole`]. XFS writeback turns delalloc into unwritten
    /// extents when it submits the I/O and into written ones when the I/O completes, so a block
    /// under writeback that has not completed reads as `Unwritten`. Only the data fork is reported (as FIEMAP does), so
    /// COW staging extents are invisible. Size and extents are read by two calls, so a
    /// concurrent op can make them disagree; take snapshots only between ops.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let size = self.size()?;
        let bs = self.geometry().block_size.max(1);
        let nblocks = size.div_ceil(bs);
        let Ok(n) = usize::try_from(nblocks) else {
            return Err(Error::Invalid(format!("file size {size} too large to map")));
        };
        let mut blocks = vec![BlockState::Hole; n];
        if n > 0 {
            let extents = sys::fiemap(self.fd(), 0, nblocks * bs).map_err(io_err("FS_IOC_FIEMAP"))?;
            for e in extents {
                let state = if e.flags & FIEMAP_EXTENT_DELALLOC != 0 {
                    BlockState::Delalloc
                } else if e.flags & FIEMAP_EXTENT_UNWRITTEN != 0 {
                    BlockState::Unwritten
                } else {
                    BlockState::Written
                };
                let first = (e.logical / bs).min(nblocks) as usize;
                let last = e.logical.saturating_add(e.length).div_ceil(bs).min(nblocks) as usize;
                blocks[first..last].fill(state);
            }
        }
        Ok(Snapshot { size, blocks })
    }

    /// The file's contents at the end of a run:
    ///
    /// 1. `cache`: `pread` of `[0, size)`, through the page cache;
    /// 2. `fsync`, then `posix_fadvise(POSIX_FADV_DONTNEED)` over the whole file, then `mincore`
    ///    on a fresh mapping to check that no page of the file is still cached (retried a few
    ///    times; pages still mapped by a live [`ThreadState`](crate::ThreadState) can never be
    ///    evicted, so drop those first), failing with [`Error::Eviction`] otherwise;
    /// 3. `durable`: `pread` of `[0, size)` again, now read from the disk.
    pub fn final_views(&self) -> Result<FinalViews> {
        let size = self.size()?;
        let cache = self.read_all(size)?;
        rustix::fs::fsync(self.fd()).map_err(|e| io_err("fsync")(e.into()))?;
        self.evict(size)?;
        let durable = self.read_all(size)?;
        Ok(FinalViews { size, cache, durable })
    }

    /// Pages of `[0, size)` resident in the page cache (`mincore`).
    pub fn resident_pages(&self) -> Result<usize> {
        let len = usize::try_from(self.size()?).map_err(|_| Error::Invalid("file too large".into()))?;
        sys::resident_pages(self.fd(), len).map_err(io_err("mincore"))
    }

    /// `[0, size)` with `pread`, looping over short reads; stops early at EOF (a concurrent
    /// truncate), so the result may be shorter than `size`.
    fn read_all(&self, size: u64) -> Result<Vec<u8>> {
        let len = usize::try_from(size).map_err(|_| Error::Invalid(format!("file size {size} too large")))?;
        let mut buf = vec![0u8; len];
        let mut done = 0;
        while done < len {
            match rustix::io::pread(self.fd(), &mut buf[done..], done as u64) {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(io_err("pread")(e.into())),
            }
        }
        buf.truncate(done);
        Ok(buf)
    }

    /// Evicts every page of the (clean) file and checks it with `mincore`.
    fn evict(&self, size: u64) -> Result<()> {
        let len = usize::try_from(size).map_err(|_| Error::Invalid(format!("file size {size} too large")))?;
        let mut resident = 0;
        for attempt in 0..EVICT_ATTEMPTS {
            if attempt > 0 {
                sleep(Duration::from_millis(5 << attempt));
            }
            rustix::fs::fadvise(self.fd(), 0, None, Advice::DontNeed)
                .map_err(|e| io_err("posix_fadvise(DONTNEED)")(e.into()))?;
            resident = sys::resident_pages(self.fd(), len).map_err(io_err("mincore"))?;
            if resident == 0 {
                return Ok(());
            }
        }
        Err(Error::Eviction(format!(
            "{resident} page(s) of {} still cached after fsync and {EVICT_ATTEMPTS} rounds of \
             POSIX_FADV_DONTNEED (is a ThreadState holding a mapping of the file still alive?)",
            self.path().display()
        )))
    }
}
