//! One scenario op as the system calls a user program would make.
//!
//! A [`RealFile`] is an open descriptor on a fresh file in an [`XfsMount`]; [`RealFile::run_op`]
//! runs an [`OpKind`] on it and returns what the system call returned, in the model's terms
//! ([`OpResult`]): bytes transferred, 0, or `-errno` (Linux numbers: `-EFAULT` is -14). A failing
//! system call is an *outcome*, never an `Err`; the only error is [`NotRunnable`], for an op that
//! has no real counterpart on this kernel.
//!
//! Per-thread state lives in a [`ThreadState`], one per thread, like the per-process state a real
//! program has: a pending `short_copy` and the thread's shared mapping of the file.

use std::fmt;
use std::fs;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use iomc_scenario::observe::OpResult;
use iomc_scenario::{Geometry, OpKind, Scenario};
use rustix::fs::{FallocateFlags, Mode, OFlags};

use crate::mount::XfsMount;
use crate::sys::{self, FileMapping};
use crate::sysio::{dio_write, direct_read, open_direct, pread_result, pwrite_all, short_pwrite};
use crate::{io_err, Error, Result};

/// Largest `length` of a `pwrite`, `mmap_write`, `read` or `dio_write` that
/// [`RealFile::run_op`] runs (it allocates a buffer of that size); scenarios are limited to far
/// less ([`iomc_scenario::MAX_FILE_BYTES`]).
pub const MAX_OP_BYTES: u64 = 64 << 20;

/// Alignment of the user buffers of O_DIRECT reads and writes: a page, which satisfies any
/// logical block size the loop device can have (the kernel checks the buffer address against
/// it, as it checks the offset and length, and answers `EINVAL` when they are misaligned).
pub const DIO_BUF_ALIGN: usize = 4096;

/// An op that cannot run on this kernel, with the reason (e.g. no XFS error injection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotRunnable(pub String);

impl fmt::Display for NotRunnable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotRunnable {}

/// What one thread carries from op to op.
#[derive(Default)]
pub struct ThreadState {
    /// Set by `short_copy`: the next `pwrite` copies only this many bytes before faulting.
    short_copy: Option<u64>,
    /// The thread's `MAP_SHARED` mapping of the file, made by its first `mmap_write` (like a vma
    /// that stays until the thread is done). Dropping the state unmaps it.
    mapping: Option<FileMapping>,
    /// `process_vm_writev` was refused (`EPERM`/`ENOSYS`, e.g. by a seccomp or YAMA policy): store
    /// with plain CPU stores instead.
    direct_stores: bool,
}

impl ThreadState {
    /// A thread that has run nothing yet.
    pub fn new() -> ThreadState {
        ThreadState::default()
    }

    /// Whether `mmap_write` fell back to plain CPU stores because `process_vm_writev` was
    /// refused (see [`RealFile::run_op`]).
    pub fn uses_direct_stores(&self) -> bool {
        self.direct_stores
    }

    /// Whether a `short_copy` is waiting for the next `pwrite`.
    pub fn short_copy_pending(&self) -> Option<u64> {
        self.short_copy
    }
}

impl fmt::Debug for ThreadState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadState")
            .field("short_copy", &self.short_copy)
            .field("mapped_bytes", &self.mapping.as_ref().map(FileMapping::len))
            .field("direct_stores", &self.direct_stores)
            .finish()
    }
}

/// Deletes the test file when the last handle on it goes away.
#[derive(Debug)]
struct Remover(PathBuf);

