//! The other commands: replay, mutants, fuzz, list, conform.

use crate::args::Format;
use crate::checks::load;
use crate::diag::{self, progress};
use crate::files;
use crate::{conform, EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_MISMATCH, EXIT_OK, INTERRUPTED};
use iomc_explore::{Budget, Progress};
use iomc_harness::{fuzz, json, mutants, preflight, render, token, Prepared};
use iomc_models::{Behaviour, PRESETS};
use iomc_scenario::Scenario;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub(crate) fn cmd_replay(tok: &str, brief: bool, format: Format, scenario: Option<&Path>, chrome: Option<&Path>) -> u8 {
    let t = match token::decode(tok) {
        Ok(t) => t,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let path = match token::resolve(&t, scenario) {
        Ok(p) => p,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let s = match Scenario::load(&path, &Behaviour::preset_names()) {
        Ok(s) => s,
        Err(e) => {
            errln!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    if s.content_hash != t.hash {
        errln!(
            "error: {} has changed since the token was made (content hash {:016x}, token {:016x}); \
             the schedule does not apply to it",
            path.display(),
            s.content_hash,
            t.hash
        );
        return EXIT_BAD_INPUT;
    }
    let p = match Prepared::new(Arc::new(s), &t.preset, &t.overrides) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Err(e) = preflight(&p, &t.strategy) {
        errln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    let budget = Budget { cancel: Some(&INTERRUPTED), ..Budget::default() };
    // The search that made the token looked for its class (other classes went by uncounted),
    // so the replay does too.
    let target = t.expect.as_ref().map(|e| e.verdict.clone()).filter(|v| *v != iomc_scenario::Verdict::Pass);
    let r = iomc_harness::replay(p, &t.strategy, budget, target);
    let verified = token::verify(&t, &r);
    match format {
        // A violation that is not the token's is not shown as if it were.
        Format::Text if verified.is_ok() => out!("{}", render::full_report(&r, !brief)),
        Format::Text => {}
        Format::Json => out!("{}", json::run(std::slice::from_ref(&r))),
    }
    match verified {
        Ok(()) => match chrome.map(|path| (path, files::write_chrome_trace(&r, path))) {
            Some((_, Err(e))) => {
                errln!("error: --chrome-trace: {e}");
                EXIT_BAD_INPUT
            }
            Some((path, Ok(()))) => {
                tracing::info!("Chrome trace written to {} (open it in https://ui.perfetto.dev)", path.display());
                EXIT_OK
            }
            None => EXIT_OK,
        },
        Err(_) if INTERRUPTED.load(Ordering::Relaxed) => {
            errln!("interrupted: the replay did not finish");
            EXIT_INCOMPLETE
        }
        Err(why) => {
            errln!("{why}");
            EXIT_MISMATCH
        }
    }
}

pub(crate) fn cmd_mutants(paths: &[PathBuf], only: &[String]) -> u8 {
    let scenarios = match load(paths) {
        Ok(s) => s.into_iter().map(Arc::new).collect::<Vec<_>>(),
        Err(errs) => {
            for e in errs {
                errln!("{e}");
            }
            return EXIT_BAD_INPUT;
        }
    };
    let budget = Budget { cancel: Some(&INTERRUPTED), ..Budget::default() };
    if !diag::quiet() {
        errln!(
            "undoing one fix (on the preset that has it) or one model step (on {}) at a time; unmutated baselines first",
            mutants::BASE
        );
    }
    let rows = mutants::run(&scenarios, only, budget, |r| {
        let what = match &r.caught_by {
            Some((s, _, got)) => format!("caught by {s} ({got})"),
            None => "SURVIVED".into(),
        };
        if !diag::quiet() {
            errln!("  {}: {what}", r.set);
        }
    });
    out!("{}", mutants::table(&rows));
    if INTERRUPTED.load(Ordering::Relaxed) {
        errln!("interrupted: the table is incomplete");
        return EXIT_INCOMPLETE;
    }
    let unexplained = rows.iter().any(|r| r.caught_by.is_none() && !mutants::ARGUED.iter().any(|(m, _)| *m == r.set));
    if unexplained {
        EXIT_MISMATCH
    } else {
        EXIT_OK
    }
}

pub(crate) fn cmd_fuzz(cfg: &fuzz::FuzzConfig) -> u8 {
    let (f, bar) = progress(&format!("fuzz {}", cfg.preset));
    let start = std::time::Instant::now();
    let report = fuzz::fuzz(cfg, |n| {
        f(Progress {
            executions: u64::from(n),
            elapsed: start.elapsed(),
            bound: None,
            pass_executions: None,
            estimate: None,
        });
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    match report {
        Err(e) => {
            errln!("error: {e}");
            EXIT_BAD_INPUT
        }
        Ok(r) => match r.counterexample {
            // Never a pass that rests on nothing (the flags refuse 0 cases; this is the backstop).
            None if r.passed == 0 => {
                errln!("no generated scenario was checked: nothing is proven");
                EXIT_INCOMPLETE
            }
            None => {
                outln!(
                    "{} generated scenarios on {}: no violation ({} PCT depth-3 executions each, seed {}) in {:.1?}",
                    r.passed,
                    cfg.preset,
                    cfg.iterations,
                    cfg.seed,
                    start.elapsed()
                );
                EXIT_OK
            }
            Some(cx) => {
                outln!("counterexample on {} after {} clean scenarios, shrunk:", cfg.preset, r.passed);
                out!("{}", render::full_report(&cx.result, false));
                if let Some((path, tok)) = &cx.written {
                    outln!("written to {} (check it with: iomc check {})", path.display(), path.display());
                    outln!("replay: iomc replay '{tok}'");
                }
                EXIT_MISMATCH
            }
        },
    }
}

pub(crate) fn cmd_list(paths: &[PathBuf]) -> u8 {
    let scenarios = match load(paths) {
        Ok(s) => s,
        Err(errs) => {
            for e in errs {
                errln!("{e}");
            }
            return EXIT_BAD_INPUT;
        }
    };
    outln!("scenarios:");
    for s in &scenarios {
        let exp: Vec<String> = s.expect.iter().map(|(p, v, _)| format!("{p}={v}")).collect();
        outln!("  {}  ({})", s.name, s.file);
        out!("{}", render::wrapped(&s.summary, 4));
        out!("{}", render::wrapped(&format!("source: {}", s.source), 4));
        out!("{}", render::wrapped(&format!("expect: {}", exp.join(", ")), 4));
    }
    outln!("ops (docs/scenario-format.md):");
    for op in iomc_scenario::OPS {
        let ranged = |a: &&iomc_scenario::ops::ArgSpec| op.range_optional && matches!(a.name, "offset" | "length");
        let range: Vec<&str> = op.args.iter().filter(ranged).map(|a| a.name).collect();
        let mut args: Vec<String> = Vec::new();
        if !range.is_empty() {
            args.push(format!("[{}]", range.join(", ")));
        }
        for a in op.args.iter().filter(|a| !ranged(a)) {
            args.push(if a.optional { format!("[{}]", a.name) } else { a.name.to_string() });
        }
        let args = args.join(", ");
        outln!("  {:<12} {{{args}}}", op.name);
        out!("{}", render::wrapped(op.summary, 4));
        out!("{}", render::wrapped(&format!("model: {}", op.kernel), 4));
        out!("{}", render::wrapped(&format!("real kernel: {}", op.real), 4));
    }
    outln!("presets:");
    for p in PRESETS {
        outln!("  {}", p.name);
        out!("{}", render::wrapped(p.summary, 4));
        let knobs: Vec<String> = p.behaviour.describe().into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        out!("{}", render::wrapped(&knobs.join(" "), 4));
    }
    outln!("knobs (override with --set knob=value):");
    for (k, d) in iomc_models::KNOBS {
        outln!("  {k:<24} {d}");
    }
    outln!("mutations (--set mutation=<name>; iomc mutants runs each against the scenarios):");
    for (_, name, what) in iomc_models::behaviour::MUTATIONS {
        outln!("  {name:<30} {what}");
    }
    outln!("verdicts ([expect] values; docs/scenario-format.md):");
    for c in iomc_scenario::verdicts::VERDICTS {
        outln!("  {}", c.name);
        out!("{}", render::wrapped(c.meaning, 4));
    }
    outln!("invariants (invariant:<name>):");
    for c in iomc_scenario::verdicts::INVARIANTS {
        outln!("  {}", c.name);
        out!("{}", render::wrapped(c.meaning, 4));
    }
    EXIT_OK
}

pub(crate) fn cmd_conform(paths: &[PathBuf], mut args: conform::ConformArgs, generate: Option<u32>) -> u8 {
    if let Err(missing) = iomc_realfs::preflight() {
        errln!("error: cannot run on the real kernel: {missing}");
        return EXIT_BAD_INPUT;
    }
    let (preset, why) = match conform::reference_preset(args.preset.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            errln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Some(mut b) = Behaviour::preset(&preset) {
        for o in &args.sets {
            if let Err(e) = b.set(o) {
                errln!("error: --set: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    outln!("{why}");
    let mut mounts = conform::Mounts::new(args.mount.clone());
    let code = match generate {
        Some(n) => conform::generated(&args, &mut mounts, n),
        None => {
            args.scenarios = match load(paths) {
                Ok(s) => s,
                Err(errs) => {
                    for e in errs {
                        errln!("{e}");
                    }
                    mounts.unmount_all();
                    return EXIT_BAD_INPUT;
                }
            };
            conform::run(&mut args, &mut mounts)
        }
    };
    mounts.unmount_all();
    code
}
