//! Real-kernel tests: they mount small XFS images on loop devices, so they need root,
//! `/dev/loop-control`, xfsprogs and XFS. Without those they print `skipped: <why>` and pass,
//! except under `CI=true`, where a skip is a failure.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use iomc_realfs::{
    preflight, run_sequential, run_threads, BlockState, OpResult, RealFile, Snapshot, ThreadState, XfsMount,
};
use iomc_scenario::{Geometry, OpKind, Scenario};

/// A fresh mount, or `None` (after printing why) when this machine cannot make one.
fn mount_or_skip(block_size: u64) -> Option<XfsMount> {
    if let Err(why) = preflight() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("real-kernel test cannot run under CI=true: {why}");
        }
        println!("skipped: {why}");
        return None;
    }
    Some(XfsMount::create(block_size).expect("creating an XFS loop mount"))
}

fn geometry(block_size: u64) -> Geometry {
    Geometry { block_size, page_size: 4096, folio_pages: vec![1], always_cow: false, zoned: false }
}

fn is_mounted(mountpoint: &Path) -> bool {
    let mounts = fs::read_to_string("/proc/mounts").unwrap();
    mounts.lines().any(|l| l.split(' ').nth(1).map(Path::new) == Some(mountpoint))
}

fn backing_file(dev: &str) -> Option<PathBuf> {
    let name = dev.strip_prefix("/dev/")?;
    let s = fs::read_to_string(format!("/sys/block/{name}/loop/backing_file")).ok()?;
    Some(PathBuf::from(s.trim_end()))
}

fn run(file: &mut RealFile, state: &mut ThreadState, op: OpKind) -> OpResult {
    file.run_op(&op, state).expect("op runs on this kernel")
}

fn map(s: &Snapshot) -> String {
    BlockState::map(&s.blocks)
}

#[test]
fn mount_and_unmount_leave_no_loop_mount() {
    let Some(m) = mount_or_skip(1024) else { return };
    let mountpoint = m.path().to_path_buf();
    let dir = mountpoint.parent().unwrap().to_path_buf();
    let dev = m.device().expect("a loop device").to_string();
    let image = dir.join("xfs.img");
    assert!(is_mounted(&mountpoint));
    assert_eq!(backing_file(&dev).as_deref(), Some(image.as_path()));
    m.unmount().expect("clean unmount");
    assert!(!is_mounted(&mountpoint), "{} still mounted", mountpoint.display());
    // The device may already serve another test's image, but not ours.
    assert!(!backing_file(&dev).is_some_and(|f| f.starts_with(&dir)), "{dev} still backed by our image");
    assert!(!dir.exists(), "temp dir {} left behind", dir.display());
}

#[test]
fn panic_while_mounted_still_unmounts() {
    if mount_or_skip(4096).is_none() {
        return;
    }
    let mut seen: Option<PathBuf> = None;
    let r = catch_unwind(AssertUnwindSafe(|| {
        let m = XfsMount::create(4096).unwrap();
        seen = Some(m.path().to_path_buf());
        panic!("boom while mounted");
    }));
    assert!(r.is_err());
    let mountpoint = seen.expect("the mount was made");
    assert!(!is_mounted(&mountpoint), "{} still mounted after unwinding", mountpoint.display());
}

