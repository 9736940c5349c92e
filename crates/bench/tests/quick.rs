//! The benchmark's quick path, end to end, on one small scenario. No timing is asserted: the
//! test only checks that every section runs (including the memory child process) and that the
//! report has its tables.

use std::path::Path;
use std::process::Command;

#[test]
fn quick_run_on_one_scenario_prints_every_section() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // The cap bounds every search; an exhaustive pass of this scenario takes 0.2-0.3 s in
    // this (test-profile) build, so a cap near that reads as an incomplete search (MISMATCH)
    // whenever another process takes a core: 1 s leaves room.
    let out = Command::new(env!("CARGO_BIN_EXE_iomc-bench"))
        .current_dir(&root)
        .args(["--quick", "--only", "generic-346-hole-efault", "--seeds", "2", "--cap-secs", "1"])
        .output()
        .expect("run iomc-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "iomc-bench failed: {}\n{stderr}", out.status);
    for heading in [
        "### Targets",
        "### 1. Default strategy",
        "### 2. Time to the first violation",
        "### 3. Exhaustive loom",
        "### 4. loom vs shuttle DFS",
        "### 5. One core vs both cores",
        "### 6. Peak memory",
        "### 7. Cost of one execution",
        "### 8. Harness overhead",
    ] {
        assert!(stdout.contains(heading), "missing {heading:?} in:\n{stdout}");
    }
    // The scenario's verdicts are what its [expect] says, and the child reported its memory.
    assert!(
        stdout.contains("| generic-346-hole-efault | linux-6.1 | PCT 1,000 + loom 0..=4 | zeroed-data | zeroed-data |"),
        "{stdout}"
    );
    // Table 2 has the default strategy over the seeds next to loom alone.
    assert!(stdout.contains("| generic-346-hole-efault | linux-6.1 | default | 2/2 ("), "{stdout}");
    assert!(stdout.contains("stress ÷ default | stress ÷ loom |"), "{stdout}");
    // Table 3 has the default's PCT phase and table 1's run of the default next to the loom passes.
    assert!(stdout.contains("| PCT phase | default: PCT 1,000 + loom 0..=bound (table 1) |"), "{stdout}");
    // No panic noise from loom after shuttle (the default strategy runs both in one call).
    assert!(!stderr.contains("Task failed, serializing schedule"), "{stderr}");
    // The memory child answers in JSON on stdout and writes nothing to stderr (loom's and
    // shuttle's own tracing events stay below the default filter).
    assert!(!stderr.contains("the child wrote"), "{stderr}");
    assert!(!stdout.contains("MISMATCH"), "{stdout}");
    assert!(!stdout.contains("| 0.0 MiB |"), "no peak memory from the child:\n{stdout}");
}

#[test]
fn bad_arguments_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_iomc-bench")).arg("--seeds").arg("zero").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}
