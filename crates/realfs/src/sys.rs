//! Every `unsafe` block of the crate: thin, documented wrappers over the system calls that
//! `rustix` does not cover or that hand raw addresses to the kernel.
//!
//! The rest of the crate is safe code. Each wrapper states what the kernel does with the
//! addresses it gets; the kernel validates user addresses itself (an unmapped or `PROT_NONE`
//! address makes the call fail with `EFAULT`, it never faults the caller), so handing it a range
//! that is partly unreadable is memory-safe for *us*: the hazards are only in our own loads and
//! stores, and this module never creates a Rust reference into a mapping.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;

use rustix::mm::{MapFlags, MprotectFlags, ProtFlags};

/// The machine's page size in bytes.
pub fn page_size() -> usize {
    rustix::param::page_size()
}

fn last_errno() -> io::Error {
    io::Error::last_os_error()
}

/// `pwrite(2)` from a raw user address: the kernel copies `len` bytes starting at `ptr`.
///
/// Used for the short-copy buffer, whose tail is a `PROT_NONE` guard page: a `&[u8]` over it
/// would promise readable memory, which it is not, so the buffer is passed as an address.
pub fn pwrite_raw(fd: BorrowedFd<'_>, ptr: *const u8, len: usize, offset: u64) -> io::Result<usize> {
    let off = libc::off_t::try_from(offset).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: pwrite only reads `[ptr, ptr + len)` from inside the kernel with copy_from_user,
    // which returns EFAULT for unmapped or unreadable pages instead of faulting the process; it
    // never writes our memory. `fd` is a live descriptor borrowed for the call.
    let n = unsafe { libc::pwrite(fd.as_raw_fd(), ptr.cast::<c_void>(), len, off) };
    if n < 0 {
        Err(last_errno())
    } else {
        Ok(n as usize)
    }
}

/// `sync_file_range(2)` with `WAIT_BEFORE | WRITE | WAIT_AFTER`: start writeback of every dirty
/// page in `[offset, offset + nbytes)` (`nbytes == 0`: to the end of the file) and wait for it.
pub fn sync_file_range_wait(fd: BorrowedFd<'_>, offset: u64, nbytes: u64) -> io::Result<()> {
    let inval = || io::Error::from_raw_os_error(libc::EINVAL);
    let off = libc::off64_t::try_from(offset).map_err(|_| inval())?;
    let len = libc::off64_t::try_from(nbytes).map_err(|_| inval())?;
    let flags = libc::SYNC_FILE_RANGE_WAIT_BEFORE | libc::SYNC_FILE_RANGE_WRITE | libc::SYNC_FILE_RANGE_WAIT_AFTER;
    // SAFETY: sync_file_range takes no pointers; `fd` is a live descriptor borrowed for the call.
    let r = unsafe { libc::sync_file_range(fd.as_raw_fd(), off, len, flags) };
    if r < 0 {
        Err(last_errno())
    } else {
        Ok(())
    }
}

// `FICLONERANGE` = `_IOW(0x94, 13, struct file_clone_range)` (taken from libc): with the generic
// ioctl encoding, direction write (1) in bits 30-31, the size of the 32-byte struct in bits
// 16-29, type 0x94 in bits 8-15, number 13.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
const _: () = assert!(libc::FICLONERANGE == 0x4020_940d);
const _: () = assert!(std::mem::size_of::<libc::file_clone_range>() == 32);

/// `ioctl(fd, FICLONERANGE)` from `fd` to itself: share the blocks of `[src, src + length)` at
/// `[dst, dst + length)` of the same file (reflink; `length == 0` means "to the source's EOF").
/// The kernel checks the ranges itself (block alignment, no overlap within one file, reflink
/// support) and answers `EINVAL`, `EOPNOTSUPP`, ... otherwise.
pub fn clone_range(fd: BorrowedFd<'_>, src: u64, dst: u64, length: u64) -> io::Result<()> {
    let arg = libc::file_clone_range {
        src_fd: i64::from(fd.as_raw_fd()),
        src_offset: src,
        src_length: length,
        dest_offset: dst,
    };
    // SAFETY: FICLONERANGE only reads the `struct file_clone_range` (copy_from_user of 32 bytes),
    // which `arg` is (layout from libc, size checked above) and which lives across the call; it
    // writes no user memory. `fd` is a live descriptor borrowed for the call, and `src_fd` is the
    // same descriptor.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::FICLONERANGE, &arg as *const libc::file_clone_range) };
    if r < 0 {
        Err(last_errno())
    } else {
        Ok(())
    }
}

