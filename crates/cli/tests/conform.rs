//! `iomc conform` against the running kernel's XFS: runs when this machine can (root, loop
//! devices, mkfs.xfs); otherwise prints why and passes, except under `CI=true`, where a skip
//! fails (CI runs as root with xfsprogs installed by ci/test.sh).

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `None` (after printing why) when the real kernel cannot be used here.
fn can_run() -> Option<()> {
    if let Err(missing) = iomc_realfs::preflight() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("conformance tests cannot run under CI=true: {missing}");
        }
        println!("skipped: {missing}");
        return None;
    }
    Some(())
}

fn conform(args: &[&str]) -> (Option<i32>, String) {
    let found = std::env::temp_dir().join(format!("iomc-conform-test-{}", std::process::id()));
    let o: Output = Command::new(env!("CARGO_BIN_EXE_iomc"))
        .arg("conform")
        .args(args)
        .arg("--found-dir")
        .arg(&found)
        .current_dir(root())
        .output()
        .expect("run iomc");
    let _ = std::fs::remove_dir_all(&found);
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    (o.status.code(), text)
}

/// The lore race's scenario on the fixed kernel: every serialization agrees op by op, and the
/// real threads' outcomes are within the model's.
#[test]
fn a_shipped_scenario_agrees_with_the_real_kernel() {
    if can_run().is_none() {
        return;
    }
    let (code, out) = conform(&["scenarios/lore-2022-08-17-unwritten.toml", "--runs", "100"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("sequential: all 6 serializations agree after every op"), "{out}");
    assert!(out.contains("threaded: 100 real runs"), "{out}");
    assert!(out.contains("1 scenarios agree with the real kernel, 0 differ"), "{out}");
}

/// Negative controls: each knob that changes sequential semantics, turned off on the newest
/// preset, is caught by the sequential differential, with the op sequence and both extent
/// maps: 6.6's per-block dirty bits (writeback would write the clean unwritten blocks of a
/// read page) and 6.6's large folios on the write path (writeback of one page of an 8 KiB
/// write would leave the other block delalloc-turned-unwritten).
#[test]
fn a_model_that_changes_sequential_semantics_is_caught() {
    if can_run().is_none() {
        return;
    }
    let cases = [
        (
            "tests/conform/per-block-dirty.toml",
            "per_block_dirty=off",
            "model size 4096, extents WWWW",
            "real  size 4096, extents uWuu",
        ),
        (
            "tests/conform/write-large-folio.toml",
            "write_large_folios=off",
            "model size 8192, extents uW",
            "real  size 8192, extents WW",
        ),
    ];
    for (file, knob, model, real) in cases {
        let (code, out) = conform(&[file, "--sequential-only", "--set", knob]);
        assert_eq!(code, Some(1), "{file} --set {knob}: {out}");
        assert!(out.contains("DIFFERS"), "{out}");
        assert!(out.contains(model), "{out}");
        assert!(out.contains(real), "{out}");
        let (code, out) = conform(&[file, "--sequential-only"]);
        assert_eq!(code, Some(0), "{file}: {out}");
    }
}

/// The real runs really interleave: a pwrite and an mmap store to the same bytes end in either
/// order, and a write racing writeback and a hole punch (generic-524) ends with or without the
/// punched range written; both outcomes the model allows are observed within the default 1,000
/// runs in each.
#[test]
fn real_threads_show_every_order_the_model_allows() {
    if can_run().is_none() {
        return;
    }
    for file in ["tests/conform/order-pwrite-mmap.toml", "scenarios/generic-524-writeback-stale-map.toml"] {
        let (code, out) = conform(&[file]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("1000 real runs: 2 distinct outcomes; the model allows 2"), "{file}: {out}");
        assert!(out.contains("0 of those never observed"), "{file}: {out}");
    }
}

/// A scenario with an op that has no real counterpart here is said to be not runnable, and a
/// run that compared nothing is not a pass (exit 3).
#[test]
fn nothing_runnable_is_not_a_pass() {
    if can_run().is_none() {
        return;
    }
    let (code, out) = conform(&["scenarios/xfs-196.toml"]);
    assert!(out.contains("not runnable on the real kernel: xfs-196"), "{out}");
    if out.contains("this kernel has no XFS error injection") {
        assert_eq!(code, Some(3), "{out}");
        assert!(out.contains("nothing was compared"), "{out}");
    }
}
