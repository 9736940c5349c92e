//! TOML → [`Scenario`] with validation. Internally every error carries a byte offset into the text; it is turned
//! into a 1-based line and character column only when reported.

use toml_edit::{ImDocument, TableLike, Value};

use crate::fields::{fail, item_desc, key_text, one_line, value_desc, Fail, Field, LineIndex, Tbl, R};

use crate::ops::{self, ArgKind, ArgValue, Args};
use crate::{
    fnv1a64, ExploreDefaults, Geometry, Loc, Op, OpKind, Scenario, ScenarioError, ThreadSpec, Verdict, MAX_FILE_BYTES,
    MAX_OPS, MAX_SCENARIO_FILE_BYTES, MAX_THREADS,
};

pub(crate) fn parse(file: &str, text: &str, known_presets: &[&str]) -> Result<Scenario, ScenarioError> {
    let index = LineIndex::new(text);
    parse_text(file, text, known_presets, &index).map_err(|f| {
        let Loc { line, col } = index.loc(f.at);
        ScenarioError { file: file.to_string(), line, col, message: f.message }
    })
}

const ROOT_KEYS: &[&str] = &["name", "summary", "source", "geometry", "setup", "thread", "expect", "explore"];
const GEOMETRY_KEYS: &[&str] = &["block_size", "page_size", "folio_pages", "always_cow", "zoned"];
const THREAD_KEYS: &[&str] = &["name", "ops"];
const EXPLORE_KEYS: &[&str] = &["preemption_bound", "iterations"];
const VERDICTS_HELP: &str =
    "expected \"pass\", \"zeroed-data\", \"lost-write\", \"stale-data\", \"deadlock\", \"unsupported\" or \"invariant:<name>\" \
     with <name> made of a-z, 0-9 and '-'";

fn parse_text(file: &str, text: &str, known_presets: &[&str], index: &LineIndex<'_>) -> R<Scenario> {
    let len = u64::try_from(text.len()).unwrap_or(u64::MAX);
    if len > MAX_SCENARIO_FILE_BYTES {
        return fail(
            0,
            format!("file is {len} bytes, larger than the {MAX_SCENARIO_FILE_BYTES}-byte limit for scenario files"),
        );
    }
    let doc = ImDocument::parse(text).map_err(|e| Fail {
        at: e.span().map_or(0, |s| s.start),
        message: format!("TOML syntax error: {}", one_line(e.message())),
    })?;
    let Some(root) = doc.as_item().as_table() else {
        return fail(0, "the document is not a table");
    };
    let root = Tbl { t: root, at: 0, what: "the top-level table".to_string() };
    root.check_keys(ROOT_KEYS)?;

    let name_field = root.req("name")?;
    let name = name_field.string()?;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)) {
        return fail(name_field.at, format!("invalid scenario name {name:?}: use only a-z, 0-9, '.', '_' and '-'"));
    }
    let summary = root.req("summary")?.string()?;
    let source = root.req("source")?.string()?;
    let geometry = parse_geometry(&root.req("geometry")?.table("[geometry]")?)?;

    let setup = match root.opt("setup") {
        None => Vec::new(),
        Some(field) => {
            let elems = field.tables()?;
            if let Some(&(_, at)) = elems.get(MAX_OPS) {
                return fail(at, format!("`setup` has {} ops, at most {MAX_OPS} are allowed", elems.len()));
            }
            let mut ops = Vec::with_capacity(elems.len());
            for (i, &(t, at)) in elems.iter().enumerate() {
                ops.push(parse_op(t, at, &format!("setup op #{}", i + 1), index, &geometry)?);
            }
            ops
        }
    };

    let threads = parse_threads(&root.req("thread")?, index, &geometry)?;
    let expect = parse_expect(&root.req("expect")?.table("[expect]")?, known_presets, index)?;
    let explore = match root.opt("explore") {
        None => ExploreDefaults::default(),
        Some(field) => parse_explore(&field.table("[explore]")?)?,
    };

    Ok(Scenario {
        file: file.to_string(),
        name: name.to_string(),
        summary: summary.to_string(),
        source: source.to_string(),
        geometry,
        setup,
        threads,
        expect,
        explore,
        content_hash: fnv1a64(text.as_bytes()),
    })
}