/// An anonymous read-write region followed by one `PROT_NONE` guard page.
///
/// [`GuardedBuf::short_source`] returns an address from which exactly `bytes` bytes are readable
/// before the guard page: a `pwrite` from it copies `bytes` bytes and then takes `EFAULT`, which
/// is the kernel's own short-copy path (`copy_folio_from_iter_atomic` returning less than asked).
pub struct GuardedBuf {
    base: NonNull<c_void>,
    data_len: usize,
    total_len: usize,
}

impl GuardedBuf {
    /// Maps enough data pages for `bytes` bytes (at least one) plus the guard page, and fills the
    /// last `bytes` bytes before the guard with `fill`.
    pub fn new(bytes: usize, fill: u8) -> io::Result<GuardedBuf> {
        let page = page_size();
        let data_len = bytes.div_ceil(page).max(1) * page;
        let total_len = data_len + page;
        // SAFETY: an anonymous private mapping at an address the kernel chooses aliases no
        // existing Rust object; it is unmapped exactly once, in Drop.
        let base = unsafe {
            rustix::mm::mmap_anonymous(
                std::ptr::null_mut(),
                total_len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE,
            )
        }?;
        let base = NonNull::new(base).ok_or_else(|| io::Error::from_raw_os_error(libc::ENOMEM))?;
        let buf = GuardedBuf { base, data_len, total_len };
        // SAFETY: `[base + data_len, base + total_len)` is the last page of the mapping we own.
        let guard = unsafe { buf.base.as_ptr().cast::<u8>().add(data_len) };
        // SAFETY: the guard page lies inside our own mapping; no Rust reference points into it.
        unsafe { rustix::mm::mprotect(guard.cast::<c_void>(), page, MprotectFlags::empty()) }?;
        // SAFETY: `data_len >= bytes`, so `[guard - bytes, guard)` lies in the read-write data
        // pages of our own mapping, which no other code can see yet.
        let start = unsafe { guard.sub(bytes) };
        // SAFETY: `start..start + bytes` is writable memory of our mapping (see above).
        unsafe { std::ptr::write_bytes(start, fill, bytes) };
        Ok(buf)
    }

    /// The address `bytes` bytes before the guard page (`bytes` as given to [`GuardedBuf::new`]
    /// or less).
    pub fn short_source(&self, bytes: usize) -> *const u8 {
        let bytes = bytes.min(self.data_len);
        // SAFETY: `data_len - bytes` is within the mapping, so the result stays in bounds.
        unsafe { self.base.as_ptr().cast::<u8>().add(self.data_len - bytes) }
    }
}

impl Drop for GuardedBuf {
    fn drop(&mut self) {
        // SAFETY: `base`/`total_len` are exactly the mapping made in `new`; no reference into it
        // outlives `self`. An error (impossible for a valid mapping) would only leak it.
        let _ = unsafe { rustix::mm::munmap(self.base.as_ptr(), self.total_len) };
    }
}

/// A `MAP_SHARED`, read-write mapping of a file, like the vma a process gets from `mmap(2)`.
///
/// Stores go through [`FileMapping::store_via_kernel`] (the kernel takes the write fault, and
/// answers `EFAULT` where a user store would get `SIGBUS`) or, if that is not permitted,
/// [`FileMapping::store_direct`]. No Rust reference into the mapping is ever created: other
/// threads and the kernel change the pages underneath at any time.
pub struct FileMapping {
    base: NonNull<c_void>,
    len: usize,
}

// SAFETY: a mapping belongs to the process, not to a thread: any thread may store through it
// or unmap it. `FileMapping` hands out no references, so moving it between threads cannot
// create aliasing; it is not `Sync` (its methods are not meant to race with its own Drop).
unsafe impl Send for FileMapping {}