impl Drop for Remover {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// An open, read-write descriptor on a test file in an [`XfsMount`], with the scenario geometry.
///
/// The file is created empty and deleted when the last handle ([`RealFile::try_clone`]) is
/// dropped. The descriptor's file offset is never used: every op is positional.
#[derive(Debug)]
pub struct RealFile {
    file: fs::File,
    /// A second descriptor on the same file, opened with `O_DIRECT` by the first `dio_write` or
    /// direct `read` of this handle (each handle, i.e. each thread, opens its own).
    direct: Option<fs::File>,
    remover: Arc<Remover>,
    geometry: Geometry,
    span: u64,
    errortag_dir: Option<PathBuf>,
}

/// `-errno` of an I/O error (`-EIO` if it carries no errno).
pub(crate) fn neg_errno(e: &std::io::Error) -> i64 {
    -i64::from(e.raw_os_error().unwrap_or(libc::EIO))
}

pub(crate) fn ret_of(r: rustix::io::Result<()>) -> OpResult {
    OpResult { ret: r.map_or_else(|e| -i64::from(e.raw_os_error()), |()| 0), data: Vec::new() }
}

pub(crate) fn ret_n(ret: i64) -> OpResult {
    OpResult { ret, data: Vec::new() }
}

impl RealFile {
    /// Creates a fresh, empty file in `mount` (`O_CREAT | O_EXCL | O_RDWR`, mode 0644) for a
    /// scenario with `geometry` whose ops stay below `span` bytes (the size of `mmap_write`'s
    /// mapping; see [`Scenario::span_bytes`]). The geometry's block size must be the mount's.
    pub fn create(mount: &XfsMount, geometry: &Geometry, span: u64) -> Result<RealFile> {
        if geometry.block_size != mount.block_size() {
            return Err(Error::Invalid(format!(
                "scenario block size {} but the mount has {}-byte blocks",
                geometry.block_size,
                mount.block_size()
            )));
        }
        let path = loop {
            let path = mount.next_file_path();
            let flags = OFlags::CREATE | OFlags::EXCL | OFlags::RDWR | OFlags::CLOEXEC;
            match rustix::fs::open(&path, flags, Mode::from_raw_mode(0o644)) {
                Ok(fd) => break (path, fs::File::from(fd)),
                // Left over from an earlier process with the same pid: take the next name.
                Err(rustix::io::Errno::EXIST) => continue,
                Err(e) => return Err(io_err(format!("creating {}", path.display()))(e.into())),
            }
        };
        let (path, file) = path;
        // No readahead beyond what an op touches: the kernel's readahead I/O completes at a
        // time no serialization controls (a read-around page still locked makes
        // `filemap_range_needs_writeback` true for a later zeroing), and the model brings in
        // only the pages an op covers (README, "where the model differs").
        rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::Random)
            .map_err(|e| io_err(format!("posix_fadvise(POSIX_FADV_RANDOM) on {}", path.display()))(e.into()))?;
        Ok(RealFile {
            file,
            direct: None,
            remover: Arc::new(Remover(path)),
            geometry: geometry.clone(),
            span: span.max(1),
            errortag_dir: mount.errortag_dir(),
        })
    }

    /// [`RealFile::create`] with the scenario's geometry and span.
    pub fn for_scenario(mount: &XfsMount, scenario: &Scenario) -> Result<RealFile> {
        RealFile::create(mount, &scenario.geometry, scenario.span_bytes())
    }

