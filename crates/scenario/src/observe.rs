//! What a user can observe of a file after an op, the same for the model and the real kernel.
//!
//! The conformance check (`iomc conform`) runs a scenario's ops on the model and on a real XFS
//! mount and compares these values: each op's [`OpResult`], the file size and the extent state
//! of every block inside EOF after each op (a [`Snapshot`]), and at the end the page-cache and
//! durable views ([`FinalViews`]). Threaded runs are compared as sets of [`RunOutcome`]s.

/// The extent state of one file block, as FIEMAP reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BlockState {
    /// No extent maps the block.
    Hole,
    /// Reserved, not yet allocated (`FIEMAP_EXTENT_DELALLOC`).
    Delalloc,
    /// Allocated, reads as zeroes (`FIEMAP_EXTENT_UNWRITTEN`).
    Unwritten,
    /// Allocated and written.
    Written,
}

impl BlockState {
    /// One letter per state, for compact extent maps: `.` hole, `d` delalloc, `u` unwritten,
    /// `W` written.
    pub fn letter(self) -> char {
        match self {
            BlockState::Hole => '.',
            BlockState::Delalloc => 'd',
            BlockState::Unwritten => 'u',
            BlockState::Written => 'W',
        }
    }

    /// A block map as one letter per block (see [`BlockState::letter`]).
    pub fn map(blocks: &[BlockState]) -> String {
        blocks.iter().map(|b| b.letter()).collect()
    }
}

/// What one op returned to its caller.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpResult {
    /// The system call's return: bytes transferred for `pwrite`, `read` and `mmap_write`
    /// (bytes stored inside EOF), 0 for the others, or `-errno`.
    pub ret: i64,
    /// The bytes a `read` returned; empty for every other op.
    pub data: Vec<u8>,
}

/// The file as seen right after one op, in the sequential differential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The file size (`i_size`, `st_size`).
    pub size: u64,
    /// The extent state of each block inside EOF (`size` rounded up to a block).
    pub blocks: Vec<BlockState>,
}

/// The file's contents at the end of a run.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FinalViews {
    /// The file size.
    pub size: u64,
    /// `[0, size)` read through the page cache.
    pub cache: Vec<u8>,
    /// `[0, size)` after fsync and evicting every folio: what the disk holds.
    pub durable: Vec<u8>,
}

/// One run's outcome: what every thread's ops returned and the final views. Two runs with the
/// same outcome are indistinguishable to a user.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunOutcome {
    /// Per scenario thread, in order, per op in order: what it returned.
    pub results: Vec<Vec<OpResult>>,
    /// The final views.
    pub views: FinalViews,
}
