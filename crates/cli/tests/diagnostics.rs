//! The tool's own diagnostics (issue 15): `RUST_LOG` and `-v` show a span per check, phase and
//! loom bound on stderr and leave stdout alone, a bad `RUST_LOG` is bad input, `-q` silences
//! progress and notes; and `replay --chrome-trace` writes a trace that parses as Chrome
//! trace-event JSON with a track per actor, ordered slices and the finding last.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};

const LORE: &str = "scenarios/lore-2022-08-17-unwritten.toml";
/// The actors of [`LORE`]: setup, then its `[[thread]]`s in order.
const LORE_ACTORS: [&str; 4] = ["setup", "writer", "flusher", "kswapd"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn iomc_env(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_iomc"));
    c.args(args).current_dir(root()).env_remove("RUST_LOG").env_remove("SHUTTLE_RANDOM_SEED");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run iomc")
}

fn iomc(args: &[&str]) -> Output {
    iomc_env(&[], args)
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iomc-diag-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `s` with every duration (`12.35ms`, `1.2s`, `850µs`) replaced by `T` and the line breaks
/// of wrapping ignored: two runs of one search differ only there.
fn without_times(s: &str) -> String {
    let is_time = |w: &str| {
        let w = w.trim_end_matches([',', ';', ')', '.']);
        ["ns", "µs", "ms", "s"]
            .iter()
            .any(|u| w.strip_suffix(u).is_some_and(|n| !n.is_empty() && n.parse::<f64>().is_ok()))
    };
    s.split_whitespace().map(|w| if is_time(w) { "T" } else { w }).collect::<Vec<_>>().join(" ")
}

/// A violation's replay token for [`LORE`] on linux-6.1 found by `backend`, from the file
/// `check` saves.
fn lore_token(backend: &str) -> String {
    let found = tmp(&format!("found-{backend}"));
    let o =
        iomc(&["check", LORE, "--variant", "linux-6.1", "--backend", backend, "--found-dir", found.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    let saved = std::fs::read_to_string(found.join("lore-2022-08-17-unwritten-linux-6.1.token")).unwrap();
    saved.lines().next().unwrap().trim().to_string()
}

/// Every two slices of a track either nest or are disjoint (what a viewer needs to stack them).
fn assert_slices_nest(slices: &[&Value]) {
    let mut by_tid: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
    for s in slices {
        let (ts, dur) = (s["ts"].as_u64().unwrap(), s["dur"].as_u64().unwrap());
        by_tid.entry(s["tid"].as_u64().unwrap()).or_default().push((ts, ts + dur));
    }
    for (tid, mut spans) in by_tid {
        spans.sort_by_key(|&(start, end)| (start, std::cmp::Reverse(end)));
        let mut open: Vec<u64> = Vec::new();
        for (start, end) in spans {
            while open.last().is_some_and(|&e| e <= start) {
                open.pop();
            }
            assert!(open.last().is_none_or(|&e| e >= end), "track {tid}: [{start}, {end}) overlaps without nesting");
            open.push(end);
        }
    }
}

#[test]
fn replay_writes_a_chrome_trace_with_a_track_per_actor_and_the_finding_last() {
    // The default backend's token replays a shuttle schedule, loom's a loom execution index.
    for backend in ["default", "loom"] {
        chrome_trace_of(&lore_token(backend), backend);
    }
}

fn chrome_trace_of(token: &str, backend: &str) {
    let dir = tmp(&format!("chrome-{backend}"));
    let file = dir.join("trace.json");
    let o = iomc(&["replay", token, "--brief", "--chrome-trace", file.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("zeroed-data"), "the report is printed as without the flag: {out}");
    assert!(err.contains("Chrome trace written to"), "{err}");
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["trace.json"], "no temporary file is left");

    let json: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).expect("the trace is JSON");
    assert_eq!(json["displayTimeUnit"], "ns");
    let events = json["traceEvents"].as_array().expect("traceEvents");
    assert!(!events.is_empty());
    for e in events {
        for key in ["ph", "name", "pid", "tid"] {
            assert!(!e[key].is_null(), "{key} missing in {e}");
        }
    }

    // One thread_name per actor, named as the scenario names them, each on its own track.
    let tracks: BTreeMap<u64, &str> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| (e["tid"].as_u64().unwrap(), e["args"]["name"].as_str().unwrap()))
        .collect();
    for actor in LORE_ACTORS {
        assert_eq!(tracks.values().filter(|n| **n == actor).count(), 1, "{actor}: {tracks:?}");
    }
    let actor_tids: Vec<u64> = tracks.iter().filter(|(_, n)| LORE_ACTORS.contains(n)).map(|(t, _)| *t).collect();

    // Slices: duration at least 1, non-decreasing time on every track; every actor did something.
    let slices: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert!(!slices.is_empty());
    let mut last_ts: BTreeMap<u64, u64> = BTreeMap::new();
    for s in &slices {
        assert!(s["dur"].as_u64().unwrap() > 0, "{s}");
        let (tid, ts) = (s["tid"].as_u64().unwrap(), s["ts"].as_u64().unwrap());
        assert!(tracks.contains_key(&tid), "slice on an unnamed track: {s}");
        let prev = last_ts.insert(tid, ts).unwrap_or(0);
        assert!(ts >= prev, "track {tid} goes back in time at {s}");
    }
    for tid in &actor_tids {
        assert!(last_ts.contains_key(tid), "no slice on {}", tracks[tid]);
    }
    // The race's kernel functions and a lock held as a span.
    for func in ["xfs_iomap_write_unwritten", "shrink_folio_list", "__iomap_write_begin"] {
        assert!(slices.iter().any(|s| s["name"] == func), "no {func} slice");
    }
    assert!(slices.iter().any(|s| s["cat"] == "lock" && s["dur"].as_u64().unwrap() > 1), "no lock held as a span");
    assert_slices_nest(&slices);

    // The finding: a global instant, last, named by the verdict class.
    let last = events.last().unwrap();
    assert_eq!(last["ph"], "i", "{last}");
    assert_eq!(last["s"], "g");
    assert_eq!(last["name"], "zeroed-data");
    assert!(last["args"]["summary"].as_str().unwrap().contains("zeroed-data"));
    let max_ts = events.iter().filter(|e| e["ph"] != "M").map(|e| e["ts"].as_u64().unwrap()).max().unwrap();
    assert_eq!(last["ts"].as_u64(), Some(max_ts));
}

#[test]
fn a_chrome_trace_file_that_cannot_be_written_is_refused_before_replaying() {
    let dir = tmp("bad-trace");
    let missing = dir.join("no/such/dir/trace.json");
    let token = "iomc2:not-checked-before-the-flags";
    for (file, says) in [
        (dir.to_str().unwrap(), "is a directory"),
        (missing.to_str().unwrap(), "no such directory"),
        ("", "an empty path"),
    ] {
        let o = iomc(&["replay", token, "--chrome-trace", file]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{file:?}: {err}");
        assert!(err.contains("--chrome-trace") && err.contains(says), "{file:?}: {err}");
    }
}

#[test]
fn rust_log_debug_shows_spans_per_check_phase_and_bound_and_leaves_stdout_alone() {
    let found = tmp("rust-log");
    let found = found.to_str().unwrap();
    let args = [
        "check",
        LORE,
        "--variant",
        "linux-6.1",
        "--variant",
        "linux-6.2",
        "--preemption-bound",
        "1",
        "--found-dir",
        found,
    ];
    let plain = iomc(&args);
    let logged = iomc_env(&[("RUST_LOG", "debug")], &args);
    let (plain_out, plain_err) = text(&plain);
    let (out, err) = text(&logged);
    assert_eq!(plain.status.code(), Some(0), "{plain_out}{plain_err}");
    assert_eq!(logged.status.code(), Some(0), "{out}{err}");
    assert_eq!(without_times(&out), without_times(&plain_out), "stdout changed under RUST_LOG=debug");
    assert!(!plain_err.contains("DEBUG") && !plain_err.contains("check{"), "{plain_err}");
    for needle in [
        "check{scenario=lore-2022-08-17-unwritten preset=linux-6.1",
        "check{scenario=lore-2022-08-17-unwritten preset=linux-6.2",
        "phase{kind=pct}",
        "phase{kind=loom}",
        "bound{bound=0}",
        "bound{bound=1}",
        "phase end",
        "bound end",
        "check end",
        "executions=",
        "rate=",
        "stop=exhausted",
        "stop=found",
        "stop=iteration-limit",
    ] {
        assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
    }
    // loom's and shuttle's own per-step tracing stays off unless RUST_LOG names them.
    assert!(!err.contains("~~~~~~~~ THREAD") && !err.contains("iter{"), "{err}");

    // -v shows the same spans.
    let mut v = vec!["-v"];
    v.extend(args);
    let (vout, verr) = text(&iomc(&v));
    assert_eq!(without_times(&vout), without_times(&plain_out));
    assert!(verr.contains("phase{kind=loom}:bound{bound=1}") && verr.contains("bound end"), "{verr}");
}

#[test]
fn an_invalid_rust_log_is_bad_input_naming_it() {
    for (value, args) in [
        ("iomc=loud", &["list"][..]),
        ("[", &["check", LORE, "--variant", "linux-6.1"][..]),
        ("debug,=", &["replay", "x"][..]),
    ] {
        let o = iomc_env(&[("RUST_LOG", value)], args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "RUST_LOG={value}: {out}{err}");
        assert!(err.contains("RUST_LOG") && err.contains("not a valid filter"), "RUST_LOG={value}: {err}");
        assert!(out.is_empty(), "nothing runs: {out}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A valid one runs.
    let o = iomc_env(&[("RUST_LOG", "iomc_explore=debug,warn")], &["list"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}

#[test]
fn quiet_silences_progress_and_notes_but_not_errors() {
    // Without -q these print on stderr: a note for SHUTTLE_RANDOM_SEED, matrix's result lines.
    let (_, err) = text(&iomc_env(&[("SHUTTLE_RANDOM_SEED", "7")], &["list"]));
    assert!(err.contains("note: SHUTTLE_RANDOM_SEED=7"), "{err}");
    let (_, err) = text(&iomc(&["matrix", "scenarios/generic-346-f2.toml"]));
    assert!(err.contains("ok generic-346-f2"), "{err}");

    let o = iomc_env(&[("SHUTTLE_RANDOM_SEED", "7")], &["-q", "list"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(text(&o).1, "", "-q list");
    let o = iomc(&["matrix", "scenarios/generic-346-f2.toml", "--quiet"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("generic-346-f2"), "the table is still printed: {out}");
    assert_eq!(err, "", "-q matrix");
    // A search long enough for progress lines (one a second) prints none with -q.
    let o = iomc(&["-q", "check", LORE, "--variant", "linux-6.2", "--backend", "pct", "--iterations", "30000"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert_eq!(err, "", "-q check");
    // Errors still print.
    let o = iomc(&["-q", "check", "scenarios/no-such-file.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("error"), "{:?}", text(&o));
    // -q and -v together are refused.
    assert_eq!(iomc(&["-q", "-v", "list"]).status.code(), Some(2));
}
