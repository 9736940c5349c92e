//! The byte-moving system calls behind [`crate::ops`]: pwrite/pread loops, O_DIRECT with an
//! aligned buffer, and a write that stops short after a given number of bytes.

use std::fs;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

use iomc_scenario::observe::OpResult;
use rustix::fs::{Mode, OFlags};

use crate::ops::{neg_errno, ret_n, DIO_BUF_ALIGN};
use crate::sys::{self, GuardedBuf};

/// The handle's `O_DIRECT` descriptor on the file at `path` (`O_RDWR | O_DIRECT`), opened into
/// `slot` on first use.
pub(crate) fn open_direct<'a>(slot: &'a mut Option<fs::File>, path: &Path) -> std::io::Result<BorrowedFd<'a>> {
    if slot.is_none() {
        let flags = OFlags::RDWR | OFlags::DIRECT | OFlags::CLOEXEC;
        *slot = Some(fs::File::from(rustix::fs::open(path, flags, Mode::empty())?));
    }
    let slot: &'a Option<fs::File> = slot;
    match slot {
        Some(f) => Ok(f.as_fd()),
        None => Err(std::io::Error::from_raw_os_error(libc::EBADF)),
    }
}

/// `read` with `direct`: one `pread(2)` of `length` bytes at `offset` on the `O_DIRECT`
/// descriptor `fd`, into a [`DIO_BUF_ALIGN`]-aligned buffer; the bytes read are returned as a
/// buffered `read` returns them.
pub(crate) fn direct_read(fd: std::io::Result<BorrowedFd<'_>>, offset: u64, length: u64) -> OpResult {
    let fd = match fd {
        Ok(fd) => fd,
        Err(e) => return ret_n(neg_errno(&e)),
    };
    let Ok(len) = usize::try_from(length) else { return ret_n(-i64::from(libc::EINVAL)) };
    let Some(mut buf) = AlignedBuf::new(len, 0) else { return ret_n(-i64::from(libc::ENOMEM)) };
    pread_result(fd, buf.as_mut_slice(), offset)
}

/// `dio_write`: `length` bytes of `fill` at `offset` on the `O_DIRECT` descriptor `fd`, from a
/// [`DIO_BUF_ALIGN`]-aligned buffer, continuing after short returns as [`pwrite_all`] does.
pub(crate) fn dio_write(fd: std::io::Result<BorrowedFd<'_>>, offset: u64, length: u64, fill: u8) -> i64 {
    let fd = match fd {
        Ok(fd) => fd,
        Err(e) => return neg_errno(&e),
    };
    let Ok(len) = usize::try_from(length) else { return -i64::from(libc::EINVAL) };
    let Some(mut buf) = AlignedBuf::new(len, fill) else { return -i64::from(libc::ENOMEM) };
    pwrite_buf(fd, buf.as_mut_slice(), offset)
}

/// `pwrite(2)` of `length` bytes of `fill`, continuing after short returns; returns the total,
/// or `-errno` if the first call fails (an error after some progress ends the loop and the
/// progress is reported, as `write(2)` does).
pub(crate) fn pwrite_all(fd: BorrowedFd<'_>, offset: u64, length: u64, fill: u8) -> i64 {
    let Ok(len) = usize::try_from(length) else { return -i64::from(libc::EINVAL) };
    pwrite_buf(fd, &vec![fill; len], offset)
}

/// `pwrite(2)` of all of `buf` at `offset`, continuing after short returns (see [`pwrite_all`]).
pub(crate) fn pwrite_buf(fd: BorrowedFd<'_>, buf: &[u8], offset: u64) -> i64 {
    let len = buf.len();
    let mut done = 0usize;
    while done < len {
        match rustix::io::pwrite(fd, &buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) if done == 0 => return -i64::from(e.raw_os_error()),
            Err(_) => break,
        }
    }
    done as i64
}

/// One `pread(2)` into `buf` at `offset`: the bytes read (also as `ret`), or `-errno`.
pub(crate) fn pread_result(fd: BorrowedFd<'_>, buf: &mut [u8], offset: u64) -> OpResult {
    match rustix::io::pread(fd, &mut *buf, offset) {
        Ok(n) => OpResult { ret: n as i64, data: buf[..n].to_vec() },
        Err(e) => ret_n(-i64::from(e.raw_os_error())),
    }
}

/// A buffer for O_DIRECT: `len` bytes starting at a [`DIO_BUF_ALIGN`]-aligned address, carved
/// out of a `Vec` over-allocated by the alignment (safe code: the `Vec` never reallocates, so
/// the aligned start stays put).
pub(crate) struct AlignedBuf {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    /// `len` bytes of `fill`, aligned; `None` if the size overflows.
    pub(crate) fn new(len: usize, fill: u8) -> Option<AlignedBuf> {
        let mut storage = vec![0u8; len.checked_add(DIO_BUF_ALIGN)?];
        let addr = storage.as_ptr() as usize;
        let start = addr.checked_next_multiple_of(DIO_BUF_ALIGN)? - addr;
        storage[start..start + len].fill(fill);
        Some(AlignedBuf { storage, start, len })
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

/// One `pwrite(2)` of `length` bytes whose source runs into a `PROT_NONE` page after `bytes`
/// bytes (all of it readable if `bytes >= length`). Returns the kernel's answer as is.
pub(crate) fn short_pwrite(fd: BorrowedFd<'_>, offset: u64, length: u64, fill: u8, bytes: u64) -> i64 {
    let (Ok(len), Ok(bytes)) = (usize::try_from(length), usize::try_from(bytes.min(length))) else {
        return -i64::from(libc::EINVAL);
    };
    let buf = match GuardedBuf::new(bytes, fill) {
        Ok(b) => b,
        Err(e) => return neg_errno(&e),
    };
    match sys::pwrite_raw(fd, buf.short_source(bytes), len, offset) {
        Ok(n) => n as i64,
        Err(e) => neg_errno(&e),
    }
}