#[test]
fn pwrite_read_and_extent_states() {
    let Some(m) = mount_or_skip(1024) else { return };
    let mut f = RealFile::create(&m, &geometry(1024), 16384).unwrap();
    let mut st = ThreadState::new();

    let w = run(&mut f, &mut st, OpKind::Pwrite { offset: 0, length: 4096, fill: 0x41 });
    assert_eq!(w.ret, 4096);
    let s = f.snapshot().unwrap();
    assert_eq!((s.size, map(&s).as_str()), (4096, "dddd"), "after pwrite");

    let r = run(&mut f, &mut st, OpKind::Read { offset: 0, length: 8192, direct: false });
    assert_eq!(r.ret, 4096);
    assert_eq!(r.data, vec![0x41; 4096]);

    assert_eq!(run(&mut f, &mut st, OpKind::Writeback { range: None, error: None }).ret, 0);
    assert_eq!(map(&f.snapshot().unwrap()), "WWWW", "after writeback");

    assert_eq!(run(&mut f, &mut st, OpKind::Fallocate { offset: 8192, length: 4096, keep_size: false }).ret, 0);
    let s = f.snapshot().unwrap();
    assert_eq!((s.size, map(&s).as_str()), (12288, "WWWW....uuuu"), "after fallocate");

    assert_eq!(run(&mut f, &mut st, OpKind::PunchHole { offset: 0, length: 1024 }).ret, 0);
    assert_eq!(map(&f.snapshot().unwrap()), ".WWW....uuuu", "after punch_hole");

    // A buffered write over unwritten blocks stays unwritten until writeback converts it.
    assert_eq!(run(&mut f, &mut st, OpKind::Pwrite { offset: 8192, length: 1024, fill: 0x42 }).ret, 1024);
    assert_eq!(map(&f.snapshot().unwrap()), ".WWW....uuuu", "after pwrite into unwritten");
    assert_eq!(run(&mut f, &mut st, OpKind::Writeback { range: Some((8192, 4096)), error: None }).ret, 0);
    let after_wb = map(&f.snapshot().unwrap());
    println!("after writeback of a 1 KiB write into 4 unwritten blocks: {after_wb}");

    assert_eq!(run(&mut f, &mut st, OpKind::Truncate { size: 9216 }).ret, 0);
    let s = f.snapshot().unwrap();
    assert_eq!(s.size, 9216);
    assert_eq!(s.blocks.len(), 9);

    drop(st);
    let v = f.final_views().unwrap();
    let mut want = vec![0u8; 9216];
    want[1024..4096].fill(0x41);
    want[8192..9216].fill(0x42);
    assert_eq!(v.size, 9216);
    assert_eq!(v.cache, want);
    assert_eq!(v.durable, want);
}

#[test]
fn short_copy_makes_pwrite_short() {
    let Some(m) = mount_or_skip(1024) else { return };
    let mut f = RealFile::create(&m, &geometry(1024), 16384).unwrap();
    let mut st = ThreadState::new();
    assert_eq!(run(&mut f, &mut st, OpKind::ShortCopy { bytes: 1000 }).ret, 0);
    assert_eq!(st.short_copy_pending(), Some(1000));
    let w = run(&mut f, &mut st, OpKind::Pwrite { offset: 0, length: 4096, fill: 0x41 });
    assert_eq!(st.short_copy_pending(), None);
    let s = f.snapshot().unwrap();
    println!("short_copy 1000 then pwrite 4096 at 0: ret {}, size {}, blocks {}", w.ret, s.size, map(&s));
    // The kernel writes exactly the bytes it could copy and returns that count.
    assert_eq!(w.ret, 1000);
    assert_eq!(s.size, 1000);

    // Across a page boundary, into an existing page.
    run(&mut f, &mut st, OpKind::ShortCopy { bytes: 5000 });
    let w = run(&mut f, &mut st, OpKind::Pwrite { offset: 512, length: 8192, fill: 0x42 });
    let s = f.snapshot().unwrap();
    println!("short_copy 5000 then pwrite 8192 at 512: ret {}, size {}, blocks {}", w.ret, s.size, map(&s));
    assert_eq!(w.ret, 5000);
    assert_eq!(s.size, 5512);

    // Nothing copyable at all: EFAULT.
    run(&mut f, &mut st, OpKind::ShortCopy { bytes: 0 });
    let w = run(&mut f, &mut st, OpKind::Pwrite { offset: 0, length: 4096, fill: 0x43 });
    assert_eq!(w.ret, -14, "-EFAULT");
    let r = run(&mut f, &mut st, OpKind::Read { offset: 0, length: 8192, direct: false });
    let mut want = vec![0x41; 512];
    want.extend(vec![0x42; 5000]);
    assert_eq!(r.data, want);
}

#[test]
fn mmap_write_beyond_eof_returns_bytes_inside_eof() {
    let Some(m) = mount_or_skip(1024) else { return };
    let mut f = RealFile::create(&m, &geometry(1024), 16384).unwrap();
    let mut st = ThreadState::new();
    // Wholly beyond EOF of an empty file: nothing stored, no SIGBUS.
    let w = run(&mut f, &mut st, OpKind::MmapWrite { offset: 0, length: 4096, fill: 0x41 });
    assert_eq!(w.ret, 0);
    assert_eq!(run(&mut f, &mut st, OpKind::Truncate { size: 2048 }).ret, 0);
    // Page 0 straddles EOF (stored, 2048 bytes of it inside EOF); page 1 is beyond EOF.
    let w = run(&mut f, &mut st, OpKind::MmapWrite { offset: 1024, length: 8192, fill: 0x42 });
    assert_eq!(w.ret, 1024);
    let s = f.snapshot().unwrap();
    println!("mmap_write [1024, 9216) into a 2048-byte file: ret {}, size {}, blocks {}", w.ret, s.size, map(&s));
    assert_eq!(s.size, 2048);
    let r = run(&mut f, &mut st, OpKind::Read { offset: 0, length: 4096, direct: false });
    let mut want = vec![0u8; 1024];
    want.extend(vec![0x42; 1024]);
    assert_eq!(r.data, want);
    assert!(!st.uses_direct_stores(), "process_vm_writev was refused");
    drop(st);
    let v = f.final_views().unwrap();
    assert_eq!(v.durable, want);
}

