//! `--format json` against its published schema, docs/json/iomc-check-1.schema.json, with the
//! `jsonschema` crate (draft 2020-12). The schema sets `additionalProperties: false` on every
//! object, so every field the serializer emits must be a field the schema names.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn iomc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iomc")).args(args).current_dir(root()).output().expect("run iomc")
}

fn schema() -> Value {
    let text = std::fs::read_to_string(root().join("docs/json/iomc-check-1.schema.json")).expect("schema file");
    serde_json::from_str(&text).expect("schema is JSON")
}

fn validator() -> jsonschema::Validator {
    let s = schema();
    jsonschema::meta::validate(&s).unwrap_or_else(|e| panic!("the schema is not a valid JSON Schema: {e}"));
    jsonschema::draft202012::new(&s).unwrap_or_else(|e| panic!("the schema does not compile: {e}"))
}

/// Every way `v` breaks the schema, one line each.
fn errors(v: &Value) -> Vec<String> {
    validator().iter_errors(v).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

fn assert_valid(v: &Value) {
    let errs = errors(v);
    assert!(errs.is_empty(), "output does not match the schema:\n{}\n{v:#}", errs.join("\n"));
}

fn json_of(args: &[&str], code: i32) -> Value {
    let o = iomc(args);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("stdout is one JSON document")
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let good = json_of(
        &["check", "scenarios/lore-2022-08-17-unwritten.toml", "--variant", "linux-6.1", "--format", "json"],
        0,
    );
    assert_valid(&good);
    let mut extra = good.clone();
    extra["checks"][0]["debug"] = Value::String("Exhausted".into());
    let mut bad_stop = good.clone();
    bad_stop["checks"][0]["stop"]["reason"] = Value::String("Exhausted".into());
    let mut missing = good.clone();
    missing["checks"][0].as_object_mut().unwrap().remove("token");
    let mut bad_verdict = good;
    bad_verdict["checks"][0]["got"] = Value::String("ZeroedData".into());
    for bad in [extra, bad_stop, missing, bad_verdict] {
        assert!(!errors(&bad).is_empty(), "accepted {bad:#}");
    }
}

#[test]
fn a_found_race_and_its_replay_match_the_schema() {
    let v = json_of(
        &["check", "scenarios/lore-2022-08-17-unwritten.toml", "--variant", "linux-6.1", "--format", "json"],
        0,
    );
    assert_valid(&v);
    assert_eq!(v["schema"], "iomc-check/1");
    let c = &v["checks"][0];
    assert_eq!(c["got"], "zeroed-data");
    assert_eq!(c["strategy"]["kind"], "pct+loom");
    assert_eq!(c["stop"]["reason"], "found");
    let events = c["violation"]["events"].as_array().unwrap();
    assert!(!events.is_empty());
    let token = c["token"].as_str().expect("a token");
    let r = json_of(&["replay", token, "--format", "json"], 0);
    assert_valid(&r);
    assert_eq!(r["checks"][0]["violation"]["events"].as_array().unwrap().len(), events.len());
}

#[test]
fn a_pass_a_mismatch_and_an_incomplete_search_match_the_schema() {
    let lore = "scenarios/lore-2022-08-17-unwritten.toml";
    let pass = json_of(&["check", lore, "--variant", "linux-6.2", "--preemption-bound", "1", "--format", "json"], 0);
    assert_valid(&pass);
    assert_eq!(pass["checks"][0]["got"], "pass");
    assert_eq!(pass["checks"][0]["stop"]["reason"], "exhausted");
    assert!(pass["checks"][0]["violation"].is_null());

    let mismatch = json_of(
        &[
            "check",
            lore,
            "--variant",
            "linux-6.2",
            "--set",
            "iomap_valid=off",
            "--backend",
            "random",
            "--iterations",
            "2000",
            "--format",
            "json",
        ],
        1,
    );
    assert_valid(&mismatch);
    assert_eq!(mismatch["checks"][0]["matches"], false);
    assert_eq!(mismatch["checks"][0]["strategy"]["kind"], "random");
    assert_eq!(mismatch["checks"][0]["overrides"][0], "iomap_valid=off");

    let stopped = json_of(
        &["check", lore, "--variant", "linux-6.2", "--backend", "loom", "--time-limit", "0.000001", "--format", "json"],
        3,
    );
    assert_valid(&stopped);
    assert_eq!(stopped["checks"][0]["got"], "incomplete");
    assert!(stopped["checks"][0]["note"].is_string());
}

/// Every property the schema names has a row in docs/json-output.md.
#[test]
fn the_docs_describe_every_field_of_the_schema() {
    fn names(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(props)) = m.get("properties") {
                    out.extend(props.keys().cloned());
                }
                m.values().for_each(|x| names(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| names(x, out)),
            _ => {}
        }
    }
    let doc = std::fs::read_to_string(root().join("docs/json-output.md")).expect("docs/json-output.md");
    let mut all = Vec::new();
    names(&schema(), &mut all);
    assert!(all.len() > 30, "{all:?}");
    for n in all {
        assert!(doc.contains(&format!("| `{n}` |")), "docs/json-output.md has no row for `{n}`");
    }
}