impl FileMapping {
    /// Maps `[0, len)` of `fd` shared and read-write. The range may extend beyond EOF (`mmap`
    /// does not check the size; only a later access to a page beyond EOF fails).
    pub fn new(fd: BorrowedFd<'_>, len: usize) -> io::Result<FileMapping> {
        if len == 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        // SAFETY: a new shared mapping at a kernel-chosen address aliases no Rust object; it is
        // unmapped exactly once, in Drop; we never form references into it.
        let base = unsafe {
            rustix::mm::mmap(std::ptr::null_mut(), len, ProtFlags::READ | ProtFlags::WRITE, MapFlags::SHARED, fd, 0)
        }?;
        let base = NonNull::new(base).ok_or_else(|| io::Error::from_raw_os_error(libc::ENOMEM))?;
        let mapping = FileMapping { base, len };
        // No fault read-around (VM_RAND_READ): a fault reads only the faulted page, as in the
        // model (see `RealFile::create` for why).
        // SAFETY: advice on exactly the mapping just made; MADV_RANDOM changes no memory.
        unsafe { rustix::mm::madvise(base.as_ptr(), len, rustix::mm::Advice::Random) }?;
        Ok(mapping)
    }

    /// Length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether `[offset, offset + len)` lies inside the mapping.
    fn contains(&self, offset: usize, len: usize) -> bool {
        matches!(offset.checked_add(len), Some(end) if end <= self.len)
    }

    /// Stores `src` at `offset` into the mapping with `process_vm_writev(2)` to our own pid.
    ///
    /// The kernel resolves the destination with `get_user_pages` and `FOLL_WRITE`, which takes
    /// the same write fault a CPU store would (`filemap_fault`, then `->page_mkwrite`, i.e.
    /// `iomap_page_mkwrite` on XFS); a page wholly beyond EOF fails that fault and the call
    /// returns `EFAULT` (or a short count) instead of raising `SIGBUS`. Returns the bytes stored.
    pub fn store_via_kernel(&self, offset: usize, src: &[u8]) -> io::Result<usize> {
        if !self.contains(offset, src.len()) {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let local = libc::iovec { iov_base: src.as_ptr().cast_mut().cast::<c_void>(), iov_len: src.len() };
        // SAFETY: `offset + src.len() <= len`, so the address stays inside the mapping.
        let dst = unsafe { self.base.as_ptr().cast::<u8>().add(offset) };
        let remote = libc::iovec { iov_base: dst.cast::<c_void>(), iov_len: src.len() };
        let pid = rustix::process::getpid().as_raw_nonzero().get();
        // SAFETY: the kernel reads `src` (a live slice) and writes `[dst, dst + len)`, which is
        // inside our shared mapping, of which no Rust reference exists; iovec arrays of length 1
        // live on the stack for the call.
        let n = unsafe { libc::process_vm_writev(pid, &local, 1, &remote, 1, 0) };
        if n < 0 {
            Err(last_errno())
        } else {
            Ok(n as usize)
        }
    }

    /// Stores `len` bytes of `fill` at `offset` with ordinary CPU stores.
    ///
    /// # Safety
    ///
    /// Every page touched must lie inside EOF for the whole store: a store to a page beyond EOF
    /// raises `SIGBUS` and kills the process. (A concurrent truncate can move EOF under us; the
    /// caller accepts that risk, see `ops.rs`.)
    pub unsafe fn store_direct(&self, offset: usize, len: usize, fill: u8) -> io::Result<()> {
        if !self.contains(offset, len) {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let dst = self.base.as_ptr().cast::<u8>().wrapping_add(offset);
        // SAFETY: in bounds (checked above); the mapping is read-write and shared memory that we
        // never reference; the caller guarantees every page is inside EOF, so no SIGBUS.
        unsafe { std::ptr::write_bytes(dst, fill, len) };
        Ok(())
    }
}

impl Drop for FileMapping {
    fn drop(&mut self) {
        // SAFETY: exactly the mapping made in `new`, never referenced outside `self`.
        let _ = unsafe { rustix::mm::munmap(self.base.as_ptr(), self.len) };
    }
}

/// Number of pages of `[0, len)` of `fd` resident in the page cache, from `mincore(2)` on a
/// fresh read-only shared mapping (for a file mapping, `mincore` looks the pages up in the
/// page cache, whether or not this mapping has touched them).
pub fn resident_pages(fd: BorrowedFd<'_>, len: usize) -> io::Result<usize> {
    if len == 0 {
        return Ok(0);
    }
    let page = page_size();
    let pages = len.div_ceil(page);
    // SAFETY: a new read-only shared mapping at a kernel-chosen address aliases no Rust object;
    // it is unmapped below on every path and never read.
    let base = unsafe { rustix::mm::mmap(std::ptr::null_mut(), len, ProtFlags::READ, MapFlags::SHARED, fd, 0) }?;
    let mut vec = vec![0u8; pages];
    // SAFETY: `base..base+len` is the mapping just made; `vec` has one byte per page, as
    // mincore requires, and lives across the call.
    let r = unsafe { libc::mincore(base, len, vec.as_mut_ptr()) };
    let err = (r < 0).then(last_errno);
    // SAFETY: exactly the mapping made above; nothing refers into it.
    let _ = unsafe { rustix::mm::munmap(base, len) };
    match err {
        Some(e) => Err(e),
        None => Ok(vec.iter().filter(|&&b| b & 1 != 0).count()),
    }
}

/// One extent as `FS_IOC_FIEMAP` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extent {
    /// File offset of the extent's first byte.
    pub logical: u64,
    /// Length in bytes.
    pub length: u64,
    /// `FIEMAP_EXTENT_*` flags.
    pub flags: u32,
}

/// Last extent of the file.
pub const FIEMAP_EXTENT_LAST: u32 = 0x1;
/// Reserved, not yet allocated (delayed allocation); always comes with `UNKNOWN` (0x2).
pub const FIEMAP_EXTENT_DELALLOC: u32 = 0x4;
/// Allocated, reads as zeroes.
pub const FIEMAP_EXTENT_UNWRITTEN: u32 = 0x800;

/// `struct fiemap_extent` from `<linux/fiemap.h>`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct FiemapExtent {
    fe_logical: u64,
    fe_physical: u64,
    fe_length: u64,
    fe_reserved64: [u64; 2],
    fe_flags: u32,
    fe_reserved: [u32; 3],
}

