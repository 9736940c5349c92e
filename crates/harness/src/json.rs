//! `--format json`: the same report as structured data (hand-written JSON, no dependencies).

use crate::render::describe;
use crate::{CheckResult, Outcome};
use std::fmt::Write;

/// A JSON string literal (the scenario writer's quoting, valid JSON as well as TOML).
pub fn string(s: &str) -> String {
    iomc_scenario::quoted(s)
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "null".into())
}

/// One check as a JSON object.
pub fn check(r: &CheckResult) -> String {
    let p = &r.prepared;
    let rep = &r.report;
    let names = &p.actor_names;
    let overrides: Vec<String> = p.overrides.iter().map(|o| string(o)).collect();
    let mut o = String::new();
    let _ = write!(
        o,
        "{{\"scenario\":{},\"file\":{},\"preset\":{},\"overrides\":[{}],\"expected\":{},\"got\":{},\"matches\":{},",
        string(&p.scenario.name),
        string(&p.scenario.file),
        string(&p.preset),
        overrides.join(","),
        opt(r.expected.as_ref().map(|e| string(&e.to_string()))),
        string(&r.outcome.label()),
        r.matches()
    );
    let note = match &r.outcome {
        Outcome::Incomplete(w) | Outcome::Error(w) => string(w),
        Outcome::Verdict(_) => "null".into(),
    };
    let _ = write!(
        o,
        "\"note\":{note},\"strategy\":{},\"stop\":{},\"executions\":{},\"pct_executions\":{},\"bound\":{},\"elapsed_ms\":{:.3},\"token\":{},",
        string(&r.strategy.name()),
        string(&format!("{:?}", rep.stop)),
        rep.executions,
        rep.presearch,
        opt(rep.bound),
        rep.elapsed.as_secs_f64() * 1e3,
        opt(r.token.as_ref().map(|t| string(t)))
    );
    match &rep.found {
        None => o.push_str("\"violation\":null}"),
        Some(f) => {
            let v = &f.finding;
            let detail: Vec<String> = v.detail.iter().map(|d| string(d)).collect();
            let events: Vec<String> = v
                .events
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    format!(
                        "{{\"step\":{},\"actor\":{},\"function\":{},\"what\":{},\"after_threads\":{}}}",
                        i + 1,
                        string(names.get(e.actor as usize).map(String::as_str).unwrap_or("?")),
                        string(e.func),
                        string(&describe(&e.what)),
                        i >= v.events_before_check
                    )
                })
                .collect();
            let _ = write!(
                o,
                "\"violation\":{{\"verdict\":{},\"summary\":{},\"detail\":[{}],\"bound\":{},\"execution\":{},\"events\":[{}]}}}}",
                string(&v.verdict.to_string()),
                string(&v.summary),
                detail.join(","),
                opt(f.bound),
                f.exec,
                events.join(",")
            );
        }
    }
    o
}

/// A whole run: `{"checks": [...], "matched": n, "total": n}`.
pub fn run(results: &[CheckResult]) -> String {
    let checks: Vec<String> = results.iter().map(check).collect();
    let matched = results.iter().filter(|r| r.matches()).count();
    format!("{{\"checks\":[{}],\"matched\":{matched},\"total\":{}}}\n", checks.join(","), results.len())
}