fn parse_geometry(g: &Tbl<'_>) -> R<Geometry> {
    g.check_keys(GEOMETRY_KEYS)?;
    let block = g.req("block_size")?;
    let page = g.req("page_size")?;
    let folios = g.req("folio_pages")?;
    let block_size = block.int()?;
    if !block_size.is_power_of_two() || !(512..=65536).contains(&block_size) {
        return fail(block.at, format!("block_size must be a power of two in 512..=65536, found {block_size}"));
    }
    let page_size = page.int()?;
    if !page_size.is_power_of_two() || !(4096..=65536).contains(&page_size) {
        return fail(page.at, format!("page_size must be a power of two in 4096..=65536, found {page_size}"));
    }
    let Some(Value::Array(array)) = folios.item.as_value() else {
        return fail(
            folios.at,
            format!("`folio_pages`: expected an array of integers, found {}", item_desc(folios.item)),
        );
    };
    if array.is_empty() {
        return fail(
            folios.at,
            "folio_pages must not be empty: list the folio sizes (in pages) the page cache may use",
        );
    }
    let mut folio_pages = Vec::with_capacity(array.len());
    for v in array.iter() {
        let at = v.span().map_or(folios.at, |s| s.start);
        let Value::Integer(n) = v else {
            return fail(at, format!("`folio_pages`: expected an integer, found {}", value_desc(v)));
        };
        let n = *n.value();
        let ok = u64::try_from(n).ok().filter(|n| n.is_power_of_two() && *n <= 16);
        let Some(n) = ok else {
            return fail(at, format!("folio_pages entries must be powers of two in 1..=16, found {n}"));
        };
        if folio_pages.contains(&n) {
            return fail(at, format!("duplicate folio size {n} in folio_pages"));
        }
        folio_pages.push(n);
    }
    let largest_pages = folio_pages.iter().copied().max().unwrap_or(1);
    let largest = page_size.saturating_mul(largest_pages);
    if block_size > largest {
        return fail(
            block.at,
            format!(
                "block size must not exceed the largest folio: block_size {block_size} > page_size {page_size} \
                 * {largest_pages} pages = {largest}"
            ),
        );
    }
    let always_cow = match g.opt("always_cow") {
        Some(f) => f.boolean()?,
        None => false,
    };
    let zoned = match g.opt("zoned") {
        Some(f) => {
            let z = f.boolean()?;
            if z && always_cow {
                return fail(
                    f.at,
                    "zoned and always_cow exclude each other (a zoned inode never takes the always_cow path)",
                );
            }
            z
        }
        None => false,
    };
    Ok(Geometry { block_size, page_size, folio_pages, always_cow, zoned })
}

fn parse_threads(field: &Field<'_>, index: &LineIndex<'_>, geo: &Geometry) -> R<Vec<ThreadSpec>> {
    let elems = field.tables()?;
    if elems.is_empty() {
        return fail(field.at, "a scenario needs at least one [[thread]]");
    }
    if let Some(&(_, at)) = elems.get(MAX_THREADS) {
        return fail(at, format!("too many threads: {}, at most {MAX_THREADS} are allowed", elems.len()));
    }
    let mut threads: Vec<ThreadSpec> = Vec::with_capacity(elems.len());
    for (i, &(t, at)) in elems.iter().enumerate() {
        let tbl = Tbl { t, at, what: format!("thread #{}", i + 1) };
        tbl.check_keys(THREAD_KEYS)?;
        let name_field = tbl.req("name")?;
        let name = name_field.string()?;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-".contains(&b))
        {
            return fail(name_field.at, format!("invalid thread name {name:?}: use only a-z, 0-9, '_' and '-'"));
        }
        if let Some(first) = threads.iter().find(|t| t.name == name) {
            return fail(
                name_field.at,
                format!("duplicate thread name {name:?} (first used by the thread at {})", first.loc),
            );
        }
        let ops_field = tbl.req("ops")?;
        let op_elems = ops_field.tables()?;
        if op_elems.is_empty() {
            return fail(ops_field.at, format!("thread {name:?} has no ops: give at least one"));
        }
        if let Some(&(_, at)) = op_elems.get(MAX_OPS) {
            return fail(at, format!("thread {name:?} has {} ops, at most {MAX_OPS} are allowed", op_elems.len()));
        }
        let mut ops = Vec::with_capacity(op_elems.len());
        for (j, &(t, at)) in op_elems.iter().enumerate() {
            ops.push(parse_op(t, at, &format!("op #{} of thread {name:?}", j + 1), index, geo)?);
        }
        threads.push(ThreadSpec { name: name.to_string(), ops, loc: index.loc(at) });
    }
    Ok(threads)
}

