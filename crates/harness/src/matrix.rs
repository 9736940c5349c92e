//! `iomc matrix`: every scenario x every preset its expectations name, as a table and as JUnit
//! XML for CI systems.

use crate::render::wrapped;
use crate::{render, CheckResult};
use std::fmt::Write;

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters even as references.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// The summary table: scenario, preset, expected, got, executions, time.
pub fn table(results: &[CheckResult]) -> String {
    let mut out = String::new();
    let w = results.iter().map(|r| r.prepared.scenario.name.len()).max().unwrap_or(8).max(8);
    let _ = writeln!(
        out,
        "{:<w$}  {:<16}  {:<25}  {:<25}  {:>10}  {:>9}",
        "scenario", "preset", "expected", "got", "executions", "time"
    );
    for r in results {
        let exp = r.expected.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "-".into());
        let got = if r.matches() { r.outcome.label() } else { format!("{} MISMATCH", r.outcome.label()) };
        let _ = writeln!(
            out,
            "{:<w$}  {:<16}  {:<25}  {:<25}  {:>10}  {:>8.2}s",
            r.prepared.scenario.name,
            r.prepared.preset,
            exp,
            got,
            r.report.executions,
            r.report.elapsed.as_secs_f64()
        );
    }
    let ok = results.iter().filter(|r| r.matches()).count();
    let _ = write!(out, "{}", wrapped(&format!("{ok} of {} checks met their expectation", results.len()), 0));
    out
}

/// JUnit XML: one `<testsuite>` per scenario, one `<testcase>` per preset; a verdict that does
/// not match is a `<failure>`, an incomplete or failed search an `<error>`.
pub fn junit(results: &[CheckResult]) -> String {
    let mut suites: Vec<(&str, Vec<&CheckResult>)> = Vec::new();
    for r in results {
        let name = r.prepared.scenario.name.as_str();
        match suites.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push(r),
            None => suites.push((name, vec![r])),
        }
    }
    let failures = |rs: &[&CheckResult]| {
        rs.iter().filter(|r| !r.matches() && matches!(r.outcome, crate::Outcome::Verdict(_))).count()
    };
    let errors = |rs: &[&CheckResult]| rs.iter().filter(|r| !matches!(r.outcome, crate::Outcome::Verdict(_))).count();
    let time = |rs: &[&CheckResult]| rs.iter().map(|r| r.report.elapsed.as_secs_f64()).sum::<f64>();
    let all: Vec<&CheckResult> = results.iter().collect();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"iomc\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3}\">",
        all.len(),
        failures(&all),
        errors(&all),
        time(&all)
    );
    for (name, rs) in &suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{:.3}\">",
            xml(name),
            rs.len(),
            failures(rs),
            errors(rs),
            time(rs)
        );
        for r in rs {
            let exp = r.expected.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "pass".into());
            let _ = writeln!(
                out,
                "    <testcase classname=\"iomc.{}\" name=\"{}\" time=\"{:.3}\">",
                xml(name),
                xml(&r.prepared.preset),
                r.report.elapsed.as_secs_f64()
            );
            let report = render::full_report(r, false);
            match &r.outcome {
                crate::Outcome::Verdict(_) if r.matches() => {}
                crate::Outcome::Verdict(v) => {
                    let msg = format!("expected {exp}, got {v}");
                    let _ = writeln!(
                        out,
                        "      <failure message=\"{}\" type=\"verdict-mismatch\">{}</failure>",
                        xml(&msg),
                        xml(&report)
                    );
                }
                crate::Outcome::Incomplete(why) | crate::Outcome::Error(why) => {
                    let _ = writeln!(
                        out,
                        "      <error message=\"{}\" type=\"{}\">{}</error>",
                        xml(why),
                        xml(&r.outcome.label()),
                        xml(&report)
                    );
                }
            }
            let _ = writeln!(out, "      <system-out>{}</system-out>", xml(&report));
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
