//! Runs iomc scenario ops as real system calls on a file in a loop-mounted XFS on the running
//! kernel, and observes the file the same way the model does ([`iomc_scenario::observe`]), so
//! that `iomc conform` can compare the model with the kernel.
//!
//! Linux only; needs root (loop devices, `mount`, `/proc/sys/vm/drop_caches`).
//!
//! # Public API
//!
//! Mounting ([`mount`]):
//!
//! - [`preflight`]`() -> Result<(), Missing>`: checks, without changing anything, that this
//!   machine can run real scenarios: root, `/dev/loop-control`, `mkfs.xfs`, `mount`/`umount`/
//!   `losetup`, and XFS in the kernel. The error is one line naming what is missing and how to
//!   get it (e.g. `mkfs.xfs not found: apt-get install -y xfsprogs`).
//! - [`XfsMount::create`]`(block_size) -> Result<XfsMount>`: a fresh 300 MiB sparse image in a
//!   temporary directory, `mkfs.xfs -b size=block_size`, mounted with `mount -o loop` (default
//!   dynamic preallocation: none beyond EOF for files under 64 KiB, see [`runnable`]).
//! - [`XfsMount::existing`]`(dir, block_size) -> Result<XfsMount>`: uses an XFS already mounted at
//!   `dir` (checked with `statfs`) and never unmounts it.
//! - [`install_cleanup_on_signal`]`() -> Result<()>`: a SIGINT/SIGTERM/SIGHUP handler that
//!   unmounts every live [`XfsMount::create`] mount, detaches its loop device, removes its
//!   image and exits with status 130. Call it once at program start.
//!
//! **Cleanup guarantee.** A created mount is unmounted, its loop device detached and its image
//! deleted when the [`XfsMount`] is dropped: on success, on an error return, and on a panic
//! that unwinds (not with `panic = "abort"`). On Ctrl-C / `kill` the same happens through
//! [`install_cleanup_on_signal`], if it was installed. Only `SIGKILL` or a power cut can leave a
//! loop mount behind (`grep iomc-realfs /proc/mounts` finds it). [`XfsMount::unmount`] does the
//! cleanup explicitly and reports failures, which `Drop` can only print to stderr.
//!
//! Running ops ([`ops`], [`observe`](mod@observe)):
//!
//! - [`RealFile::create`]`(&mount, &geometry, span) -> Result<RealFile>`: a fresh, empty file in
//!   the mount (`O_CREAT|O_EXCL|O_RDWR`); the file is deleted when the last [`RealFile`] clone
//!   for it is dropped. [`RealFile::for_scenario`] takes geometry and span from a scenario.
//! - [`RealFile::try_clone`]: another handle (a `dup`ed descriptor) on the same file, for another
//!   thread.
//! - [`RealFile::run_op`]`(&mut self, &OpKind, &mut ThreadState) -> Result<OpResult, NotRunnable>`:
//!   runs one op as the system calls a user program would make; a failing system call is a
//!   result (`ret = -errno`), not an error. Each thread keeps its own [`ThreadState`] (a
//!   pending `short_copy`, its `mmap` of the file); drop the states before [`RealFile::final_views`].
//! - [`runnable`]`(&mount, &scenario) -> Result<(), String>`: says up front whether every op of the
//!   scenario has a real counterpart here (page size, block size, XFS error injection, no
//!   `crash`).
//! - [`RealFile::snapshot`]`() -> Result<Snapshot>`: size and per-block extent state from FIEMAP.
//! - [`RealFile::final_views`]`() -> Result<FinalViews>`: the page-cache view, then `fsync`,
//!   eviction (checked with `mincore`) and the durable view.
//!
//! Whole runs ([`threads`]):
//!
//! - [`run_threads`]`(&mount, &scenario, runs, seed) -> Result<BTreeMap<RunOutcome, u32>>`: each run
//!   on a fresh file: setup sequentially, then one OS thread per scenario thread, released
//!   together, with seeded random spins before each op; counts the distinct outcomes.
//! - [`run_sequential`]`(&mount, &scenario, order) -> Result<SeqRun>`: setup, then the given
//!   `(thread, op)` order on one thread, with a [`Snapshot`] after every op.
//!
//! # How the ops map to system calls
//!
//! See [`RealFile::run_op`]; in short: `pwrite` → `pwrite(2)`; `mmap_write` → stores into a
//! `MAP_SHARED` mapping, made through `process_vm_writev(2)` so that a page beyond EOF yields
//! `EFAULT` instead of `SIGBUS`; `read` → `pread(2)`, with `direct` on a second descriptor opened
//! `O_DIRECT` (into a 4096-byte aligned buffer); `dio_write` → `pwrite(2)` on that descriptor;
//! `writeback` → `sync_file_range(2)` (wait before, write, wait after); `reclaim` →
//! `madvise(MADV_PAGEOUT)` on a shared mapping of the range (kswapd's `shrink_folio_list`, no
//! writeback); `fallocate` (mode 0 or `KEEP_SIZE`), `zero_range` (`ZERO_RANGE`), `punch_hole` →
//! `fallocate(2)`; `clone_range` → `ioctl(FICLONERANGE)` from the file to itself (one
//! descriptor as source and destination; needs reflink, which `mkfs.xfs` turns on by default
//! since xfsprogs 5.1, else `-EOPNOTSUPP`); `truncate` → `ftruncate(2)`; `fsync` → `fsync(2)`;
//! `drop_caches` → `echo 1 > /proc/sys/vm/drop_caches` (machine-wide); `errortag` →
//! `/sys/fs/xfs/<dev>/errortag/<name>` (debug kernels only); `short_copy` → the next `pwrite`
//! copies from a buffer that runs into a `PROT_NONE` page. `crash` (and `writeback` with
//! `error`) has no real counterpart: not runnable.
//!
//! # Unsafe code
//!
//! All of it is in the private `sys` module (mappings, FIEMAP, `FICLONERANGE`,
//! `process_vm_writev`, `mincore`); every block has a `// SAFETY:` comment.

