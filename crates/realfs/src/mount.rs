//! A small XFS on a loop device, made for one run of the harness and torn down after it.
//!
//! [`XfsMount::create`] makes a sparse 300 MiB image in a temporary directory, formats it with
//! `mkfs.xfs -q -f -b size=N` and mounts it with `mount -o loop` (the `mount` command sets up
//! the loop device with autoclear, so unmounting also detaches it). The mount keeps XFS's
//! default dynamic speculative preallocation, which reserves nothing beyond EOF while a file is
//! smaller than 64 KiB ([`crate::PREALLOC_MIN_FILE_BYTES`]), so the extent map is what the ops
//! made. (`allocsize=4096` does not do that with blocks under 4 KiB: it rounds every EOF
//! reservation up to a 4 KiB boundary, `XFS_ALLOC_ALIGN` in `xfs_buffered_write_iomap_begin`.)
//!
//! # Cleanup
//!
//! Every created mount is recorded in a process-wide registry while it lives. Dropping the
//! [`XfsMount`] (normal return, `?` error, or a panic that unwinds) unmounts it (`umount`,
//! retried on `EBUSY`, and as a last resort `umount -l`), waits for the loop device to detach
//! (and runs `losetup -d` if it lingers) and deletes the temporary directory. For Ctrl-C and
//! `kill`, [`install_cleanup_on_signal`] installs a handler that does the same for every mount in
//! the registry and exits with status 130.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread::sleep;
use std::time::Duration;

use crate::{io_err, Error, Result};

/// Size of the sparse image: big enough for any scenario (files are at most 1 MiB) and for XFS's
/// minimum log, small enough to format in a fraction of a second.
pub const IMAGE_BYTES: u64 = 300 << 20;

/// `statfs` `f_type` of XFS (`XFS_SUPER_MAGIC`, "XFSB").
pub const XFS_SUPER_MAGIC: u64 = 0x5846_5342;

/// Something this machine lacks to run real scenarios; displays as one line saying what is
/// missing and how to get it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing(pub String);

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Missing {}

/// Checks, without changing anything, that real scenarios can run here: effective uid 0,
/// `/dev/loop-control`, `mkfs.xfs`, `mount`, `umount` and `losetup` on `PATH` (or in `/usr/sbin`,
/// `/sbin`), and XFS in the kernel (built in, loaded, or as a module `mount` can load).
/// Reports the first thing missing.
pub fn preflight() -> Result<(), Missing> {
    if !rustix::process::geteuid().is_root() {
        return Err(Missing("not root: mounting a loop device needs root (run as root, or with sudo)".into()));
    }
    if !Path::new("/dev/loop-control").exists() {
        return Err(Missing(
            "/dev/loop-control missing: load the loop driver (modprobe loop); in a container, run it --privileged"
                .into(),
        ));
    }
    for (tool, package) in [("mkfs.xfs", "xfsprogs"), ("mount", "mount"), ("umount", "mount"), ("losetup", "mount")] {
        if find_program(tool).is_none() {
            return Err(Missing(format!("{tool} not found: apt-get install -y {package}")));
        }
    }
    if !xfs_available() {
        return Err(Missing(
            "XFS not available: not in /proc/filesystems and no xfs kernel module (needs CONFIG_XFS_FS)".into(),
        ));
    }
    Ok(())
}

/// `name` on `PATH`, else in `/usr/sbin` or `/sbin` (often not on a user's `PATH`).
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// XFS is registered (`/proc/filesystems`) or can be loaded (a module under
/// `/lib/modules/$(uname -r)`).
fn xfs_available() -> bool {
    let registered = fs::read_to_string("/proc/filesystems")
        .map(|s| s.lines().any(|l| l.split_whitespace().last() == Some("xfs")))
        .unwrap_or(false);
    if registered {
        return true;
    }
    let release = rustix::system::uname().release().to_string_lossy().into_owned();
    let dir = Path::new("/lib/modules").join(release).join("kernel/fs/xfs");
    fs::read_dir(dir)
        .map(|mut d| d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("xfs.ko"))))
        .unwrap_or(false)
}