/// `[expect]`: each key a preset, or a range `"<preset>.."` standing for that preset and every
/// later one in `known_presets` (which lists presets oldest first), or a preset with knobs
/// changed, `"linux-6.2 iomap_valid=off"` (kept as that text; the knobs are checked when the
/// scenario is bound to it). A preset named twice is an error.
fn parse_expect(tbl: &Tbl<'_>, known_presets: &[&str], index: &LineIndex<'_>) -> R<Vec<(String, Verdict, Loc)>> {
    let mut out: Vec<(String, Verdict, Loc)> = Vec::new();
    for (key, item) in tbl.t.iter() {
        let key_at = tbl.key_at(key);
        if item.is_table_like() {
            return fail(
                key_at,
                format!(
                    "{} in [expect] is a table, not a verdict: quote preset names that contain '.', \
                     e.g. \"linux-6.1\" = \"pass\"",
                    key_text(key)
                ),
            );
        }
        // "<preset> knob=value ...": that preset with knobs changed (checked against the model's
        // knobs when the scenario is bound to a preset).
        let mut words = key.split_whitespace();
        let head = words.next().unwrap_or("");
        let knobs: Vec<&str> = words.collect();
        if let Some(bad) = knobs.iter().find(|k| !k.contains('=') || k.starts_with('=') || k.ends_with('=')) {
            return fail(key_at, format!("{}: {bad:?} is not knob=value", key_text(key)));
        }
        let (first, range) = match head.strip_suffix("..") {
            Some(first) => (first, true),
            None => (head, false),
        };
        if range && !knobs.is_empty() {
            return fail(
                key_at,
                format!("{}: a range \"<preset>..\" cannot change knobs; name one preset", key_text(key)),
            );
        }
        let Some(pos) = known_presets.iter().position(|p| *p == first) else {
            let known = if known_presets.is_empty() {
                "no presets are known".to_string()
            } else {
                format!("known presets: {}", known_presets.join(", "))
            };
            let hint = "a key \"<preset>..\" names that preset and every later one";
            return fail(key_at, format!("unknown preset {first:?} ({known}); {hint}"));
        };
        let field = Field { name: key, item, at: item.span().map_or(key_at, |s| s.start) };
        let s = field.string()?;
        let Some(verdict) = Verdict::parse(s) else {
            return fail(field.at, format!("invalid verdict {s:?} ({VERDICTS_HELP})"));
        };
        let presets = if range { &known_presets[pos..] } else { &known_presets[pos..=pos] };
        for preset in presets {
            let preset = std::iter::once(*preset).chain(knobs.iter().copied()).collect::<Vec<_>>().join(" ");
            if let Some((_, _, loc)) = out.iter().find(|(p, _, _)| *p == preset) {
                return fail(key_at, format!("{} names preset {preset:?} again (first named at {loc})", key_text(key)));
            }
            out.push((preset, verdict.clone(), index.loc(key_at)));
        }
    }
    if out.is_empty() {
        return fail(tbl.at, "[expect] must give the expected verdict for at least one preset");
    }
    Ok(out)
}

fn parse_explore(tbl: &Tbl<'_>) -> R<ExploreDefaults> {
    tbl.check_keys(EXPLORE_KEYS)?;
    let mut out = ExploreDefaults::default();
    if let Some(f) = tbl.opt("preemption_bound") {
        let n = f.int()?;
        if n > 6 {
            return fail(f.at, format!("preemption_bound must be in 0..=6, found {n}"));
        }
        out.preemption_bound = u32::try_from(n).ok();
    }
    if let Some(f) = tbl.opt("iterations") {
        let n = f.int()?;
        if !(1..=10_000_000).contains(&n) {
            return fail(f.at, format!("iterations must be in 1..=10000000, found {n}"));
        }
        out.iterations = Some(n);
    }
    Ok(out)
}