/// `reclaim` is kswapd's path (MADV_PAGEOUT): it starts no writeback (dirty delalloc pages stay
/// cached and delalloc) and evicts clean pages.
#[test]
fn reclaim_writes_nothing_and_evicts_clean_pages() {
    let Some(m) = mount_or_skip(4096) else { return };
    let mut f = RealFile::create(&m, &geometry(4096), 16384).unwrap();
    let mut st = ThreadState::new();
    run(&mut f, &mut st, OpKind::Pwrite { offset: 0, length: 8192, fill: 0x41 });
    assert_eq!(map(&f.snapshot().unwrap()), "dd");
    assert_eq!(run(&mut f, &mut st, OpKind::Reclaim { range: None }).ret, 0);
    assert_eq!(map(&f.snapshot().unwrap()), "dd", "reclaim must not start writeback");
    assert_eq!(f.resident_pages().unwrap(), 2, "dirty pages stay cached");
    assert_eq!(run(&mut f, &mut st, OpKind::Fsync).ret, 0);
    assert_eq!(map(&f.snapshot().unwrap()), "WW");
    assert_eq!(run(&mut f, &mut st, OpKind::Reclaim { range: Some((0, 8192)) }).ret, 0);
    let left = f.resident_pages().unwrap();
    println!("after fsync and reclaim: {left} of 2 pages resident");
    assert_eq!(left, 0, "clean pages are evicted");
    let r = run(&mut f, &mut st, OpKind::Read { offset: 0, length: 8192, direct: false });
    assert_eq!(r.data, vec![0x41; 8192]);
}

/// `dio_write` and `read` with `direct` go through an `O_DIRECT` descriptor and see what the
/// buffered path sees; a misaligned direct op returns `-EINVAL`.
#[test]
fn dio_write_and_direct_read() {
    let Some(m) = mount_or_skip(4096) else { return };
    let mut f = RealFile::create(&m, &geometry(4096), 16384).unwrap();
    let mut st = ThreadState::new();
    assert_eq!(run(&mut f, &mut st, OpKind::Pwrite { offset: 0, length: 8192, fill: 0x11 }).ret, 8192);
    // The DIO write flushes and invalidates the dirty page cache over its range first.
    assert_eq!(run(&mut f, &mut st, OpKind::DioWrite { offset: 4096, length: 4096, fill: 0x42 }).ret, 4096);
    let mut want = vec![0x11; 4096];
    want.extend(vec![0x42; 4096]);
    let direct = run(&mut f, &mut st, OpKind::Read { offset: 0, length: 8192, direct: true });
    assert_eq!(direct.ret, 8192);
    assert_eq!(direct.data, want, "direct read");
    let buffered = run(&mut f, &mut st, OpKind::Read { offset: 0, length: 8192, direct: false });
    assert_eq!(buffered.ret, 8192);
    assert_eq!(buffered.data, want, "buffered read");
    let s = f.snapshot().unwrap();
    println!("pwrite 8192 of 0x11, dio_write [4096, 8192) of 0x42: size {}, blocks {}", s.size, map(&s));
    assert_eq!(s.size, 8192);

    // A direct read past EOF stops at EOF; a DIO write past EOF extends the file.
    let r = run(&mut f, &mut st, OpKind::Read { offset: 4096, length: 8192, direct: true });
    assert_eq!((r.ret, r.data.len()), (4096, 4096));
    assert_eq!(run(&mut f, &mut st, OpKind::DioWrite { offset: 12288, length: 512, fill: 0x43 }).ret, 512);
    assert_eq!(f.size().unwrap(), 12800);

    // Misaligned offset or length: EINVAL, nothing written.
    assert_eq!(run(&mut f, &mut st, OpKind::DioWrite { offset: 100, length: 512, fill: 0x44 }).ret, -22);
    assert_eq!(run(&mut f, &mut st, OpKind::Read { offset: 0, length: 100, direct: true }).ret, -22);
    drop(st);
    let v = f.final_views().unwrap();
    want.extend(vec![0u8; 4096]);
    want.extend(vec![0x43; 512]);
    assert_eq!(v.cache, want);
    assert_eq!(v.durable, want);
}

