//! The `iomc` binary as a user runs it: exit statuses, error locations, replay, JSON, JUnit.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn iomc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iomc")).args(args).current_dir(root()).output().expect("run iomc")
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iomc-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn check_meets_expectations_and_the_printed_replay_reproduces() {
    let o = iomc(&["check", "scenarios/lore-2022-08-17-unwritten.toml", "--variant", "linux-6.1"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("zeroed-data (expected zeroed-data)"), "{out}");
    for step in ["xfs_iomap_write_unwritten", "shrink_folio_list", "__iomap_write_begin", "zeroes [10240, 12288)"] {
        assert!(out.contains(step), "timeline lacks {step}: {out}");
    }
    let token = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("iomc replay '"))
        .expect("replay command")
        .trim_end_matches('\'');
    let o = iomc(&["replay", token]);
    let (rout, rerr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{rout}{rerr}");
    assert!(rout.contains("zeroes [10240, 12288)"), "{rout}");
}

#[test]
fn undoing_the_fix_is_a_mismatch_with_exit_1() {
    let o = iomc(&[
        "check",
        "scenarios/lore-2022-08-17-unwritten.toml",
        "--variant",
        "linux-6.2",
        "--set",
        "iomap_valid=off",
    ]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL") && out.contains("zeroed-data (expected pass)"), "{out}");
}

/// A one-thread scenario whose only op is `op` (offset 0, length 1, fill 1), expecting `pass`
/// under the `[expect]` key `key`; the op is on line 10, the key on line 12.
fn one_op_scenario(op: &str, key: &str) -> String {
    format!(
        "name = \"bad\"\nsummary = \"s\"\nsource = \"s\"\n[geometry]\nblock_size = 4096\npage_size = 4096\nfolio_pages = [1]\n\
         [[thread]]\nname = \"w\"\nops = [ {{ op = \"{op}\", offset = 0, length = 1, fill = 1 }} ]\n[expect]\n\"{key}\" = \"pass\"\n"
    )
}

#[test]
fn bad_scenario_is_exit_2_with_file_line_and_column() {
    let d = tmp("bad");
    let f = d.join("bad.toml");
    std::fs::write(&f, one_op_scenario("pwrit", "linux-6.1")).unwrap();
    let o = iomc(&["check", f.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("bad.toml:10:") && err.contains("unknown op \"pwrit\""), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// An `[expect]` key with a knob the model does not have is bad input at that key.
#[test]
fn unknown_knob_in_expect_is_exit_2_at_the_key() {
    let d = tmp("badknob");
    let f = d.join("badknob.toml");
    std::fs::write(&f, one_op_scenario("pwrite", "linux-6.2 nosuch=on")).unwrap();
    let o = iomc(&["check", f.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("badknob.toml:12:1:") && err.contains("unknown knob \"nosuch\""), "{err}");
}

#[test]
fn bad_flags_and_tokens_are_exit_2() {
    // Flag errors name the flag, before any scenario is read (not "in the first file").
    let o = iomc(&["check", "scenarios/", "--set", "nosuch=on"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o).1;
    assert!(err.contains("'--set <SETS>'") && err.contains("unknown knob"), "{err}");
    assert!(!err.contains(".toml"), "{err}");
    let o = iomc(&["check", "scenarios/", "--variant", "linux-9.9"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o).1;
    assert!(err.contains("'--variant <VARIANTS>'") && err.contains("unknown preset \"linux-9.9\""), "{err}");
    assert!(!err.contains(".toml"), "{err}");
    let o = iomc(&["check", "scenarios/", "--variant", "linux-6.2 nosuch=on"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("'--variant <VARIANTS>'"), "{}", text(&o).1);
    let o = iomc(&["replay", "not-a-token"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("not a replay token"));
}

#[test]
fn too_many_threads_for_loom_is_exit_2_and_names_the_way_out() {
    let d = tmp("threads");
    let f = d.join("five.toml");
    let threads: String =
        (0..5).map(|i| format!("[[thread]]\nname = \"r{i}\"\nops = [ {{ op = \"reclaim\" }} ]\n")).collect();
    let text_ = format!(
        "name = \"five\"\nsummary = \"s\"\nsource = \"s\"\n[geometry]\nblock_size = 4096\npage_size = 4096\nfolio_pages = [1]\n{threads}[expect]\n\"linux-6.1\" = \"pass\"\n"
    );
    std::fs::write(&f, text_).unwrap();
    let o = iomc(&["check", f.to_str().unwrap()]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("at most 5 threads") && err.contains("--backend"), "{err}");
    let o = iomc(&["check", f.to_str().unwrap(), "--backend", "random", "--iterations", "50"]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
}

#[test]
fn json_carries_the_same_report() {
    let o = iomc(&["check", "scenarios/generic-346-f2.toml", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    // linux-5.0, linux-6.1, stale-check-only, and "linux-6.2.." (6.2, 6.3, 6.6, 6.12, 6.13,
    // 6.18).
    assert_eq!(v["total"], 9);
    assert_eq!(v["matched"], 9);
    let first = &v["checks"][0];
    assert_eq!(first["got"], "invariant:dirty-over-hole");
    let events = first["violation"]["events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["function"] == "xfs_bmap_del_extent_delay"));
    assert!(first["token"].as_str().unwrap().starts_with("iomc2:"));
}

#[test]
fn matrix_writes_junit_that_a_junit_parser_accepts() {
    let d = tmp("junit");
    let out = d.join("sub/junit.xml");
    let o =
        iomc(&["matrix", "scenarios/generic-346-f2.toml", "scenarios/xfs-196.toml", "--junit", out.to_str().unwrap()]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("18 of 18 checks met their expectation"), "{stdout}");
    let parsed =
        junit_parser::from_reader(std::io::BufReader::new(std::fs::File::open(&out).unwrap())).expect("JUnit parses");
    assert_eq!(parsed.tests, 18);
    assert_eq!(parsed.failures, 0);
    assert_eq!(parsed.suites.len(), 2);
    let names: Vec<&str> = parsed.suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["generic-346-f2", "xfs-196"]);
    // Written atomically: the file and nothing else (no temporary left beside it).
    let left: Vec<String> = std::fs::read_dir(d.join("sub"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["junit.xml"], "{left:?}");
}

#[test]
fn matrix_reports_a_mismatch_as_a_junit_failure() {
    let d = tmp("junit-fail");
    let out = d.join("junit.xml");
    let o = iomc(&["matrix", "scenarios/xfs-559.toml", "--set", "iomap_valid=off", "--junit", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let parsed = junit_parser::from_reader(std::io::BufReader::new(std::fs::File::open(&out).unwrap())).unwrap();
    // linux-5.0, linux-6.1 and "linux-6.2 iomap_valid=off" (zeroed-data either way) and the six
    // presets of "linux-6.2..", which all lose the write without the validity check.
    assert_eq!(parsed.tests, 9);
    assert_eq!(parsed.failures, 6);
}

#[test]
fn list_shows_scenarios_ops_presets_knobs_mutations_and_verdicts() {
    let o = iomc(&["list"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(0));
    for want in [
        "lore-2022-08-17-unwritten",
        "ML:20220817093627.GZ3600936@dread.disaster.area",
        "stale-check-only",
        "iomap_valid=off",
        "\nops (",
        "\nmutations (",
        "\nverdicts (",
        "\ninvariants (",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    // Every op, mutation, verdict class and invariant by name, each on a line of its own.
    let names = iomc_scenario::OPS.iter().map(|o| o.name);
    let names = names.chain(iomc_models::MUTATIONS.iter().map(|m| m.1));
    let names = names.chain(iomc_scenario::verdicts::VERDICTS.iter().map(|c| c.name));
    let names = names.chain(iomc_scenario::verdicts::INVARIANTS.iter().map(|c| c.name));
    for name in names {
        assert!(out.lines().any(|l| l.trim_start().starts_with(name)), "{name} is not listed");
    }
}

#[test]
fn shards_split_the_checks_and_bad_shards_are_exit_2() {
    let count = |args: &[&str]| {
        let o = iomc(args);
        assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
        let (out, _) = text(&o);
        let line = out.lines().find(|l| l.contains("checks met their expectation")).unwrap().to_string();
        line.split_whitespace().nth(2).unwrap().parse::<usize>().unwrap()
    };
    let files = ["scenarios/generic-346-f2.toml", "scenarios/xfs-196.toml"];
    let all = count(&["matrix", files[0], files[1]]);
    let one = count(&["matrix", files[0], files[1], "--shard", "1/2"]);
    let two = count(&["matrix", files[0], files[1], "--shard", "2/2"]);
    assert_eq!(one + two, all);
    assert!(one > 0 && two > 0);
    let o = iomc(&["check", files[1], "--shard", "3/2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("1 <= K <= N"));
}

/// The default backend says which phase found a violation, `--backend loom` keeps the old
/// statement about bounds, and both print a token that replays.
#[test]
fn default_and_loom_backends_say_how_they_found_it() {
    let file = "scenarios/lore-2022-08-17-unwritten.toml";
    let found = tmp("phases");
    let found = found.to_str().unwrap();
    for (backend, says) in [
        ("default", "of the PCT phase (depth 3)"),
        ("loom", "of loom bound 2: at most 2 preemptions; bound 1 was explored without"),
    ] {
        let o = iomc(&["check", file, "--variant", "linux-6.1", "--backend", backend, "--found-dir", found]);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(0), "{backend}: {out}{err}");
        assert!(out.replace("\n     ", " ").contains(says), "{backend}: {out}");
        let token = out.lines().find_map(|l| l.trim().strip_prefix("iomc replay '")).unwrap().trim_end_matches('\'');
        let r = iomc(&["replay", token, "--brief"]);
        assert_eq!(r.status.code(), Some(0), "{backend} replay: {}", text(&r).0);
    }
    let o = iomc(&["check", file, "--variant", "linux-6.2", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("valid JSON");
    assert_eq!(v["checks"][0]["strategy"]["kind"], "pct+loom", "{v}");
    assert_eq!(v["checks"][0]["pct_executions"], 1000, "{v}");
}

/// A class met while searching for another gets its own replay token, and that token replays
/// an execution of that class: the lore scenario expecting `lost-write` on 6.1 (which it never
/// shows) meets zeroed-data on the way.
#[test]
fn classes_seen_while_searching_get_tokens_that_replay() {
    let d = tmp("also-seen");
    let text_in = std::fs::read_to_string(root().join("scenarios/lore-2022-08-17-unwritten.toml")).unwrap();
    let start = text_in.find("[expect]").unwrap();
    // The [expect] table runs to the next table or the end of the file.
    let end = text_in[start + 1..].find("\n[").map_or(text_in.len(), |i| start + 2 + i);
    let changed = format!("{}[expect]\n\"linux-6.1\" = \"lost-write\"\n\n{}", &text_in[..start], &text_in[end..]);
    let file = d.join("lore-expecting-lost-write.toml");
    std::fs::write(&file, changed).unwrap();
    let o = iomc(&["check", file.to_str().unwrap(), "--found-dir", d.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("zeroed-data (expected lost-write)"), "{out}");
    let seen = out.lines().position(|l| l.contains("also seen while searching: zeroed-data")).expect(&out);
    let token = out
        .lines()
        .skip(seen)
        .find_map(|l| l.trim().strip_prefix("iomc replay '"))
        .expect("a replay command for the class seen")
        .trim_end_matches('\'');
    assert!(token.contains(":zeroed-data:"), "{token}");
    let o = iomc(&["replay", token]);
    let (rout, rerr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{rout}{rerr}");
    assert!(rout.contains("zeroes [10240, 12288)"), "{rout}");
}

/// `--trace` on a pass shows one execution with every event and the oracle's word on it.
#[test]
fn trace_on_a_pass_shows_one_execution() {
    let args =
        ["check", "scenarios/lore-2022-08-17-unwritten.toml", "--variant", "linux-6.2", "--preemption-bound", "1"];
    let o = iomc(&[&args[..], &["--trace"]].concat());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("one execution of it (--trace"), "{out}");
    for step in ["take IOLOCK (excl)", "xfs_iomap_valid", "=> no violation in this execution"] {
        assert!(out.contains(step), "{step}: {out}");
    }
    // Without --trace a pass is one line.
    let (plain, _) = text(&iomc(&args));
    assert!(!plain.contains("one execution of it"), "{plain}");
}

/// `--variant` naming a preset the file's `[expect]` does not: the verdict is shown, marked as
/// not judged, and is no failure (zoned XFS on 6.6: the kernel has no zoned XFS).
#[test]
fn a_preset_without_an_expectation_is_shown_not_judged() {
    let o = iomc(&["check", "scenarios/zoned-zero-hole.toml", "--variant", "linux-6.6", "--variant", "linux-6.13"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("-- zoned-zero-hole [linux-6.6]: unsupported (not judged: the preset is not in [expect])"),
        "{out}"
    );
    assert!(out.contains("ok zoned-zero-hole [linux-6.13]: unsupported (expected unsupported)"), "{out}");
    assert!(
        out.contains("1 of 1 checks met their expectation (1 more for presets their [expect] does not name)"),
        "{out}"
    );
}

/// Every loom pass is in the JSON with the estimate made before it ran: none for the first
/// passes (too little history: bound 0's single execution is no base), one from bound 3 on,
/// and the passes add up to the loom phase.
#[test]
fn json_reports_each_loom_pass_with_its_estimate() {
    let o = iomc(&[
        "check",
        "scenarios/lore-2022-08-17-unwritten.toml",
        "--variant",
        "linux-6.2",
        "--preemption-bound",
        "3",
        "--format",
        "json",
    ]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let check = &v["checks"][0];
    let passes = check["passes"].as_array().expect("passes");
    let bounds: Vec<u64> = passes.iter().map(|p| p["bound"].as_u64().unwrap()).collect();
    assert_eq!(bounds, [0, 1, 2, 3]);
    assert!(passes[..3].iter().all(|p| p["estimated_executions"].is_null()), "{passes:?}");
    let est = passes[3]["estimated_executions"].as_u64().expect("bound 3 is estimated from bounds 1 and 2");
    assert!(est >= passes[2]["executions"].as_u64().unwrap(), "{passes:?}");
    let loom: u64 = passes.iter().map(|p| p["executions"].as_u64().unwrap()).sum();
    let total = check["executions"].as_u64().unwrap() - check["pct_executions"].as_u64().unwrap();
    assert_eq!(loom, total, "{check}");
}