    /// Another handle on the same file (a `dup`ed descriptor), for another thread.
    pub fn try_clone(&self) -> Result<RealFile> {
        Ok(RealFile {
            file: self.file.try_clone().map_err(io_err("duplicating the file descriptor"))?,
            direct: None,
            remover: Arc::clone(&self.remover),
            geometry: self.geometry.clone(),
            span: self.span,
            errortag_dir: self.errortag_dir.clone(),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.remover.0
    }

    /// The scenario geometry the file was made for.
    pub fn geometry(&self) -> &Geometry {
        &self.geometry
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }

    /// The file size (`fstat`'s `st_size`).
    pub fn size(&self) -> Result<u64> {
        let st = rustix::fs::fstat(self.fd()).map_err(|e| io_err("fstat")(e.into()))?;
        Ok(u64::try_from(st.st_size).unwrap_or(0))
    }

    /// Runs `op` as real system calls, with `state` the calling thread's own state.
    ///
    /// | op | system calls | `ret` |
    /// | --- | --- | --- |
    /// | `pwrite` | `pwrite(2)` of `length` bytes of `fill`, repeated from where a short return (without an error) stopped | bytes written, or `-errno` if the first call fails |
    /// | `pwrite` after `short_copy{bytes}` | one `pwrite(2)` from a buffer whose first `bytes` bytes are readable and whose rest is a `PROT_NONE` page, so the kernel's copy from user space faults after `bytes` bytes | what the kernel returns: the bytes it wrote, or `-EFAULT` (-14) if none |
    /// | `mmap_write` | a store of `fill` over the range into the thread's `MAP_SHARED` mapping, page by page through `process_vm_writev(2)`, stopping at the first page that fails (a page wholly beyond EOF: `EFAULT` where a CPU store would raise `SIGBUS`) | bytes stored inside EOF: `min(offset + stored, size) - offset`, `size` from `fstat` right after the store (a concurrent size change between the store and the `fstat` makes this approximate) |
    /// | `read` | one `pread(2)` | bytes read (`data` holds them) or `-errno` |
    /// | `read` with `direct` | one `pread(2)` into a 4096-byte aligned buffer on the handle's `O_DIRECT` descriptor (opened on first use) | as `read`; a misaligned offset or length gives `-EINVAL` (-22) |
    /// | `dio_write` | `pwrite(2)` of `length` bytes of `fill` from a 4096-byte aligned buffer on the handle's `O_DIRECT` descriptor, repeated from where a short return (without an error) stopped | as `pwrite`; a misaligned offset or length gives `-EINVAL` (-22) |
    /// | `writeback` | `sync_file_range(2)` with `WAIT_BEFORE \| WRITE \| WAIT_AFTER` over the range (whole file: offset 0, nbytes 0); with `error`: [`NotRunnable`] | 0 or `-errno` |
    /// | `reclaim` | `madvise(MADV_PAGEOUT)` over a shared mapping of the range, its resident pages faulted in first | 0 or `-errno` |
    /// | `fallocate` | `fallocate(2)`, mode 0 (extends the size), or `KEEP_SIZE` with `keep_size` | 0 or `-errno` |
    /// | `zero_range` | `fallocate(2)`, `ZERO_RANGE` (extends the size) | 0 or `-errno` |
    /// | `punch_hole` | `fallocate(2)`, `PUNCH_HOLE \| KEEP_SIZE` | 0 or `-errno` |
    /// | `clone_range` | `ioctl(FICLONERANGE)` with the file's own descriptor as source and destination (`src_offset = src`, `src_length = length`, `dest_offset = dst`); moves the size up to `dst + length` if that is beyond EOF | 0 or `-errno`: `-EINVAL` (-22) for ranges that are not block-aligned (a source range ending at EOF may end unaligned) or that overlap, `-EOPNOTSUPP` (-95) on an XFS without reflink |
    /// | `truncate` | `ftruncate(2)` | 0 or `-errno` |
    /// | `fsync` | `fsync(2)` | 0 or `-errno` |
    /// | `drop_caches` | writes `1` to `/proc/sys/vm/drop_caches` | 0 or `-errno` |
    /// | `errortag` | writes `value` to `/sys/fs/xfs/<dev>/errortag/<name>` | 0 or `-errno`; [`NotRunnable`] without `CONFIG_XFS_DEBUG` |
    /// | `short_copy` | none: arms the next `pwrite` of this thread | 0 |
    /// | `crash` | none: [`NotRunnable`] (no power failure on demand) | |
    ///
    /// Where the real call differs from what the model's op does:
    ///
    /// - **`reclaim`**: `madvise(MADV_PAGEOUT)` sends the folios it maps through the reclaim
    ///   path kswapd uses (`reclaim_pages` -> `shrink_folio_list`), which writes nothing for XFS
    ///   and evicts clean folios only, as the model's reclaim does. It differs from kswapd in
    ///   that a folio also mapped by another process or thread mapping is skipped, and a large
    ///   folio reaching outside the range may be skipped, where kswapd would unmap and evict it:
    ///   the real op may evict less, never more. `posix_fadvise(POSIX_FADV_DONTNEED)`, the
    ///   obvious stand-in, was tried first and rejected: it *starts* writeback of dirty pages
    ///   (`generic_fadvise` -> `__filemap_fdatawrite_range(WB_SYNC_NONE)`), so right after it
    ///   FIEMAP showed delalloc blocks as unwritten (I/O in flight) or written, at random.
    /// - **`drop_caches`**: machine-wide, and only the page cache (`1`, not `3`: dentries and
    ///   inodes do not matter here). It calls `invalidate_mapping_pages` on every inode, which
    ///   skips dirty, locked, mapped and writeback folios, like the model's clean-only drop. It
    ///   does not sync first.
    /// - **`mmap_write`** when `process_vm_writev` is refused (`EPERM`, `ENOSYS`): plain CPU
    ///   stores, only to pages that start below the EOF read with `fstat` just before; a
    ///   concurrent truncate below such a page between the check and the store raises `SIGBUS`
    ///   and kills the process.
    /// - **`pwrite` after `short_copy`**: the kernel (6.18, `iomap_write_iter`) retries a
    ///   short copy with the bytes it got, so the write returns exactly `bytes` (and the file
    ///   grows to `offset + bytes`), or `-EFAULT` for `bytes == 0`.
    /// - **`dio_write`**: the call returns when the I/O has completed, so its completion
    ///   (unwritten conversion, size update, page-cache invalidation) always runs before the
    ///   next op of the thread: one of the orders the model explores, where an AIO completion
    ///   could come later.
    /// - **folio sizes**: XFS picks its own folio sizes (it supports large folios); the
    ///   scenario's `folio_pages` cannot be imposed on the kernel.
    pub fn run_op(&mut self, op: &OpKind, state: &mut ThreadState) -> Result<OpResult, NotRunnable> {
        let len = match op {
            OpKind::Pwrite { length, .. }
            | OpKind::MmapWrite { length, .. }
            | OpKind::Read { length, .. }
            | OpKind::DioWrite { length, .. } => *length,
            _ => 0,
        };
        if len > MAX_OP_BYTES {
            return Err(NotRunnable(format!(
                "{} of {len} bytes: the harness buffers at most {MAX_OP_BYTES} bytes per op",
                op.name()
            )));
        }
        let fd = self.file.as_fd();
        Ok(match op {
            OpKind::Pwrite { offset, length, fill } => match state.short_copy.take() {
                Some(bytes) => ret_n(short_pwrite(fd, *offset, *length, *fill, bytes)),
                None => ret_n(pwrite_all(fd, *offset, *length, *fill)),
            },
            OpKind::MmapWrite { offset, length, fill } => ret_n(self.mmap_write(state, *offset, *length, *fill)),
            OpKind::Read { offset, length, direct: false } => {
                let Ok(len) = usize::try_from(*length) else { return Ok(ret_n(-i64::from(libc::EINVAL))) };
                let mut data = vec![0u8; len];
                pread_result(fd, &mut data, *offset)
            }
            OpKind::Read { offset, length, direct: true } => {
                direct_read(open_direct(&mut self.direct, &self.remover.0), *offset, *length)
            }
            OpKind::DioWrite { offset, length, fill } => {
                ret_n(dio_write(open_direct(&mut self.direct, &self.remover.0), *offset, *length, *fill))
            }
            OpKind::Writeback { error: Some(e), .. } => return Err(NotRunnable(writeback_error_why(e))),
            OpKind::Writeback { range, error: None } => {
                let (off, len) = range.unwrap_or((0, 0));
                ret_n(sys::sync_file_range_wait(fd, off, len).map_or_else(|e| neg_errno(&e), |()| 0))
            }
            OpKind::Reclaim { range } => {
                // kswapd's path (MADV_PAGEOUT: shrink_folio_list, no writeback), not fadvise,
                // which starts writeback of dirty pages first.
                let (off, len) = range.unwrap_or((0, self.span));
                ret_n(sys::pageout(fd, off, len).map_or_else(|e| neg_errno(&e), |()| 0))
            }
            OpKind::Fallocate { offset, length, keep_size } => {
                let mode = if *keep_size { FallocateFlags::KEEP_SIZE } else { FallocateFlags::empty() };
                ret_of(rustix::fs::fallocate(fd, mode, *offset, *length))
            }
            OpKind::ZeroRange { offset, length } => {
                ret_of(rustix::fs::fallocate(fd, FallocateFlags::ZERO_RANGE, *offset, *length))
            }
            OpKind::PunchHole { offset, length } => ret_of(rustix::fs::fallocate(
                fd,
                FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE,
                *offset,
                *length,
            )),
            OpKind::CloneRange { src, dst, length } => {
                ret_n(sys::clone_range(fd, *src, *dst, *length).map_or_else(|e| neg_errno(&e), |()| 0))
            }
            OpKind::Truncate { size } => ret_of(rustix::fs::ftruncate(fd, *size)),
            OpKind::Fsync => ret_of(rustix::fs::fsync(fd)),
            OpKind::DropCaches => {
                ret_n(fs::write("/proc/sys/vm/drop_caches", "1").map_or_else(|e| neg_errno(&e), |()| 0))
            }
            OpKind::Errortag { name, value } => {
                let path = errortag_path(self.errortag_dir.as_deref(), name)?;
                ret_n(fs::write(path, value.to_string()).map_or_else(|e| neg_errno(&e), |()| 0))
            }
            OpKind::ShortCopy { bytes } => {
                state.short_copy = Some(*bytes);
                ret_n(0)
            }
            OpKind::Crash => return Err(NotRunnable(CRASH_WHY.to_string())),
        })
    }

    /// `mmap_write`: see [`RealFile::run_op`].
    fn mmap_write(&self, state: &mut ThreadState, offset: u64, length: u64, fill: u8) -> i64 {
        let page = sys::page_size();
        let (Ok(start), Some(end)) = (usize::try_from(offset), offset.checked_add(length)) else {
            return -i64::from(libc::EINVAL);
        };
        let Ok(end) = usize::try_from(end) else { return -i64::from(libc::EINVAL) };
        if !matches!(state.mapping.as_ref(), Some(m) if m.len() >= end) {
            // The scenario's whole span, once; bigger only if an op reaches past it.
            let span = usize::try_from(self.span).unwrap_or(usize::MAX);
            let Some(len) = span.max(end).checked_next_multiple_of(page) else { return -i64::from(libc::EINVAL) };
            state.mapping = None;
            match FileMapping::new(self.fd(), len) {
                Ok(m) => state.mapping = Some(m),
                Err(e) => return neg_errno(&e),
            }
        }
        let Some(mapping) = state.mapping.as_ref() else { return -i64::from(libc::ENOMEM) };
        let src = vec![fill; page];
        let mut stored = 0usize;
        let mut pos = start;
        while pos < end {
            let chunk_end = end.min((pos / page + 1) * page);
            let n = chunk_end - pos;
            if !state.direct_stores {
                match mapping.store_via_kernel(pos, &src[..n]) {
                    Ok(k) => {
                        stored += k;
                        if k < n {
                            break;
                        }
                    }
                    Err(e) if matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::ENOSYS)) => {
                        state.direct_stores = true;
                        continue;
                    }
                    Err(_) => break,
                }
            } else {
                let Ok(size) = self.size() else { break };
                if (pos / page * page) as u64 >= size {
                    break;
                }
                #[allow(unsafe_code)]
                // SAFETY: the page starts below EOF as read just now (a truncate racing in between
                // would SIGBUS; documented on `run_op`); the range is inside the mapping.
                let r = unsafe { mapping.store_direct(pos, n, fill) };
                if r.is_err() {
                    break;
                }
                stored += n;
            }
            pos = chunk_end;
        }
        let size = self.size().unwrap_or(0);
        let inside = (offset + stored as u64).min(size.max(offset)) - offset;
        inside as i64
    }
}

