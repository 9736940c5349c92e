//! `--format json` against its published schema, docs/json/iomc-check-1.schema.json.
//!
//! A small validator for the JSON Schema keywords that schema uses (`type`, `const`, `enum`,
//! `pattern`, `minimum`, `required`, `properties`, `additionalProperties: false`, `items`,
//! `anyOf`, local `$ref`); it refuses any other keyword, so the schema cannot grow a keyword this
//! test would silently ignore. `additionalProperties: false` everywhere makes every field the
//! serializer emits a field the schema names.

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

const KNOWN: &[&str] = &[
    "$schema",
    "$id",
    "$defs",
    "title",
    "description",
    "type",
    "const",
    "enum",
    "pattern",
    "minimum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "anyOf",
    "$ref",
];

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_u64() || v.is_i64(),
        other => panic!("schema uses unknown type {other}"),
    }
}

/// Errors of `v` against `s` (`root` resolves `$ref`), each with its JSON pointer.
fn validate(root: &Value, s: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    let s = s.as_object().expect("a schema is an object");
    for k in s.keys() {
        assert!(KNOWN.contains(&k.as_str()), "schema keyword {k} is not supported by this validator");
    }
    if let Some(r) = s.get("$ref") {
        let r = r.as_str().unwrap();
        let name = r.strip_prefix("#/$defs/").expect("local $ref");
        validate(root, &root["$defs"][name], v, at, errs);
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_ok(t, v),
            Value::Array(ts) => ts.iter().any(|t| type_ok(t.as_str().unwrap(), v)),
            _ => panic!("bad type"),
        };
        if !ok {
            errs.push(format!("{at}: {v} is not of type {t}"));
            return;
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            errs.push(format!("{at}: {v} is not {c}"));
        }
    }
    if let Some(Value::Array(e)) = s.get("enum") {
        if !e.contains(v) {
            errs.push(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    if let (Some(p), Some(text)) = (s.get("pattern"), v.as_str()) {
        let re = regex::Regex::new(p.as_str().unwrap()).expect("pattern compiles");
        if !re.is_match(text) {
            errs.push(format!("{at}: {text:?} does not match {p}"));
        }
    }
    if let (Some(m), Some(n)) = (s.get("minimum"), v.as_f64()) {
        if n < m.as_f64().unwrap() {
            errs.push(format!("{at}: {n} < minimum {m}"));
        }
    }
    if let Some(Value::Array(alts)) = s.get("anyOf") {
        let ok = alts.iter().any(|a| {
            let mut e = Vec::new();
            validate(root, a, v, at, &mut e);
            e.is_empty()
        });
        if !ok {
            errs.push(format!("{at}: {v} matches no alternative of anyOf"));
        }
    }
    if let Some(obj) = v.as_object() {
        if let Some(Value::Array(req)) = s.get("required") {
            for r in req {
                if !obj.contains_key(r.as_str().unwrap()) {
                    errs.push(format!("{at}: missing required field {r}"));
                }
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (k, fv) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(ps) => validate(root, ps, fv, &format!("{at}/{k}"), errs),
                None if s.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errs.push(format!("{at}: field {k} is not in the schema"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(arr)) = (s.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(root, items, x, &format!("{at}/{i}"), errs);
        }
    }
}

fn assert_valid(v: &Value) {
    let s = schema();
    let mut errs = Vec::new();
    validate(&s, &s, v, "", &mut errs);
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
    let s = schema();
    let mut extra = good.clone();
    extra["checks"][0]["debug"] = Value::String("Exhausted".into());
    let mut bad_stop = good.clone();
    bad_stop["checks"][0]["stop"]["reason"] = Value::String("Exhausted".into());
    let mut missing = good.clone();
    missing["checks"][0].as_object_mut().unwrap().remove("token");
    let mut bad_verdict = good;
    bad_verdict["checks"][0]["got"] = Value::String("ZeroedData".into());
    for bad in [extra, bad_stop, missing, bad_verdict] {
        let mut errs = Vec::new();
        validate(&s, &s, &bad, "", &mut errs);
        assert!(!errs.is_empty(), "accepted {bad:#}");
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