/// Extents asked for per ioctl; more are fetched by calling again from the last one's end.
const FIEMAP_BATCH: usize = 64;

/// `struct fiemap` followed by its flexible array of `FIEMAP_BATCH` extents.
#[repr(C)]
struct FiemapRequest {
    fm_start: u64,
    fm_length: u64,
    fm_flags: u32,
    fm_mapped_extents: u32,
    fm_extent_count: u32,
    fm_reserved: u32,
    fm_extents: [FiemapExtent; FIEMAP_BATCH],
}

const _: () = assert!(std::mem::size_of::<FiemapExtent>() == 56);
const _: () = assert!(std::mem::size_of::<FiemapRequest>() == 32 + 56 * FIEMAP_BATCH);

/// `FS_IOC_FIEMAP` = `_IOWR('f', 11, struct fiemap)`: direction read|write (3) in bits 30-31, the
/// size of the 32-byte `struct fiemap` header in bits 16-29, type `'f'` in bits 8-15, number 11.
const FS_IOC_FIEMAP: libc::c_ulong = (3 << 30) | (32 << 16) | ((b'f' as libc::c_ulong) << 8) | 11;

/// The extents of `fd` that overlap `[start, start + len)`, in file order, from `FS_IOC_FIEMAP`
/// with flags 0 (no `FIEMAP_FLAG_SYNC`: delalloc stays visible as `FIEMAP_EXTENT_DELALLOC`).
/// Loops, `FIEMAP_BATCH` extents at a time, until the range is covered or the last extent seen.
pub fn fiemap(fd: BorrowedFd<'_>, start: u64, len: u64) -> io::Result<Vec<Extent>> {
    let end = start.saturating_add(len);
    let mut out = Vec::new();
    let mut pos = start;
    while pos < end {
        let mut req = Box::new(FiemapRequest {
            fm_start: pos,
            fm_length: end - pos,
            fm_flags: 0,
            fm_mapped_extents: 0,
            fm_extent_count: FIEMAP_BATCH as u32,
            fm_reserved: 0,
            fm_extents: [FiemapExtent::default(); FIEMAP_BATCH],
        });
        // SAFETY: `req` is a properly laid out `struct fiemap` with room for `fm_extent_count`
        // extents; the kernel writes at most that many and the header, all inside the box.
        let r = unsafe { libc::ioctl(fd.as_raw_fd(), FS_IOC_FIEMAP as _, &mut *req as *mut FiemapRequest) };
        if r < 0 {
            return Err(last_errno());
        }
        let mapped = (req.fm_mapped_extents as usize).min(FIEMAP_BATCH);
        if mapped == 0 {
            break;
        }
        let mut last = false;
        for e in &req.fm_extents[..mapped] {
            out.push(Extent { logical: e.fe_logical, length: e.fe_length, flags: e.fe_flags });
            last |= e.fe_flags & FIEMAP_EXTENT_LAST != 0;
        }
        let tail = req.fm_extents[mapped - 1];
        let next = tail.fe_logical.saturating_add(tail.fe_length);
        if last || next <= pos {
            break;
        }
        pos = next;
    }
    Ok(out)
}