/// Why a `crash` has no real counterpart.
const CRASH_WHY: &str = "crash: a power failure cannot be made on demand on the running kernel, so the \
                         crash view has no real counterpart";

/// Why a `writeback` with an injected error has no real counterpart.
fn writeback_error_why(errno: &str) -> String {
    format!(
        "writeback error {errno}: XFS reserves blocks when it creates delalloc, so a conversion at \
         writeback fails only in corner cases (metadata allocation, I/O errors), and this harness \
         knows no error tag that makes one conversion fail on demand"
    )
}

/// `<dir>/<name>` if this kernel has the error tag.
fn errortag_path(dir: Option<&Path>, name: &str) -> Result<PathBuf, NotRunnable> {
    let Some(dir) = dir else {
        return Err(NotRunnable(format!("errortag {name}: this kernel has no XFS error injection (CONFIG_XFS_DEBUG)")));
    };
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let path = dir.join(name);
    if !valid || !path.exists() {
        return Err(NotRunnable(format!("errortag {name}: this kernel's XFS has no such error tag")));
    }
    Ok(path)
}

/// The file size from which XFS's default dynamic speculative preallocation reserves blocks
/// beyond EOF (`XFS_DEFAULT_ALLOCSIZE_LOG`, 64 KiB, as `m_allocsize_blocks` in
/// `xfs_iomap_prealloc_size`).
pub const PREALLOC_MIN_FILE_BYTES: u64 = 64 * 1024;