/// `clone_range` (FICLONERANGE from the file to itself) shares a written block at another
/// offset, extending the file over the hole it leaves; a later write to the copy goes through
/// COW and leaves the source alone; overlapping or unaligned ranges are refused with `-errno`.
#[test]
fn clone_range_shares_blocks_and_cows() {
    let Some(m) = mount_or_skip(4096) else { return };
    let mut f = RealFile::create(&m, &geometry(4096), 16384).unwrap();
    let mut st = ThreadState::new();
    assert_eq!(run(&mut f, &mut st, OpKind::Pwrite { offset: 0, length: 8192, fill: 0x11 }).ret, 8192);
    assert_eq!(run(&mut f, &mut st, OpKind::Pwrite { offset: 4096, length: 4096, fill: 0x22 }).ret, 4096);
    assert_eq!(run(&mut f, &mut st, OpKind::Fsync).ret, 0);

    let c = run(&mut f, &mut st, OpKind::CloneRange { src: 4096, dst: 12288, length: 4096 });
    assert_eq!(c.ret, 0, "clone_range [4096, 8192) -> 12288 (does the mount have reflink?)");
    let s = f.snapshot().unwrap();
    println!("clone_range src 4096 dst 12288 length 4096: size {}, blocks {}", s.size, map(&s));
    assert_eq!((s.size, map(&s).as_str()), (16384, "WW.W"), "after clone_range");
    let mut want = vec![0x11; 4096];
    want.extend(vec![0x22; 4096]);
    want.extend(vec![0u8; 4096]);
    want.extend(vec![0x22; 4096]);
    let r = run(&mut f, &mut st, OpKind::Read { offset: 0, length: 16384, direct: false });
    assert_eq!(r.ret, 16384);
    assert_eq!(r.data, want, "after clone_range");

    // A write to the shared destination block is a COW: the source block keeps its bytes.
    assert_eq!(run(&mut f, &mut st, OpKind::Pwrite { offset: 12288, length: 100, fill: 0x33 }).ret, 100);
    want[12288..12388].fill(0x33);
    let r = run(&mut f, &mut st, OpKind::Read { offset: 4096, length: 4096, direct: false });
    assert_eq!(r.data, vec![0x22; 4096], "the source block after a write to its clone");
    let r = run(&mut f, &mut st, OpKind::Read { offset: 12288, length: 100, direct: false });
    assert_eq!(r.data, vec![0x33; 100], "the written clone");
    let s = f.snapshot().unwrap();
    println!("pwrite 100 bytes at 12288 (COW of the shared block): size {}, blocks {}", s.size, map(&s));

    // Overlapping ranges in one file, and an unaligned source: refused, nothing changes.
    let overlap = run(&mut f, &mut st, OpKind::CloneRange { src: 0, dst: 0, length: 4096 }).ret;
    let unaligned = run(&mut f, &mut st, OpKind::CloneRange { src: 100, dst: 8192, length: 4096 }).ret;
    println!("clone_range src 0 dst 0 length 4096 (overlap): ret {overlap}");
    println!("clone_range src 100 dst 8192 length 4096 (unaligned): ret {unaligned}");
    assert!(overlap < 0, "overlapping clone_range returned {overlap}");
    assert!(unaligned < 0, "unaligned clone_range returned {unaligned}");
    assert_eq!(f.size().unwrap(), 16384);
    let r = run(&mut f, &mut st, OpKind::Read { offset: 0, length: 16384, direct: false });
    assert_eq!(r.data, want, "after the refused clones");

    drop(st);
    let v = f.final_views().unwrap();
    assert_eq!(v.cache, want);
    assert_eq!(v.durable, want);
    let s = f.snapshot().unwrap();
    println!("after final_views (fsync, COW remapped): blocks {}", map(&s));
    assert_eq!(map(&s), "WW.W");
}