/// Reclaim as kswapd does it, for the file pages of `[offset, offset + len)` that are resident:
/// map the range shared and read-only, fault in (map) each resident page, then
/// `madvise(MADV_PAGEOUT)`, which hands the mapped folios to the reclaim path
/// (`reclaim_pages` → `shrink_folio_list`). That path writes nothing for XFS (no
/// `->writepage`): dirty folios and folios under writeback stay, clean unlocked ones are
/// unmapped and evicted, a folio mapped elsewhere too is skipped. Unlike
/// `posix_fadvise(POSIX_FADV_DONTNEED)`, it starts no writeback.
///
/// Pages are touched with `process_vm_readv` to our own pid, so a page that a concurrent
/// truncate moved beyond EOF gives `EFAULT` (skipped) instead of `SIGBUS`. `offset` is rounded
/// down and the end up to pages.
pub fn pageout(fd: BorrowedFd<'_>, offset: u64, len: u64) -> io::Result<()> {
    let page = page_size() as u64;
    let start = offset / page * page;
    let end = offset.saturating_add(len).div_ceil(page) * page;
    let Ok(map_len) = usize::try_from(end - start) else {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    };
    if map_len == 0 {
        return Ok(());
    }
    let Ok(map_off) = i64::try_from(start) else {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    };
    // SAFETY: a new read-only shared mapping at a kernel-chosen address aliases no Rust object;
    // it is unmapped below on every path; no Rust reference into it is formed.
    let base = unsafe {
        libc::mmap(std::ptr::null_mut(), map_len, libc::PROT_READ, libc::MAP_SHARED, fd.as_raw_fd(), map_off)
    };
    if base == libc::MAP_FAILED {
        return Err(last_errno());
    }
    let pages = map_len / page as usize;
    let mut resident = vec![0u8; pages];
    // SAFETY: `base..base+map_len` is the mapping just made; `resident` has one byte per page
    // and lives across the call.
    let mut r = unsafe { libc::mincore(base, map_len, resident.as_mut_ptr()) };
    if r == 0 {
        // SAFETY: advice on exactly the mapping made above; MADV_RANDOM changes no memory.
        // Touching resident pages must not start read-around (see `RealFile::create`).
        r = unsafe { libc::madvise(base, map_len, libc::MADV_RANDOM) };
    }
    if r == 0 {
        let pid = rustix::process::getpid().as_raw_nonzero().get();
        let mut byte = 0u8;
        for (i, _) in resident.iter().enumerate().filter(|(_, b)| **b & 1 != 0) {
            let local = libc::iovec { iov_base: std::ptr::addr_of_mut!(byte).cast::<c_void>(), iov_len: 1 };
            let remote = libc::iovec {
                iov_base: base.cast::<u8>().wrapping_add(i * page as usize).cast::<c_void>(),
                iov_len: 1,
            };
            // SAFETY: the kernel reads one byte of our own mapping (inside `[base, base +
            // map_len)`) into `byte`, a live local; a page beyond EOF gives EFAULT, which we
            // ignore (nothing to evict there).
            let _ = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
        }
        // SAFETY: advice on exactly the mapping made above; MADV_PAGEOUT changes no memory we
        // reference (a later access would fault the page back in).
        r = unsafe { libc::madvise(base, map_len, libc::MADV_PAGEOUT) };
    }
    let err = (r < 0).then(last_errno);
    // SAFETY: exactly the mapping made above; nothing refers into it.
    let _ = unsafe { libc::munmap(base, map_len) };
    err.map_or(Ok(()), Err)
}
