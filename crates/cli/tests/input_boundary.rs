//! The input boundary of the `iomc` binary (issue 15): every row of the table and
//! every range-checked flag and environment variable, each asserting the exit status and a
//! part of the message. Exit statuses: 0 ok, 1 mismatch / not reproduced, 2 bad input,
//! 3 incomplete, 141 stdout closed.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Spawning a child forks this test process: until the child execs, it holds a copy of every
/// pipe end open here, another test's included. The closed-stdout test must know its pipe has
/// no reader left, so it spawns alone (write lock) while the others spawn under read locks.
static SPAWN: std::sync::RwLock<()> = std::sync::RwLock::new(());

fn iomc_in(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let _spawning = SPAWN.read().unwrap_or_else(|e| e.into_inner());
    let mut c = Command::new(env!("CARGO_BIN_EXE_iomc"));
    c.args(args).current_dir(dir);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run iomc")
}

fn iomc(args: &[&str]) -> Output {
    iomc_in(&root(), &[], args)
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iomc-boundary-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Exit `code`, `needle` on stderr, and no panic.
#[track_caller]
fn expect(o: &Output, code: i32, needle: &str, what: &str) {
    let (out, err) = text(o);
    assert_eq!(o.status.code(), Some(code), "{what}: exit {:?}\nstdout: {out}\nstderr: {err}", o.status.code());
    assert!(err.contains(needle), "{what}: stderr lacks {needle:?}:\n{err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{what} panicked: {err}");
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A first-format token (no check field) for a shipped scenario, built by hand: cheap to make
/// with any schedule.
fn v1_token(scenario: &str, preset: &str, schedule: &str) -> String {
    let hash = fnv1a64(&std::fs::read(root().join(scenario)).unwrap());
    format!("iomc1:{hash:016x}:{preset}:-:{schedule}:{scenario}")
}

/// The token `iomc check` prints for one scenario and preset with the given extra flags.
fn printed_token(scenario: &str, preset: &str, extra: &[&str]) -> String {
    let found = tmp("found");
    let mut args = vec!["check", scenario, "--variant", preset, "--found-dir", found.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = iomc(&args);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    out.lines()
        .find_map(|l| l.trim().strip_prefix("iomc replay '"))
        .unwrap_or_else(|| panic!("no token in {out}"))
        .trim_end_matches('\'')
        .to_string()
}

/// The token's fields: `iomc2`, hash, preset, overrides, schedule, verdict, events, check, path.
fn fields(token: &str) -> Vec<String> {
    token.splitn(9, ':').map(str::to_string).collect()
}

const LORE: &str = "scenarios/lore-2022-08-17-unwritten.toml";
const XFS_196: &str = "scenarios/xfs-196.toml";

/// Row 1: `check ... --iterations 0` on every backend, and `matrix` the same: refused at parse.
#[test]
fn zero_iterations_are_refused_on_every_backend() {
    for backend in ["pct", "random", "stress", "dfs", "loom", "default"] {
        let o = iomc(&["check", LORE, "--backend", backend, "--iterations", "0"]);
        expect(&o, 2, "0 is not in 1..=1000000000", backend);
        assert!(text(&o).0.is_empty(), "{backend}: nothing runs, nothing is printed");
    }
    let o = iomc(&["matrix", LORE, "--iterations", "0"]);
    expect(&o, 2, "0 is not in 1..=1000000000", "matrix");
    // One iteration is a sample: accepted.
    let o = iomc(&["check", LORE, "--variant", "linux-6.2", "--backend", "random", "--iterations", "1"]);
    expect(&o, 0, "", "one iteration");
}

/// A search whose budget runs out before its first execution ran nothing: incomplete, not a pass.
#[test]
fn a_search_that_ran_nothing_is_incomplete() {
    for backend in ["pct", "stress", "default"] {
        let o = iomc(&["check", LORE, "--variant", "linux-6.2", "--backend", backend, "--time-limit", "1e-9"]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(3), "{backend}: {out}{err}");
        assert!(out.contains("incomplete") && out.contains("0 of 1 checks met their expectation"), "{backend}: {out}");
    }
}

/// Row 2: `fuzz --cases 0` (and `--iterations 0`): refused at parse.
#[test]
fn fuzz_refuses_zero_cases_and_iterations() {
    expect(&iomc(&["fuzz", "--cases", "0"]), 2, "0 is not in 1..=1000000", "--cases 0");
    expect(&iomc(&["fuzz", "--iterations", "0"]), 2, "0 is not in 1..=1000000000", "--iterations 0");
    expect(&iomc(&["fuzz", "--cases", "1000001"]), 2, "is not in 1..=1000000", "--cases too many");
}

/// Row 3: a loom token whose execution index lies past the search. An earlier violation at that
/// bound is not the token's execution (exit 1 at once, not after the whole pass); a pass with
/// fewer executions says how many it had.
#[test]
fn a_loom_index_past_the_search_does_not_reproduce() {
    // linux-6.1 shows zeroed-data at execution 47 of bound 2 (267 before the issue-17 merged steps).
    let t = v1_token(LORE, "linux-6.1", "loom.b2.e1000000000");
    let o = iomc(&["replay", &t]);
    expect(&o, 1, "already showed zeroed-data before the token's execution 1000000000", "earlier violation");
    assert!(text(&o).0.is_empty(), "a violation that is not the token's is not printed as if it were");
    // linux-6.2 passes: bound 1 runs to its end.
    let t = v1_token(LORE, "linux-6.2", "loom.b1.e1000000000");
    let o = iomc(&["replay", &t]);
    expect(&o, 1, "the token names execution 1000000000, past the end of the search", "past the pass");
    // An index that names a clean execution is not reproduced either.
    let t = v1_token(LORE, "linux-6.1", "loom.b2.e1");
    expect(&iomc(&["replay", &t]), 1, "did not reproduce", "clean execution");
    // The real index reproduces.
    let t = v1_token(LORE, "linux-6.1", "loom.b2.e47");
    expect(&iomc(&["replay", &t, "--brief"]), 0, "", "the found execution");
}

/// A token's verdict and events must match what the replay shows: the named execution showing
/// another class or other events is "not reproduced" (exit 1).
#[test]
fn a_replay_must_show_the_tokens_verdict() {
    let t = printed_token(XFS_196, "linux-6.1", &["--backend", "loom"]);
    let f = fields(&t);
    assert_eq!(f[0], "iomc2");
    assert_eq!(f[5], "zeroed-data", "{t}");
    expect(&iomc(&["replay", &t]), 0, "", "as printed");
    // The same execution, but the token says it showed another class / other events (as after a
    // model change): re-signed, so only the replay's comparison can refuse it.
    let resign = |mut g: Vec<String>| {
        let h = fnv1a64(g[..7].join(":").as_bytes());
        g[7] = format!("{:08x}", ((h >> 32) ^ (h & 0xffff_ffff)) as u32);
        g.join(":")
    };
    assert_eq!(resign(f.clone()), t, "the test signs as iomc does");
    let mut g = f.clone();
    g[5] = "lost-write".into();
    let o = iomc(&["replay", &resign(g)]);
    expect(&o, 1, "the execution showed zeroed-data, the token names lost-write", "other verdict");
    assert!(text(&o).0.is_empty(), "nothing is shown as the token's execution");
    let mut g = f.clone();
    g[6] = "0123456789abcdef".into();
    expect(&iomc(&["replay", &resign(g)]), 1, "with different events", "other events");
}

/// Row 4: `check ... | head -1`: the reader goes away; iomc ends quietly with 141, no panic, no
/// abort, and stops early.
#[test]
fn a_closed_stdout_ends_quietly() {
    let found = tmp("closed-stdout");
    let found_arg = found.to_str().unwrap();
    let json_found = tmp("closed-stdout-json");
    for args in [
        &["check", "scenarios/", "--found-dir", found_arg][..],
        &["list"][..],
        &["check", XFS_196, "--format", "json", "--found-dir", json_found.to_str().unwrap()][..],
    ] {
        let alone = SPAWN.write().unwrap_or_else(|e| e.into_inner());
        let mut child = Command::new(env!("CARGO_BIN_EXE_iomc"))
            .args(args)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn iomc");
        // Close the read end before iomc writes anything: its first write fails.
        drop(child.stdout.take());
        drop(alone);
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(141), "{args:?}: {status:?}: {err}");
        assert!(!err.contains("panicked") && !err.contains("failed printing"), "{args:?}: {err}");
        assert!(!err.contains("interrupted"), "{args:?}: quiet means quiet: {err}");
    }
    // It stopped at its first failed write, not after every check: a found violation is saved
    // before its report is printed, so at most the first printed check left a token behind
    // (a whole run of scenarios/ leaves one per pre-fix preset that races).
    let tokens = std::fs::read_dir(&found)
        .map(|d| d.filter_map(Result::ok).filter(|e| e.path().extension().is_some_and(|x| x == "token")).count())
        .unwrap_or(0);
    assert!(tokens <= 1, "{tokens} tokens saved: the run went on after stdout closed");
}

/// Row 5: `--time-limit` -1, nan, inf, 1e30 (and friends): refused at parse with the range.
#[test]
fn time_limits_out_of_range_are_refused() {
    for bad in ["-1", "nan", "inf", "-inf", "1e30", "0", "-0", "1e-400", "31536001"] {
        let o = iomc(&["check", LORE, &format!("--time-limit={bad}")]);
        expect(&o, 2, "out of range; expected seconds, a number more than 0 and at most 31536000", bad);
    }
    for bad in ["abc", "", "1s"] {
        let o = iomc(&["check", LORE, &format!("--time-limit={bad}")]);
        expect(&o, 2, "is not a number of seconds", bad);
    }
    // Without `=`, a negative value is still read as the flag's value.
    expect(&iomc(&["check", LORE, "--time-limit", "-1"]), 2, "out of range", "-1 without =");
    // A sensible limit is accepted.
    let o = iomc(&[
        "check",
        LORE,
        "--variant",
        "linux-6.2",
        "--backend",
        "random",
        "--iterations",
        "5",
        "--time-limit",
        "600",
    ]);
    expect(&o, 0, "", "600 s");
}

/// Row 6: an empty shuttle schedule (`shuttle.`): bad input, not an index out of bounds.
#[test]
fn an_empty_shuttle_schedule_is_bad_input() {
    let t = v1_token(LORE, "linux-6.1", "shuttle.");
    expect(&iomc(&["replay", &t]), 2, "shuttle schedule: it is empty", "v1 shuttle.");
    // In a current token: the check catches any edit; rebuilt without the schedule, too.
    let t = printed_token(LORE, "linux-6.1", &["--backend", "pct", "--iterations", "1000"]);
    let mut f = fields(&t);
    assert!(f[4].starts_with("shuttle.9"), "{t}");
    f[4] = "shuttle.".into();
    expect(&iomc(&["replay", &f.join(":")]), 2, "not a replay token", "v2 shuttle.");
    for junk in ["shuttle.9", "shuttle.zz", "shuttle.00", "shuttle.91ffffffffffffffffffffff", "shuttle.91218000"] {
        let t = v1_token(LORE, "linux-6.1", junk);
        expect(&iomc(&["replay", &t]), 2, "shuttle schedule:", junk);
    }
}

/// Row 7: a flipped or truncated schedule: bad input (exit 2), in the current format through
/// the check field, in the first format through the schedule's own structure.
#[test]
fn flipped_and_truncated_schedules_are_bad_input() {
    let t = printed_token(LORE, "linux-6.1", &["--backend", "pct", "--iterations", "1000"]);
    expect(&iomc(&["replay", &t, "--brief"]), 0, "", "the token as printed");
    let f = fields(&t);
    let sched = &f[4];
    // Flip one hex digit in the middle of the schedule.
    let mid = sched.len() / 2;
    let c = &sched[mid..=mid];
    let flipped_digit = if c == "0" { "1" } else { "0" };
    let mut g = f.clone();
    g[4] = format!("{}{flipped_digit}{}", &sched[..mid], &sched[mid + 1..]);
    expect(&iomc(&["replay", &g.join(":")]), 2, "its check does not match", "flipped");
    // Cut the schedule short, fields intact.
    let mut g = f.clone();
    g[4] = sched[..sched.len() - 20].to_string();
    expect(&iomc(&["replay", &g.join(":")]), 2, "its check does not match", "truncated schedule");
    // Cut the whole token inside its schedule.
    let cut = &t[..t.find("shuttle.").unwrap() + 30];
    expect(&iomc(&["replay", cut]), 2, "is it truncated?", "truncated token");
    // Edit the loom index of a current token: the check catches it.
    let t = printed_token(XFS_196, "linux-6.1", &["--backend", "loom"]);
    let mut g = fields(&t);
    assert!(g[4].starts_with("loom.b"), "{t}");
    g[4] = format!("{}0", g[4]);
    expect(&iomc(&["replay", &g.join(":")]), 2, "its check does not match", "edited loom index");
    // A first-format token has no check: its schedule's structure is checked.
    let t1 = v1_token(LORE, "linux-6.1", &format!("shuttle.{}", &sched["shuttle.".len()..sched.len() - 20]));
    expect(&iomc(&["replay", &t1]), 2, "(truncated?)", "v1 truncated");
    for bad in ["loom.b2", "loom.b2.e0", "loom.b7.e1", "loom.bx.e1", "loom.b2.e-1", "dfs.1"] {
        let t = v1_token(LORE, "linux-6.1", bad);
        expect(&iomc(&["replay", &t]), 2, "not a replay token", bad);
    }
    expect(&iomc(&["replay", ""]), 2, "not a replay token", "empty token");
    expect(&iomc(&["replay", "iomc2:"]), 2, "not a replay token", "iomc2: alone");
}

/// Row 8: replay from another directory: the token's path is relative to the repository root
/// and found from a subdirectory, from outside via the executable's checkout, or named with
/// --scenario; a path that cannot be found says which flag to use.
#[test]
fn replay_finds_its_scenario_from_another_directory() {
    let t = printed_token(XFS_196, "linux-6.1", &["--backend", "loom"]);
    assert!(t.ends_with(":scenarios/xfs-196.toml"), "the path is relative to the repository root: {t}");
    let sub = root().join("crates/cli");
    expect(&iomc_in(&sub, &[], &["replay", &t, "--brief"]), 0, "", "from crates/cli");
    let elsewhere = tmp("elsewhere");
    let abs = std::fs::canonicalize(root().join(XFS_196)).unwrap();
    let o = iomc_in(&elsewhere, &[], &["replay", &t, "--scenario", abs.to_str().unwrap()]);
    expect(&o, 0, "", "--scenario from a temporary directory");
    // The executable lives in this checkout's target directory unless CARGO_TARGET_DIR moved it.
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_iomc")).unwrap();
    if exe.starts_with(std::fs::canonicalize(root()).unwrap()) {
        expect(&iomc_in(&elsewhere, &[], &["replay", &t, "--brief"]), 0, "", "from a temporary directory");
    }
    let mut f = fields(&t);
    f[8] = "no/such/dir/xfs-196.toml".into();
    expect(&iomc_in(&elsewhere, &[], &["replay", &f.join(":")]), 2, "pass its path with --scenario", "missing file");
    let o = iomc_in(&elsewhere, &[], &["replay", &t, "--scenario", "no-such.toml"]);
    expect(&o, 2, "--scenario no-such.toml: no such file", "bad --scenario");
    // The wrong file is refused by its content hash.
    let o = iomc(&["replay", &t, "--scenario", LORE]);
    expect(&o, 2, "has changed since the token was made", "another scenario");
}

/// Row 9: environment variables the checkers read: a bad value is bad input naming it.
#[test]
fn bad_environment_variables_are_bad_input() {
    for var in [
        "LOOM_MAX_PERMUTATIONS",
        "LOOM_MAX_BRANCHES",
        "LOOM_MAX_DURATION",
        "LOOM_MAX_PREEMPTIONS",
        "LOOM_CHECKPOINT_INTERVAL",
        "SHUTTLE_RANDOM_SEED",
    ] {
        for bad in ["x", "-1", "1.5", "99999999999999999999999"] {
            let o = iomc_in(&root(), &[(var, bad)], &["check", XFS_196]);
            expect(&o, 2, &format!("environment variable {var}="), &format!("{var}={bad}"));
            assert!(text(&o).0.is_empty(), "{var}: nothing runs");
        }
    }
    // A good value is accepted (and the seed override is announced).
    let o = iomc_in(
        &root(),
        &[("SHUTTLE_RANDOM_SEED", "7")],
        &["check", LORE, "--variant", "linux-6.2", "--backend", "random", "--iterations", "3"],
    );
    expect(&o, 0, "SHUTTLE_RANDOM_SEED=7 replaces every shuttle seed", "good seed");
    let o = iomc_in(
        &root(),
        &[("LOOM_MAX_PERMUTATIONS", "5")],
        &["check", XFS_196, "--variant", "linux-6.1", "--backend", "loom"],
    );
    expect(&o, 0, "", "good LOOM_MAX_PERMUTATIONS (overridden by iomc)");
}

/// Every other range-checked flag: out of range is exit 2 with the range; in range is accepted.
#[test]
fn every_range_checked_flag() {
    let rows: &[(&[&str], &str)] = &[
        (&["check", LORE, "--preemption-bound", "7"], "7 is not in 0..=6"),
        (&["check", LORE, "--preemption-bound", "-1"], "--preemption-bound"),
        (&["check", LORE, "--iterations", "1000000001"], "is not in 1..=1000000000"),
        (&["check", LORE, "--iterations", "-5"], "--iterations"),
        (&["check", LORE, "--seed", "x"], "--seed"),
        (&["check", LORE, "--shard", "0/2"], "1 <= K <= N"),
        (&["check", LORE, "--shard", "3/2"], "1 <= K <= N"),
        (&["check", LORE, "--shard", "1"], "--shard takes K/N"),
        (&["matrix", LORE, "--preemption-bound", "99"], "99 is not in 0..=6"),
        (&["matrix", LORE, "--time-limit", "nan"], "out of range"),
        (&["fuzz", "--iterations", "-1"], "--iterations"),
        (&["fuzz", "--seed", "-1"], "--seed"),
        (&["fuzz", "--cases", "-1"], "-1 is not in 1..=1000000"),
        (&["conform", "--runs", "-1"], "-1 is not in 1..=10000000"),
        (&["conform", "--runs", "0"], "0 is not in 1..=10000000"),
        (&["conform", "--orders", "0"], "0 is not in 1..=1000000"),
        (&["conform", "--generate", "0"], "0 is not in 1..=1000000"),
        (&["matrix", LORE, "--junit", "/"], "/ is a directory"),
        (&["matrix", LORE, "--junit", ""], "an empty path"),
        (&["check", LORE, "--found-dir", "README.md"], "README.md exists and is not a directory"),
        (&["check", LORE, "--found-dir", ""], "an empty path"),
        (&["fuzz", "--out", "README.md"], "README.md exists and is not a directory"),
        (&["conform", "--found-dir", "README.md"], "README.md exists and is not a directory"),
        (&["check", LORE, "--backend", "nosuch"], "invalid value 'nosuch'"),
        (&["check", LORE, "--format", "yaml"], "invalid value 'yaml'"),
    ];
    for (args, needle) in rows {
        expect(&iomc(args), 2, needle, &format!("{args:?}"));
    }
    let o = iomc(&["check", XFS_196, "--variant", "linux-6.1", "--backend", "loom", "--preemption-bound", "0"]);
    expect(&o, 0, "", "--preemption-bound 0");
}