#![deny(unsafe_op_in_unsafe_fn)]

pub mod mount;
pub mod observe;
pub mod ops;
mod sys;
mod sysio;
pub mod threads;

use std::fmt;
use std::io;

pub use iomc_scenario::observe::{BlockState, FinalViews, OpResult, RunOutcome, Snapshot};
pub use mount::{install_cleanup_on_signal, preflight, Missing, XfsMount};
pub use ops::{runnable, NotRunnable, RealFile, ThreadState, PREALLOC_MIN_FILE_BYTES};
pub use threads::{run_sequential, run_threads, SeqRun, SeqStep};

/// Everything that can stop this crate from running or observing a scenario. A failing system
/// call *inside an op* is not an error: it is the op's result (`ret = -errno`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The machine lacks something ([`preflight`]).
    #[error("{0}")]
    Missing(#[from] Missing),
    /// A system call or file operation of the harness itself failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// An external command (`mkfs.xfs`, `mount`, `umount`, `losetup`) failed.
    #[error("{0}")]
    Command(String),
    /// The scenario uses an op this kernel cannot run.
    #[error("{0}")]
    NotRunnable(#[from] NotRunnable),
    /// Bad input: an `order` entry out of range, a mount of the wrong kind, ...
    #[error("{0}")]
    Invalid(String),
    /// The page cache still held pages of the file after eviction, so the durable view would
    /// not be read from disk.
    #[error("{0}")]
    Eviction(String),
    /// A run thread panicked.
    #[error("run thread {0} panicked")]
    ThreadPanicked(String),
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Wraps an I/O error with what was being done.
pub(crate) fn io_err(context: impl fmt::Display) -> impl FnOnce(io::Error) -> Error {
    move |source| Error::Io { context: context.to_string(), source }
}
