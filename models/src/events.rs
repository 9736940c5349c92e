//! What happened in one execution: kernel-function events, the operation history the oracle
//! reads, and model warnings. Recorded in a plain `std` mutex owned by the execution, so
//! recording creates no scheduling point (loom and shuttle run every model thread on one OS
//! thread; under the stress backend the mutex is simply uncontended most of the time).

use std::sync::Mutex;

/// Kind of an extent in the data fork, as the timeline shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExtKind {
    /// No extent.
    Hole,
    /// Delayed allocation reservation.
    Delalloc,
    /// Allocated, unwritten (reads as zeroes).
    Unwritten,
    /// Allocated and written.
    Written,
}

/// `struct iomap` type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IomapType {
    /// IOMAP_HOLE
    Hole,
    /// IOMAP_DELALLOC
    Delalloc,
    /// IOMAP_MAPPED
    Mapped,
    /// IOMAP_UNWRITTEN
    Unwritten,
}

/// What an event changed or observed. Plain data: rendering happens only for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum What {
    /// A kernel lock taken (`excl` false = shared).
    Lock { name: &'static str, excl: bool },
    /// A kernel lock released.
    Unlock { name: &'static str },
    /// A new folio inserted into the page cache, not uptodate.
    FolioCreated { pos: u64, size: u64, locked: bool },
    /// A folio found in the page cache.
    FolioFound { pos: u64, size: u64, uptodate: bool, dirty: bool, writeback: bool },
    /// A folio lock taken.
    FolioLocked { pos: u64 },
    /// A folio lock released.
    FolioUnlocked { pos: u64 },
    /// A folio removed from the page cache (shadow entry left when `shadow`).
    FolioEvicted { pos: u64, size: u64, shadow: bool },
    /// A folio could not be evicted.
    FolioKept { pos: u64, why: &'static str },
    /// Folio marked dirty.
    FolioDirty { pos: u64 },
    /// `folio_clear_dirty_for_io`.
    FolioClean { pos: u64 },
    /// `folio_start_writeback`.
    WritebackStart { pos: u64 },
    /// `folio_end_writeback`.
    WritebackEnd { pos: u64 },
    /// Bytes `[from, to)` of the file zeroed in a folio.
    Zero { from: u64, to: u64 },
    /// Bytes `[from, to)` read from disk (or zero-filled for an unmapped range) into a folio.
    ReadIn { from: u64, to: u64, ty: IomapType },
    /// User data copied into `[from, to)`.
    Copy { from: u64, to: u64, fill: u8 },
    /// A mapping returned by `->iomap_begin`.
    Iomap { offset: u64, length: u64, ty: IomapType, new: bool, cookie: u64 },
    /// An extent range changed state, with the fork sequence number before and after.
    Extent { from_byte: u64, to_byte: u64, was: ExtKind, now: ExtKind, seq_was: u64, seq_now: u64 },
    /// `->iomap_valid` compared the cookie with `if_seq`.
    Valid { cookie: u64, if_seq: u64, valid: bool },
    /// `->iomap_end` with the bytes written in this mapping.
    IomapEnd { pos: u64, length: u64, written: u64 },
    /// Delalloc punched (or the page cache truncated) over `[from, to)`.
    Punch { from: u64, to: u64 },
    /// Page cache truncated over `[from, to)`.
    TruncatePagecache { from: u64, to: u64 },
    /// Block written to disk.
    DiskWrite { from: u64, to: u64, pblk: u64 },
    /// Writeback could not map the block at `pos` (the delalloc conversion failed).
    WritebackError { pos: u64, errno: i64 },
    /// A block skipped by writeback.
    WritebackSkip { from: u64, to: u64, why: &'static str },
    /// In-memory file size changed.
    Size { was: u64, now: u64 },
    /// The write ends its iteration early.
    ShortWrite { pos: u64, why: &'static str },
    /// `mapping_seek_hole_data` from `start` (SEEK_DATA when `data`, else SEEK_HOLE) within
    /// `[start, end)` of the page cache: the offset found, or `None` for -ENXIO.
    Seek { data: bool, start: u64, end: u64, found: Option<u64> },
    /// A read returned these bytes from `offset`: runs of one byte value, `(from, to, byte)`
    /// (the data is recorded only when a read completes: what the caller saw).
    Returned { offset: u64, runs: Vec<(u64, u64, u8)> },
    /// Free text for rare events.
    Note(&'static str),
}

/// `data` read at `offset` as runs of equal bytes `(from, to, byte)`, for [`What::Returned`].
pub fn byte_runs(offset: u64, data: &[u8]) -> Vec<(u64, u64, u8)> {
    let mut runs: Vec<(u64, u64, u8)> = Vec::new();
    for (i, b) in data.iter().enumerate() {
        let pos = offset + i as u64;
        match runs.last_mut() {
            Some((_, to, v)) if *v == *b && *to == pos => *to = pos + 1,
            _ => runs.push((pos, pos + 1, *b)),
        }
    }
    runs
}

/// One event: which actor, in which kernel function, did what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Actor index (0 = main).
    pub actor: u8,
    /// Kernel function.
    pub func: &'static str,
    /// What it did.
    pub what: What,
}

/// An operation as the oracle sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpDesc {
    /// Bytes `[offset, offset+length)` set to `fill` (pwrite).
    Write { offset: u64, length: u64, fill: u8 },
    /// An O_DIRECT write of `fill` over `[offset, offset+length)` (falls back to a buffered
    /// write when the page cache cannot be invalidated first).
    DirectWrite { offset: u64, length: u64, fill: u8 },
    /// A store of `fill` over `[offset, offset+length)` through a shared mapping: only the
    /// bytes it reports (those inside EOF when stored) are file data.
    Store { offset: u64, length: u64, fill: u8 },
    /// i_size grew from `from` to `to` (an instant, recorded by the model where i_size is
    /// written): the bytes in between that no write had yet covered became file data, zeroes.
    Extend { from: u64, to: u64 },
    /// At this instant (the remap, under every lock the clone holds) `[dst, dst+length)`
    /// became a copy of what `[src, src+length)` held.
    Clone { src: u64, dst: u64, length: u64 },
    /// The page cache over `[offset, offset+length)` could not be invalidated after this
    /// actor's O_DIRECT write (a folio there was dirty again): `dio_warn_stale_pagecache` sets
    /// -EIO on the mapping and warns "Possible data corruption due to collision with buffered
    /// I/O!". The write's data may not show through the cache (an instant).
    StalePagecache { offset: u64, length: u64 },
    /// Bytes `[offset, offset+length)` set to zero (punch, truncate beyond the new size).
    Zero { offset: u64, length: u64 },
    /// A read (buffered or direct) of `[offset, offset+length)`.
    Read { offset: u64, length: u64 },
    /// Anything that must not change file contents (writeback, reclaim, fallocate...).
    Neutral(&'static str),
    /// A writeback error was reported for `[offset, offset+length)` (a folio): its data may be
    /// lost (`xfs_discard_folio` punched its delalloc), so it may read as a hole from now on.
    Discard { offset: u64, length: u64 },
}

/// An operation's invocation and response in the execution's global order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpRecord {
    /// Actor index.
    pub actor: u8,
    /// What the op does to the file.
    pub desc: OpDesc,
    /// Position of the invocation in the global order.
    pub inv: u64,
    /// Position of the response (`u64::MAX` while running).
    pub resp: u64,
    /// Bytes the op reports done (writes: bytes written; reads: bytes read), or a negative errno.
    pub result: i64,
    /// Data a read returned.
    pub data: Vec<u8>,
}

/// A model assertion that failed (standing for a kernel WARN_ON/ASSERT).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// Actor index.
    pub actor: u8,
    /// Name of the assertion, e.g. `iomap_iter_done`.
    pub name: &'static str,
    /// What was wrong.
    pub detail: String,
}

#[derive(Debug, Default)]
struct RecState {
    clock: u64,
    events: Vec<Event>,
    ops: Vec<OpRecord>,
    warnings: Vec<Warning>,
}

/// Per-execution recorder. A recorder that is off (benchmarks: the cost of recording) keeps
/// nothing; the schedule is unchanged either way (its mutex is not a checker object).
#[derive(Debug)]
pub struct Recorder {
    on: bool,
    inner: Mutex<RecState>,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new(true)
    }
}

impl Recorder {
    /// A recorder that records (`on`) or drops everything.
    pub fn new(on: bool) -> Recorder {
        Recorder { on, inner: Mutex::new(RecState::default()) }
    }

    /// Whether events are kept (an event that costs work to build is built only then).
    pub fn is_on(&self) -> bool {
        self.on
    }

    fn with<R>(&self, f: impl FnOnce(&mut RecState) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Record an event.
    pub fn event(&self, actor: u8, func: &'static str, what: What) {
        if self.on {
            self.with(|s| s.events.push(Event { actor, func, what }));
        }
    }

    /// Record a model warning (kept even when recording is off: it is a finding).
    pub fn warn(&self, actor: u8, name: &'static str, detail: String) {
        self.with(|s| s.warnings.push(Warning { actor, name, detail }));
    }

    /// Record an operation's invocation; returns its handle.
    pub fn invoke(&self, actor: u8, desc: OpDesc) -> usize {
        if !self.on {
            return 0;
        }
        self.with(|s| {
            s.clock += 1;
            let inv = s.clock;
            s.ops.push(OpRecord { actor, desc, inv, resp: u64::MAX, result: 0, data: Vec::new() });
            s.ops.len() - 1
        })
    }

    /// Record an operation's response.
    pub fn respond(&self, op: usize, result: i64, data: Vec<u8>) {
        if !self.on {
            return;
        }
        self.with(|s| {
            s.clock += 1;
            let clock = s.clock;
            if let Some(r) = s.ops.get_mut(op) {
                r.resp = clock;
                r.result = result;
                r.data = data;
            }
        })
    }

    /// Everything recorded so far.
    pub fn snapshot(&self) -> (Vec<Event>, Vec<OpRecord>, Vec<Warning>) {
        self.with(|s| (s.events.clone(), s.ops.clone(), s.warnings.clone()))
    }

    /// The operation history and the warnings so far (what the oracle needs of a passing
    /// execution: the events are copied only for a report).
    pub fn history(&self) -> (Vec<OpRecord>, Vec<Warning>) {
        self.with(|s| (s.ops.clone(), s.warnings.clone()))
    }

    /// Were any warnings recorded?
    pub fn first_warning(&self) -> Option<Warning> {
        self.with(|s| s.warnings.first().cloned())
    }

    /// Number of events so far.
    pub fn event_count(&self) -> usize {
        self.with(|s| s.events.len())
    }
}
