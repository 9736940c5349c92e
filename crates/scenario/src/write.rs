//! Scenario → TOML text (for scenarios written by `iomc fuzz` and `iomc conform`), built as a
//! `toml_edit` document laid out like the shipped scenario files: top-level keys, a `setup`
//! array with one inline op table a line, `[geometry]`, one `[[thread]]` each, `[expect]`,
//! `[explore]`. The text parses back to the same scenario (round-trip tests guard it).

use crate::ops::{ArgKind, ArgValue};
use crate::{OpKind, Scenario};
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

/// A TOML integer; scenario integers are at most [`crate::MAX_FILE_BYTES`]-sized, but a value
/// built in code may exceed what TOML can hold.
fn int(n: u64, what: &str) -> Result<Value, String> {
    i64::try_from(n)
        .map(Value::from)
        .map_err(|_| format!("{what} = {n} does not fit a TOML integer (at most {})", i64::MAX))
}

impl OpKind {
    /// The op as an inline TOML table, its arguments in the op's documented order; a fill byte
    /// in hex (`0x42`); a false flag (the default) left out.
    pub fn to_inline_table(&self) -> Result<InlineTable, String> {
        let spec = self.spec();
        let args = self.args();
        let mut t = InlineTable::new();
        t.insert("op", Value::from(spec.name));
        for a in spec.args {
            let v = match (a.kind, args.0.iter().find(|(k, _)| *k == a.name).map(|(_, v)| v)) {
                (_, None) | (_, Some(ArgValue::Bool(false))) => continue,
                (ArgKind::Fill, Some(ArgValue::Int(n))) if *n <= 0xff => {
                    format!("{n:#04x}").parse::<Value>().map_err(|e| format!("{} {}: {e}", spec.name, a.name))?
                }
                (_, Some(ArgValue::Int(n))) => int(*n, a.name)?,
                (_, Some(ArgValue::Str(s))) => Value::from(s.as_str()),
                (_, Some(ArgValue::Bool(true))) => Value::from(true),
            };
            t.insert(a.name, v);
        }
        t.fmt();
        Ok(t)
    }

    /// The op as one line of TOML, e.g. `{ op = "pwrite", offset = 0, length = 4096, fill = 0x42 }`
    /// (for messages; an op that cannot be written says why instead).
    pub fn to_toml(&self) -> String {
        match self.to_inline_table() {
            Ok(t) => t.to_string().trim().to_string(),
            Err(e) => format!("{{ op = {:?} }} (cannot be written: {e})", self.spec().name),
        }
    }
}

/// `ops` as a multi-line array, one inline table a line.
fn op_array<'a>(ops: impl Iterator<Item = &'a OpKind>) -> Result<Array, String> {
    let mut arr = Array::new();
    for op in ops {
        let mut v = Value::InlineTable(op.to_inline_table()?);
        v.decor_mut().set_prefix("\n  ");
        v.decor_mut().set_suffix("");
        arr.push_formatted(v);
    }
    arr.set_trailing_comma(true);
    arr.set_trailing("\n");
    Ok(arr)
}