/// `zero_range` zeroes its range (partial blocks too) and moves the size to its end; `fallocate`
/// with `keep_size` beyond EOF leaves the size alone.
#[test]
fn zero_range_and_fallocate_keep_size() {
    let Some(m) = mount_or_skip(1024) else { return };
    let mut f = RealFile::create(&m, &geometry(1024), 16384).unwrap();
    let mut st = ThreadState::new();
    assert_eq!(run(&mut f, &mut st, OpKind::Pwrite { offset: 0, length: 4096, fill: 0x11 }).ret, 4096);
    assert_eq!(run(&mut f, &mut st, OpKind::ZeroRange { offset: 1000, length: 2000 }).ret, 0);
    let mut want = vec![0x11; 4096];
    want[1000..3000].fill(0);
    let r = run(&mut f, &mut st, OpKind::Read { offset: 0, length: 4096, direct: false });
    assert_eq!(r.data, want, "after zero_range");
    let s = f.snapshot().unwrap();
    println!("zero_range [1000, 3000) of a 4096-byte file: size {}, blocks {}", s.size, map(&s));
    assert_eq!(s.size, 4096);

    // Beyond EOF: the size moves to the range's end.
    assert_eq!(run(&mut f, &mut st, OpKind::ZeroRange { offset: 4096, length: 1024 }).ret, 0);
    assert_eq!(f.size().unwrap(), 5120);

    assert_eq!(run(&mut f, &mut st, OpKind::Fallocate { offset: 8192, length: 4096, keep_size: true }).ret, 0);
    let s = f.snapshot().unwrap();
    println!("fallocate keep_size [8192, 12288) of a 5120-byte file: size {}, blocks {}", s.size, map(&s));
    assert_eq!(s.size, 5120, "keep_size must not change the size");
    assert_eq!(f.size().unwrap(), 5120);
    assert_eq!(run(&mut f, &mut st, OpKind::Fallocate { offset: 8192, length: 4096, keep_size: false }).ret, 0);
    assert_eq!(f.size().unwrap(), 12288);

    drop(st);
    let v = f.final_views().unwrap();
    want.extend(vec![0u8; 12288 - 4096]);
    assert_eq!(v.cache, want);
    assert_eq!(v.durable, want);
}

#[test]
fn crash_is_not_runnable() {
    let Some(m) = mount_or_skip(4096) else { return };
    let mut f = RealFile::create(&m, &geometry(4096), 4096).unwrap();
    let mut st = ThreadState::new();
    let e = f.run_op(&OpKind::Crash, &mut st).unwrap_err();
    assert!(e.0.contains("crash"), "{e}");
    let scenario = Scenario::parse("crash.toml", CRASH, &["linux-6.1"]).unwrap();
    let why = iomc_realfs::runnable(&m, &scenario).unwrap_err();
    assert!(why.contains("crash"), "{why}");
    assert!(run_sequential(&m, &scenario, &[(0, 0)]).is_err());
}

const CRASH: &str = r#"
name = "realfs-crash"
summary = "a write then a power failure"
source = "test"

[geometry]
block_size = 4096
page_size = 4096
folio_pages = [1]

[[thread]]
name = "writer"
ops = [ { op = "pwrite", offset = 0, length = 4096, fill = 0x41 }, { op = "crash" } ]

[expect]
"linux-6.1" = "pass"
"#;

const SCENARIO: &str = r#"
name = "realfs-smoke"
summary = "a write racing a whole-file writeback"
source = "test"
setup = [ { op = "pwrite", offset = 0, length = 4096, fill = 0x41 } ]

[geometry]
block_size = 1024
page_size = 4096
folio_pages = [1]

[[thread]]
name = "writer"
ops = [ { op = "pwrite", offset = 4096, length = 4096, fill = 0x42 }, { op = "read", offset = 0, length = 8192 } ]

[[thread]]
name = "flusher"
ops = [ { op = "writeback" } ]

[expect]
"linux-6.1" = "pass"
"#;

#[test]
fn sequential_and_threaded_runs() {
    let Some(m) = mount_or_skip(1024) else { return };
    let scenario = Scenario::parse("smoke.toml", SCENARIO, &["linux-6.1"]).unwrap();
    let seq = run_sequential(&m, &scenario, &[(1, 0), (0, 0), (0, 1)]).unwrap();
    let maps: Vec<String> = seq.steps.iter().map(|s| map(&s.snapshot)).collect();
    assert_eq!(maps, ["dddd", "WWWW", "WWWWdddd", "WWWWdddd"]);
    assert_eq!(seq.steps[0].thread, None);
    assert_eq!(seq.steps[3].result.ret, 8192);
    let mut want = vec![0x41; 4096];
    want.extend(vec![0x42; 4096]);
    assert_eq!(seq.views.durable, want);
    assert!(run_sequential(&m, &scenario, &[(2, 0)]).is_err());
    assert!(run_sequential(&m, &scenario, &[(1, 1)]).is_err());

    let outcomes = run_threads(&m, &scenario, 8, 7).unwrap();
    assert_eq!(outcomes.values().sum::<u32>(), 8);
    for o in outcomes.keys() {
        assert_eq!(o.results.len(), 2);
        assert_eq!(o.results[0][0].ret, 4096);
        assert_eq!(o.views.durable, want);
    }
    println!("{} distinct outcome(s) in 8 threaded runs", outcomes.len());
}

