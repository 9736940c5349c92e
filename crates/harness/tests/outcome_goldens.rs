//! Issue 17's "a reduction must not lose behaviour" check: the set of distinct final outcomes
//! ([`outcome_set`]: every op's result, the page-cache view and the durable view) of each
//! shipped scenario small enough, under loom at a fixed preemption bound, must equal the set
//! recorded in `tests/outcomes/<scenario>-<preset>-b<bound>.txt` from the model before the
//! scheduling-point reductions.
//!
//! `REGENERATE=1 cargo test --release -p iomc-harness --test outcome_goldens -- --ignored`
//! rewrites the files from the current model (each scenario × preset whose set completes within
//! [`REGEN_BUDGET`]); the normal run compares every file present. Lines starting with `#` are
//! informational (executions, violations, time) and not compared: executions are what the
//! reductions change.

use iomc_explore::Budget;
use iomc_harness::observe::outcome_set;
use iomc_harness::Prepared;
use iomc_models::Behaviour;
use iomc_scenario::observe::{OpResult, RunOutcome};
use iomc_scenario::Scenario;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Wall-clock budget per scenario × preset × bound when regenerating; a set that does not
/// complete within it gets no golden file.
const REGEN_BUDGET: Duration = Duration::from_secs(20);
/// Bound 3 is recorded too where bound 2 took at most this long.
const CHEAP_B2: Duration = Duration::from_millis(300);
/// The presets recorded: the last with the 2022 race and the newest.
const PRESETS: [&str; 2] = ["linux-6.1", "linux-6.18"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(name: &str) -> Arc<Scenario> {
    let path = root().join("scenarios").join(format!("{name}.toml"));
    Arc::new(Scenario::load(&path, &Behaviour::preset_names()).unwrap_or_else(|e| panic!("{e}")))
}

/// Run-length text of bytes: `41x2048 00x2048`.
fn rle(data: &[u8]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        let n = data[i..].iter().take_while(|x| **x == b).count();
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}x{n}");
        i += n;
    }
    if out.is_empty() {
        out.push('-');
    }
    out
}

fn op(r: &OpResult) -> String {
    if r.data.is_empty() {
        format!("{}", r.ret)
    } else {
        format!("{}[{}]", r.ret, rle(&r.data))
    }
}

/// One outcome per line, in the set's (BTreeSet) order: deterministic.
fn render(outcomes: &std::collections::BTreeSet<RunOutcome>) -> Vec<String> {
    outcomes
        .iter()
        .map(|o| {
            let results: Vec<String> =
                o.results.iter().map(|t| t.iter().map(op).collect::<Vec<_>>().join(",")).collect();
            format!(
                "results=({}) size={} cache=({}) durable=({})",
                results.join(" | "),
                o.views.size,
                rle(&o.views.cache),
                rle(&o.views.durable)
            )
        })
        .collect()
}

fn golden_dir() -> PathBuf {
    root().join("tests/outcomes")
}

/// `(scenario, preset, bound)` from `<scenario>-<preset>-b<bound>.txt`.
fn parse_name(file: &Path) -> (String, String, u32) {
    let stem = file.file_stem().unwrap().to_str().unwrap();
    let (rest, bound) = stem.rsplit_once("-b").unwrap();
    let at = rest.find("-linux-").unwrap();
    (rest[..at].to_string(), rest[at + 1..].to_string(), bound.parse().unwrap())
}

fn golden_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "txt")).collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Every golden file: the current model's outcome set is the recorded one, exactly.
#[test]
fn outcome_sets_match_the_goldens() {
    let files = golden_files();
    assert!(!files.is_empty(), "no golden files in {}", golden_dir().display());
    let mut failures = Vec::new();
    for file in files {
        let (name, preset, bound) = parse_name(&file);
        let text = std::fs::read_to_string(&file).unwrap();
        let want: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        let p = Prepared::new(load(&name), &preset, &[]).unwrap();
        let set = outcome_set(&p, bound, Budget::default()).unwrap();
        println!("{name} {preset} b{bound}: {} executions, {:?}", set.executions, set.elapsed);
        assert!(set.complete, "{name} {preset} b{bound}: {:?}", set.stop);
        let got = render(&set.outcomes);
        if got != want {
            let missing: Vec<&&str> = want.iter().filter(|l| !got.iter().any(|g| g == *l)).collect();
            let extra: Vec<&String> = got.iter().filter(|g| !want.contains(&g.as_str())).collect();
            failures.push(format!("{}: missing {missing:#?}, extra {extra:#?}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Rewrite the golden files from the current model (REGENERATE=1 and `--ignored`).
#[test]
#[ignore]
fn regenerate_outcome_goldens() {
    if std::env::var("REGENERATE").as_deref() != Ok("1") {
        println!("set REGENERATE=1 to rewrite the golden files");
        return;
    }
    std::fs::create_dir_all(golden_dir()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.path().file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .collect();
    names.sort();
    for name in names {
        let s = load(&name);
        for preset in PRESETS {
            let Ok(p) = Prepared::new(s.clone(), preset, &[]) else { continue };
            for bound in [2, 3] {
                let budget = Budget { wall: Some(REGEN_BUDGET), ..Budget::default() };
                let set = match outcome_set(&p, bound, budget) {
                    Ok(set) => set,
                    Err(e) => {
                        println!("{name} {preset}: {e}");
                        break;
                    }
                };
                println!(
                    "{name} {preset} b{bound}: {} executions, {:?}, complete {}",
                    set.executions, set.elapsed, set.complete
                );
                if !set.complete {
                    break;
                }
                let mut text = format!(
                    "# {name} on {preset}, loom bound {bound}: {} executions, {} with a violation, {} outcomes\n",
                    set.executions,
                    set.violations,
                    set.outcomes.len()
                );
                for line in render(&set.outcomes) {
                    text += &line;
                    text.push('\n');
                }
                std::fs::write(golden_dir().join(format!("{name}-{preset}-b{bound}.txt")), text).unwrap();
                // Bound 3 only where bound 2 was cheap.
                if set.elapsed > CHEAP_B2 {
                    break;
                }
            }
        }
    }
}