/// Says, before running anything, whether every op of `scenario` has a real counterpart on this
/// kernel and `mount`: the scenario's page size must be the machine's, its block size the
/// mount's, each `errortag` must exist under `/sys/fs/xfs/<dev>/errortag/` (debug kernels
/// only), there may be no `crash` nor `writeback` with `error`, and no op may reach past
/// [`PREALLOC_MIN_FILE_BYTES`]. The error lists every problem, separated by `; `.
pub fn runnable(mount: &XfsMount, scenario: &Scenario) -> Result<(), String> {
    let mut problems: Vec<String> = Vec::new();
    let page = sys::page_size() as u64;
    if scenario.geometry.page_size != page {
        problems.push(format!("scenario page size {} but this machine's is {page}", scenario.geometry.page_size));
    }
    if scenario.geometry.block_size != mount.block_size() {
        problems.push(format!(
            "scenario block size {} but the mount has {}-byte blocks",
            scenario.geometry.block_size,
            mount.block_size()
        ));
    }
    // The mount has XFS's default (dynamic) speculative preallocation, which reserves nothing
    // beyond EOF while the file is smaller than 64 KiB (`xfs_iomap_prealloc_size`: "we don't do
    // any preallocation at all if the file is smaller than the minimum preallocation"); the
    // model has none, so it stands for files that stay under that size.
    let ops = || scenario.setup.iter().chain(scenario.threads.iter().flat_map(|t| t.ops.iter()));
    let end = ops().map(|op| op.kind.end()).max().unwrap_or(0);
    if end > PREALLOC_MIN_FILE_BYTES {
        problems.push(format!(
            "the file may grow to {end} bytes: XFS preallocates beyond EOF once a file reaches \
             {PREALLOC_MIN_FILE_BYTES} bytes, and the model has no speculative preallocation"
        ));
    }
    if scenario.geometry.zoned {
        problems.push(
            "zoned: zoned XFS needs a zoned block device (or mkfs.xfs -r zoned=1 on an xfsprogs that has it); \
             this machine's loop device and xfsprogs make neither"
                .to_string(),
        );
    }
    if scenario.geometry.always_cow {
        problems.push(
            "always_cow: an XFS debug knob (/sys/fs/xfs/debug/always_cow) that only CONFIG_XFS_DEBUG kernels have"
                .to_string(),
        );
    }
    let dir = mount.errortag_dir();
    let ops = ops();
    for op in ops {
        if let OpKind::Writeback { error: Some(e), .. } = &op.kind {
            let why = writeback_error_why(e);
            if !problems.contains(&why) {
                problems.push(why);
            }
        }
        if matches!(op.kind, OpKind::Crash) && !problems.iter().any(|p| p == CRASH_WHY) {
            problems.push(CRASH_WHY.to_string());
        }
        if let OpKind::Errortag { name, .. } = &op.kind {
            if let Err(e) = errortag_path(dir.as_deref(), name) {
                if !problems.contains(&e.0) {
                    problems.push(e.0);
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}