#[test]
fn errortag_needs_a_debug_kernel() {
    let Some(m) = mount_or_skip(4096) else { return };
    let mut f = RealFile::create(&m, &geometry(4096), 4096).unwrap();
    let mut st = ThreadState::new();
    let r = f.run_op(&OpKind::Errortag { name: "drop_writes".into(), value: 0 }, &mut st);
    match m.errortag_dir() {
        None => {
            let e = r.unwrap_err();
            assert!(e.0.contains("CONFIG_XFS_DEBUG"), "{e}");
            println!("errortag: {e}");
        }
        Some(dir) => {
            println!("errortag: this kernel has {}", dir.display());
            assert_eq!(r.unwrap().ret, 0);
        }
    }
}

const RACE: &str = r#"
name = "realfs-race"
summary = "a read racing an overwrite"
source = "test"
setup = [ { op = "pwrite", offset = 0, length = 65536, fill = 0x41 } ]

[geometry]
block_size = 4096
page_size = 4096
folio_pages = [1]

[[thread]]
name = "writer"
ops = [ { op = "pwrite", offset = 0, length = 65536, fill = 0x42 } ]

[[thread]]
name = "reader"
ops = [ { op = "read", offset = 0, length = 65536 } ]

[expect]
"linux-6.1" = "pass"
"#;

#[test]
fn threaded_runs_overlap() {
    let Some(m) = mount_or_skip(4096) else { return };
    let scenario = Scenario::parse("race.toml", RACE, &["linux-6.1"]).unwrap();
    let t = std::time::Instant::now();
    let outcomes = run_threads(&m, &scenario, 40, 1).unwrap();
    let reads: Vec<(String, u32)> = outcomes
        .iter()
        .map(|(o, n)| {
            let d = &o.results[1][0].data;
            let b = d.iter().filter(|&&x| x == 0x42).count();
            (format!("{b} of {} bytes new", d.len()), *n)
        })
        .collect();
    println!("40 runs in {:?}: {reads:?}", t.elapsed());
    assert_eq!(outcomes.values().sum::<u32>(), 40);
    // XFS holds the inode's IOLOCK exclusive across a buffered write and shared across a
    // buffered read, so a read sees all of the write or none of it.
    for o in outcomes.keys() {
        let d = &o.results[1][0].data;
        assert!(d == &vec![0x41; 65536] || d == &vec![0x42; 65536], "torn read");
        assert_eq!(o.views.durable, vec![0x42; 65536]);
    }
}

/// Set in the child process of [`ctrl_c_unmounts_and_exits_130`].
const SIGNAL_CHILD: &str = "IOMC_REALFS_SIGNAL_CHILD";

/// The child half of [`ctrl_c_unmounts_and_exits_130`]; does nothing in a normal test run.
#[test]
fn signal_child() {
    if std::env::var_os(SIGNAL_CHILD).is_none() {
        return;
    }
    iomc_realfs::install_cleanup_on_signal().unwrap();
    let m = XfsMount::create(4096).unwrap();
    println!("MOUNTED {}", m.path().display());
    std::thread::sleep(std::time::Duration::from_secs(30));
    panic!("no signal came");
}

#[test]
fn ctrl_c_unmounts_and_exits_130() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    if mount_or_skip(4096).is_none() {
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["signal_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(SIGNAL_CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mountpoint = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.split_once("MOUNTED ").map(|(_, p)| PathBuf::from(p)))
        .expect("the child reports its mount");
    assert!(is_mounted(&mountpoint));
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status}");
    assert!(!is_mounted(&mountpoint), "{} still mounted after SIGINT", mountpoint.display());
    assert!(!mountpoint.parent().unwrap().exists(), "image directory left behind");
}

#[test]
fn api_types_can_move_between_threads() {
    fn send<T: Send>() {}
    send::<ThreadState>();
    send::<RealFile>();
    send::<XfsMount>();
    fn sync<T: Sync>() {}
    sync::<XfsMount>();
}