impl Scenario {
    /// The scenario as a scenario file, with `comment` lines (without `#`) at the top. Fails
    /// only for a value TOML cannot hold (an integer above `i64::MAX`).
    pub fn to_toml(&self, comment: &[String]) -> Result<String, String> {
        let mut doc = DocumentMut::new();
        doc.insert("name", Item::Value(self.name.as_str().into()));
        doc.insert("summary", Item::Value(self.summary.as_str().into()));
        doc.insert("source", Item::Value(self.source.as_str().into()));
        if !comment.is_empty() {
            let header: String = comment.iter().map(|c| format!("# {c}\n")).collect();
            if let Some(mut k) = doc.key_mut("name") {
                k.leaf_decor_mut().set_prefix(header);
            }
        }
        let mut setup = Item::Value(Value::Array(op_array(self.setup.iter().map(|o| &o.kind))?));
        if let Some(v) = setup.as_value_mut() {
            v.decor_mut().set_prefix(" ");
        }
        doc.insert("setup", setup);
        if let Some(mut k) = doc.key_mut("setup") {
            k.leaf_decor_mut().set_prefix("\n");
        }

        let g = &self.geometry;
        let mut geo = Table::new();
        geo.insert("block_size", Item::Value(int(g.block_size, "block_size")?));
        geo.insert("page_size", Item::Value(int(g.page_size, "page_size")?));
        let pages = g.folio_pages.iter().map(|p| int(*p, "folio_pages")).collect::<Result<Array, String>>()?;
        geo.insert("folio_pages", Item::Value(Value::Array(pages)));
        if g.always_cow {
            geo.insert("always_cow", Item::Value(true.into()));
        }
        if g.zoned {
            geo.insert("zoned", Item::Value(true.into()));
        }
        geo.decor_mut().set_prefix("\n");
        doc.insert("geometry", Item::Table(geo));

        let mut threads = ArrayOfTables::new();
        for th in &self.threads {
            let mut t = Table::new();
            t.insert("name", Item::Value(th.name.as_str().into()));
            t.insert("ops", Item::Value(Value::Array(op_array(th.ops.iter().map(|o| &o.kind))?)));
            t.decor_mut().set_prefix("\n");
            threads.push(t);
        }
        doc.insert("thread", Item::ArrayOfTables(threads));

        let mut expect = Table::new();
        for (preset, v, _) in &self.expect {
            expect.insert(preset, Item::Value(v.to_string().into()));
        }
        expect.decor_mut().set_prefix("\n");
        doc.insert("expect", Item::Table(expect));

        let e = &self.explore;
        if e.preemption_bound.is_some() || e.iterations.is_some() {
            let mut ex = Table::new();
            if let Some(b) = e.preemption_bound {
                ex.insert("preemption_bound", Item::Value(i64::from(b).into()));
            }
            if let Some(i) = e.iterations {
                ex.insert("iterations", Item::Value(int(i, "iterations")?));
            }
            ex.decor_mut().set_prefix("\n");
            doc.insert("explore", Item::Table(ex));
        }
        Ok(doc.to_string())
    }
}

impl Scenario {
    /// The scenario's meaning without where it came from: file name, content hash and every
    /// source location cleared. Two scenarios that differ only in layout compare equal this way
    /// (round-trip tests).
    pub fn without_locations(&self) -> Scenario {
        let zero = crate::Loc { line: 0, col: 0 };
        let ops = |ops: &[crate::Op]| {
            ops.iter().map(|o| crate::Op { kind: o.kind.clone(), loc: zero.clone() }).collect::<Vec<_>>()
        };
        Scenario {
            file: String::new(),
            content_hash: 0,
            setup: ops(&self.setup),
            threads: self
                .threads
                .iter()
                .map(|t| crate::ThreadSpec { name: t.name.clone(), ops: ops(&t.ops), loc: zero.clone() })
                .collect(),
            expect: self.expect.iter().map(|(p, v, _)| (p.clone(), v.clone(), zero.clone())).collect(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Scenario;

    const TEXT: &str = r#"name = "tiny"
summary = "a \"quoted\" summary"
source = "example"
setup = [ { op = "fallocate", offset = 0, length = 8192 } ]
[geometry]
block_size = 4096
page_size = 4096
folio_pages = [1, 2]
[[thread]]
name = "writer"
ops = [ { op = "pwrite", offset = 0, length = 4096, fill = 0x42 }, { op = "writeback" } ]
[[thread]]
name = "kswapd"
ops = [ { op = "reclaim" } ]
[expect]
"linux-6.1" = "zeroed-data"
[explore]
preemption_bound = 2
"#;

    #[test]
    fn the_written_file_looks_like_a_shipped_one() {
        let s = Scenario::parse("tiny.toml", TEXT, &["linux-6.1"]).unwrap();
        let text = s.to_toml(&["line one".into(), "line two".into()]).unwrap();
        let want = r#"# line one
# line two
name = "tiny"
summary = 'a "quoted" summary'
source = "example"

setup = [
  { op = "fallocate", offset = 0, length = 8192 },
]

[geometry]
block_size = 4096
page_size = 4096
folio_pages = [1, 2]

[[thread]]
name = "writer"
ops = [
  { op = "pwrite", offset = 0, length = 4096, fill = 0x42 },
  { op = "writeback" },
]

[[thread]]
name = "kswapd"
ops = [
  { op = "reclaim" },
]

[expect]
"linux-6.1" = "zeroed-data"

[explore]
preemption_bound = 2
"#;
        assert_eq!(text, want);
        let back = Scenario::parse("back.toml", &text, &["linux-6.1"]).unwrap();
        assert_eq!(back.without_locations(), s.without_locations());
    }

    #[test]
    fn an_integer_toml_cannot_hold_is_an_error_not_a_panic() {
        let mut s = Scenario::parse("tiny.toml", TEXT, &["linux-6.1"]).unwrap();
        s.explore.iterations = Some(u64::MAX);
        let e = s.to_toml(&[]).unwrap_err();
        assert!(e.contains("iterations") && e.contains("does not fit"), "{e}");
    }
}