/// One op table, checked against its [`OpSpec`](crate::ops::OpSpec): known keys only, each
/// argument of its [`ArgKind`], and a range that fits the file limit.
fn parse_op(t: &dyn TableLike, at: usize, what: &str, index: &LineIndex<'_>, geo: &Geometry) -> R<Op> {
    let outer = Tbl { t, at, what: what.to_string() };
    let expected = || ops::names().join(", ");
    let Some(op_field) = outer.opt("op") else {
        return fail(at, format!("{what} is missing key `op` (expected one of: {})", expected()));
    };
    let name = op_field.string()?;
    let Some(spec) = ops::spec(name) else {
        return fail(op_field.at, format!("unknown op {name:?} (expected one of: {})", expected()));
    };
    if geo.zoned && !spec.zoned {
        return fail(
            op_field.at,
            format!(
                "op {name:?} is not modelled on zoned XFS (`zoned = true`); the ops that are: {}",
                ops::zoned_names().join(", ")
            ),
        );
    }
    let tbl = Tbl { t, at, what: format!("{name} op") };
    for (k, _) in t.iter() {
        if k != "op" && !spec.args.iter().any(|a| a.name == k) {
            let takes = if spec.args.is_empty() {
                format!("{name} takes no arguments")
            } else {
                let keys: Vec<&str> = spec.args.iter().map(|a| a.name).collect();
                format!("{name} takes: {}", keys.join(", "))
            };
            return fail(tbl.key_at(k), format!("unknown key {} in {name} op ({takes})", key_text(k)));
        }
    }
    if spec.range_optional {
        both_or_neither(&tbl, name)?;
    }
    let mut args = Args::default();
    for a in spec.args {
        let field = match tbl.opt(a.name) {
            Some(f) => f,
            None if spec.range_optional && matches!(a.kind, ArgKind::Offset | ArgKind::Length) => continue,
            None if a.optional => continue,
            None => tbl.req(a.name)?,
        };
        let value = match a.kind {
            ArgKind::Name { what, names } => {
                let s = field.string()?;
                if !names.contains(&s) {
                    return fail(field.at, format!("unknown {what} {s:?} (expected one of: {})", names.join(", ")));
                }
                ArgValue::Str(s.to_string())
            }
            ArgKind::Flag => ArgValue::Bool(field.boolean()?),
            kind => {
                let n = field.int()?;
                ops::check_int(kind, &format!("{name} {}", a.name), n).or_else(|m| fail(field.at, m))?;
                ArgValue::Int(n)
            }
        };
        args.set(a.name, value);
    }
    if let (Some(off_f), Some(len_f)) = (tbl.opt("offset"), tbl.opt("length")) {
        check_range(&off_f, &len_f)?;
    }
    // clone_range: both the source and the destination range fit the file limit.
    for key in ["src", "dst"] {
        if let (Some(off_f), Some(len_f)) = (tbl.opt(key), tbl.opt("length")) {
            check_range(&off_f, &len_f)?;
        }
    }
    if geo.zoned && name == "writeback" {
        if let Some(f) = tbl.opt("error") {
            return fail(
                f.at,
                "writeback `error` is not modelled on zoned XFS (zoned writeback converts no delalloc: \
                 xfs_zoned_map_blocks has no conversion to fail)",
            );
        }
    }
    match OpKind::from_args(name, &args) {
        Some(kind) => Ok(Op { kind, loc: index.loc(at) }),
        // Every argument the spec names was checked above; report rather than panic.
        None => fail(at, format!("{name} op: arguments do not make an op (a bug in the op table)")),
    }
}

/// `offset + length` must not overflow nor pass [`MAX_FILE_BYTES`].
fn check_range(off_f: &Field<'_>, len_f: &Field<'_>) -> R<()> {
    let (offset, length) = (off_f.int()?, len_f.int()?);
    let Some(end) = offset.checked_add(length) else {
        return fail(len_f.at, format!("range offset {offset} + length {length} overflows"));
    };
    if end > MAX_FILE_BYTES {
        let at = if offset >= MAX_FILE_BYTES { off_f.at } else { len_f.at };
        return fail(
            at,
            format!(
                "range {offset}..{end} (offset {offset} + length {length}) ends past the {MAX_FILE_BYTES}-byte (1 MiB) \
                 file limit"
            ),
        );
    }
    Ok(())
}

/// Both `offset` and `length` (a range) or neither (whole file).
fn both_or_neither(tbl: &Tbl<'_>, name: &str) -> R<()> {
    let missing = match (tbl.opt("offset"), tbl.opt("length")) {
        (Some(_), None) => "length",
        (None, Some(_)) => "offset",
        _ => return Ok(()),
    };
    fail(
        tbl.at,
        format!("{name} op is missing key `{missing}`: give both `offset` and `length`, or neither for the whole file"),
    )
}