/// Runs a command, turning a non-zero exit into an [`Error::Command`] that shows the command
/// line and its stderr.
fn run(program: &Path, args: &[&std::ffi::OsStr]) -> Result<String> {
    let shown = || {
        let mut s = program.display().to_string();
        for a in args {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    };
    let out = Command::new(program).args(args).output().map_err(io_err(format!("running {}", shown())))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(Error::Command(format!(
            "{} failed ({}): {}",
            shown(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

fn program(name: &str) -> Result<PathBuf> {
    find_program(name).ok_or_else(|| Error::Missing(Missing(format!("{name} not found"))))
}

/// What cleanup needs to know about a created mount; shared by `Drop` and the signal handler.
#[derive(Clone, Debug)]
struct Entry {
    /// The temporary directory holding the image and the mount point.
    dir: PathBuf,
    image: PathBuf,
    mountpoint: PathBuf,
}

/// Mounts made by [`XfsMount::create`] that are still live, by id.
static LIVE: Mutex<BTreeMap<u64, Entry>> = Mutex::new(BTreeMap::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The registry, even if a panicking thread poisoned the lock (the map stays consistent: every
/// change is a single insert or remove).
fn live() -> MutexGuard<'static, BTreeMap<u64, Entry>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Installs a SIGINT / SIGTERM / SIGHUP handler (the `ctrlc` crate, on its own thread) that
/// unmounts every live [`XfsMount::create`] mount, detaches its loop device, deletes its image,
/// and exits the process with status 130.
///
/// Call it once, early; later calls are no-ops. It fails if another `ctrlc` handler is already
/// installed in the process. Without it, Ctrl-C kills the process without running `Drop`, and
/// the loop mounts stay until unmounted by hand.
///
/// Threads still inside a system call on the file keep the mount busy; the handler retries
/// `umount` for about a second and then detaches lazily (`umount -l`), which completes when the
/// process exits a moment later.
pub fn install_cleanup_on_signal() -> Result<()> {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    ctrlc::set_handler(|| {
        let mut live = live();
        for (_, entry) in std::mem::take(&mut *live) {
            if let Err(e) = cleanup(&entry) {
                tracing::warn!("iomc-realfs: cleanup of {}: {e}", entry.mountpoint.display());
            }
            let _ = fs::remove_dir_all(&entry.dir);
        }
        std::process::exit(130);
    })
    .map_err(|e| {
        INSTALLED.store(false, Ordering::SeqCst);
        Error::Invalid(format!("installing the signal handler: {e}"))
    })
}

/// The device (`/dev/loopN`) mounted at `mountpoint`, from `/proc/mounts`.
fn mounted_device(mountpoint: &Path) -> Option<String> {
    let mounts = fs::read_to_string("/proc/mounts").ok()?;
    mounts.lines().find_map(|line| {
        let mut fields = line.split(' ');
        let dev = fields.next()?;
        let at = unescape_mount_field(fields.next()?);
        (Path::new(&at) == mountpoint).then(|| dev.to_string())
    })
}

/// Undoes the octal escapes (`\040` for a space, ...) of `/proc/mounts` fields.
fn unescape_mount_field(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The backing file of loop device `dev` (`/dev/loopN`), if it is attached.
fn loop_backing_file(dev: &str) -> Option<PathBuf> {
    let name = dev.strip_prefix("/dev/")?;
    let s = fs::read_to_string(Path::new("/sys/block").join(name).join("loop/backing_file")).ok()?;
    Some(PathBuf::from(s.trim_end().trim_end_matches(" (deleted)")))
}

/// Unmounts `entry` if mounted and detaches every loop device still backed by its image.
/// Does not delete the directory (the caller owns it).
fn cleanup(entry: &Entry) -> Result<()> {
    let mut device = None;
    if let Some(dev) = mounted_device(&entry.mountpoint) {
        device = Some(dev);
        let umount = program("umount")?;
        let mut last = Ok(String::new());
        for attempt in 0..10 {
            if attempt > 0 {
                sleep(Duration::from_millis(100));
            }
            last = run(&umount, &[entry.mountpoint.as_os_str()]);
            if last.is_ok() || mounted_device(&entry.mountpoint).is_none() {
                break;
            }
        }
        if let Err(e) = last {
            if mounted_device(&entry.mountpoint).is_some() {
                run(&umount, &["-l".as_ref(), entry.mountpoint.as_os_str()])
                    .map_err(|e2| Error::Command(format!("{e}; then lazy unmount: {e2}")))?;
            }
        }
    }
    // With autoclear the loop device detaches when the unmount drops its last reference; give it
    // a moment, then detach by hand whatever is still backed by our image.
    let ours = |dev: &str| loop_backing_file(dev).is_some_and(|f| f == entry.image);
    if let Some(dev) = &device {
        for _ in 0..20 {
            if !ours(dev) {
                break;
            }
            sleep(Duration::from_millis(25));
        }
    }
    let losetup = program("losetup")?;
    let attached = run(&losetup, &["-j".as_ref(), entry.image.as_os_str()]).unwrap_or_default();
    for dev in attached.lines().filter_map(|l| l.split(':').next()).chain(device.as_deref()) {
        if ours(dev) {
            run(&losetup, &["-d".as_ref(), dev.as_ref()])?;
        }
    }
    Ok(())
}

/// An XFS mounted for the harness: either made by [`XfsMount::create`] (owned: torn down on
/// drop) or an existing mount ([`XfsMount::existing`], never unmounted by us).
#[derive(Debug)]
pub struct XfsMount {
    mountpoint: PathBuf,
    block_size: u64,
    device: Option<String>,
    /// Registry id and temporary directory of an owned mount.
    owned: Option<(u64, tempfile::TempDir)>,
    files: AtomicU64,
}

impl XfsMount {
    /// Makes and mounts a fresh XFS with `block_size`-byte blocks (1024, 2048, 4096, ...). See
    /// the module docs for the steps and the cleanup guarantee. Fails with [`Error::Missing`]
    /// when [`preflight`] fails.
    pub fn create(block_size: u64) -> Result<XfsMount> {
        preflight()?;
        if !block_size.is_power_of_two() || !(512..=65536).contains(&block_size) {
            return Err(Error::Invalid(format!("block size {block_size}: not a power of two in 512..=65536")));
        }
        let tmp = tempfile::Builder::new().prefix("iomc-realfs-").tempdir().map_err(io_err("creating a temp dir"))?;
        let dir = fs::canonicalize(tmp.path()).map_err(io_err("resolving the temp dir"))?;
        let image = dir.join("xfs.img");
        let mountpoint = dir.join("mnt");
        fs::create_dir(&mountpoint).map_err(io_err(format!("creating {}", mountpoint.display())))?;
        let f = fs::File::create(&image).map_err(io_err(format!("creating {}", image.display())))?;
        f.set_len(IMAGE_BYTES).map_err(io_err(format!("sizing {}", image.display())))?;
        drop(f);
        let bs = format!("size={block_size}");
        run(&program("mkfs.xfs")?, &["-q".as_ref(), "-f".as_ref(), "-b".as_ref(), bs.as_ref(), image.as_os_str()])?;

        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let entry = Entry { dir: dir.clone(), image: image.clone(), mountpoint: mountpoint.clone() };
        // Hold the registry across `mount`, so a signal handler never sees a mount it cannot
        // find in the registry.
        let mut reg = live();
        reg.insert(id, entry);
        let mounted = run(
            &program("mount")?,
            &["-t".as_ref(), "xfs".as_ref(), "-o".as_ref(), "loop".as_ref(), image.as_os_str(), mountpoint.as_os_str()],
        );
        drop(reg);
        let mount = XfsMount {
            device: mounted_device(&mountpoint),
            mountpoint,
            block_size,
            owned: Some((id, tmp)),
            files: AtomicU64::new(0),
        };
        // From here on, dropping `mount` cleans up whatever state we are in.
        mounted?;
        if mount.device.is_none() {
            return Err(Error::Command(format!(
                "mount succeeded but {} is not in /proc/mounts",
                mount.path().display()
            )));
        }
        check_xfs(&mount.mountpoint, block_size)?;
        Ok(mount)
    }

    /// Uses the XFS already mounted at `dir`, after checking with `statfs` that it is XFS
    /// (`f_type == XFS_SUPER_MAGIC`) with `block_size`-byte blocks. Never unmounted by us. Test
    /// files are still created and deleted in it.
    pub fn existing(dir: &Path, block_size: u64) -> Result<XfsMount> {
        let dir = fs::canonicalize(dir).map_err(io_err(format!("resolving {}", dir.display())))?;
        check_xfs(&dir, block_size)?;
        Ok(XfsMount {
            device: mounted_device(&dir),
            mountpoint: dir,
            block_size,
            owned: None,
            files: AtomicU64::new(0),
        })
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        &self.mountpoint
    }

    /// The file system block size.
    pub fn block_size(&self) -> u64 {
        self.block_size
    }

    /// The mounted device (`/dev/loopN`), from `/proc/mounts`.
    pub fn device(&self) -> Option<&str> {
        self.device.as_deref()
    }

    /// `/sys/fs/xfs/<dev>/errortag`, present only on kernels built with `CONFIG_XFS_DEBUG`.
    pub fn errortag_dir(&self) -> Option<PathBuf> {
        let name = self.device.as_deref()?.rsplit('/').next()?;
        let dir = Path::new("/sys/fs/xfs").join(name).join("errortag");
        dir.is_dir().then_some(dir)
    }

    /// A path for a new test file, unique within this process and mount.
    pub(crate) fn next_file_path(&self) -> PathBuf {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        self.mountpoint.join(format!("iomc-{}-{n}", std::process::id()))
    }

    /// Unmounts, detaches and deletes now (what `Drop` does), reporting failure. For an
    /// [`XfsMount::existing`] mount this does nothing.
    pub fn unmount(mut self) -> Result<()> {
        self.teardown()
    }

    fn teardown(&mut self) -> Result<()> {
        let Some((id, tmp)) = self.owned.take() else { return Ok(()) };
        let mut reg = live();
        let result = match reg.get(&id) {
            Some(entry) => cleanup(entry),
            None => Ok(()),
        };
        reg.remove(&id);
        drop(reg);
        match result {
            // Only delete the image once nothing uses it.
            Ok(()) => tmp.close().map_err(io_err("removing the temp dir")),
            Err(e) => {
                // Keep the directory: deleting a mounted image's directory would hide the mount.
                let _ = tmp.keep();
                Err(e)
            }
        }
    }
}

impl Drop for XfsMount {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            tracing::warn!("iomc-realfs: cleanup of {}: {e}", self.mountpoint.display());
        }
    }
}

/// Checks that `dir` is an XFS with `block_size`-byte blocks.
fn check_xfs(dir: &Path, block_size: u64) -> Result<()> {
    let st = rustix::fs::statfs(dir).map_err(|e| io_err(format!("statfs {}", dir.display()))(e.into()))?;
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    let (ftype, bsize) = (st.f_type as u64, st.f_bsize as u64);
    if ftype != XFS_SUPER_MAGIC {
        return Err(Error::Invalid(format!("{} is not XFS (f_type {ftype:#x})", dir.display())));
    }
    if bsize != block_size {
        return Err(Error::Invalid(format!("{} has {bsize}-byte blocks, not {block_size}", dir.display())));
    }
    Ok(())
}
