//! `iomc matrix`: every scenario x every preset its expectations name, as a table and as JUnit
//! XML for CI systems.

use crate::render::wrapped;
use crate::{render, CheckResult, Outcome};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::fmt::Write;

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

/// JUnit XML (written by quick-junit): one `<testsuite>` per scenario, one `<testcase>` per
/// preset; a verdict that does not match is a `<failure>`, an incomplete or failed search an
/// `<error>`. Every test case carries the full text report as its `<system-out>`.
pub fn junit(results: &[CheckResult]) -> Result<String, String> {
    let mut suites: Vec<(&str, Vec<&CheckResult>)> = Vec::new();
    for r in results {
        let name = r.prepared.scenario.name.as_str();
        match suites.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push(r),
            None => suites.push((name, vec![r])),
        }
    }
    let mut report = Report::new("iomc");
    report.set_time(results.iter().map(|r| r.report.elapsed).sum());
    for (name, rs) in &suites {
        let mut suite = TestSuite::new(*name);
        suite.set_time(rs.iter().map(|r| r.report.elapsed).sum());
        for r in rs {
            let text = render::full_report(r, false);
            let status = match &r.outcome {
                Outcome::Verdict(_) if r.matches() => TestCaseStatus::success(),
                Outcome::Verdict(v) => {
                    let exp = r.expected.as_ref().map(|e| e.to_string()).unwrap_or_else(|| "pass".into());
                    let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    st.set_message(format!("expected {exp}, got {v}"))
                        .set_type("verdict-mismatch")
                        .set_description(text.as_str());
                    st
                }
                Outcome::Incomplete(why) | Outcome::Error(why) => {
                    let mut st = TestCaseStatus::non_success(NonSuccessKind::Error);
                    st.set_message(why.as_str()).set_type(r.outcome.label()).set_description(text.as_str());
                    st
                }
            };
            let mut case = TestCase::new(r.prepared.preset.as_str(), status);
            case.set_classname(format!("iomc.{name}")).set_time(r.report.elapsed).set_system_out(text);
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().map_err(|e| format!("cannot serialise the JUnit report: {e}"))
}
