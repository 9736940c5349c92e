//! Scenario parsing and validation: a full valid file, and one test per kind of bad input (exact
//! line:col). File loading and the never-panic property tests are in parse_files.rs.

use iomc_scenario::{
    ExploreDefaults, Geometry, Loc, Op, OpKind, Scenario, ThreadSpec, Verdict, MAX_FILE_BYTES, MAX_SCENARIO_FILE_BYTES,
};
mod common;
use common::{parse, VALID};

fn loc(line: u32, col: u32) -> Loc {
    Loc { line, col }
}

fn op(kind: OpKind, line: u32, col: u32) -> Op {
    Op { kind, loc: loc(line, col) }
}

/// Parses `text`, which must fail at `line:col` with a message containing `needle`.
#[track_caller]
fn assert_err(text: &str, line: u32, col: u32, needle: &str) {
    let err = match parse(text) {
        Ok(s) => panic!("expected an error, parsed {s:?}\n--- input ---\n{text}"),
        Err(e) => e,
    };
    assert_eq!(err.file, "scenarios/x.toml");
    assert!(err.message.contains(needle), "message {:?} lacks {needle:?}", err.message);
    assert_eq!((err.line, err.col), (line, col), "wrong location for {err}\n--- input ---\n{text}");
    assert_eq!(err.to_string(), format!("scenarios/x.toml:{line}:{col}: error: {}", err.message));
}

/// Lines 1-9: header and geometry; line 10 is the next one.
const HEAD: &str = "name = \"t\"\nsummary = \"s\"\nsource = \"x\"\n\n[geometry]\nblock_size = 4096\npage_size = 4096\nfolio_pages = [1]\n\n";
const TAIL: &str = "\n[expect]\n\"linux-6.1\" = \"pass\"\n";

/// A scenario with one thread whose only op is `op`: the thread header is line 10 and the op's `{` is at 12:9.
fn one_op(op: &str) -> String {
    format!("{HEAD}[[thread]]\nname = \"w\"\nops = [ {op} ]\n{TAIL}")
}

/// A scenario whose geometry table (line 5) has `lines` as its body, starting on line 6.
fn geometry(lines: &str) -> String {
    format!(
        "name = \"t\"\nsummary = \"s\"\nsource = \"x\"\n\n[geometry]\n{lines}\n\n[[thread]]\nname = \"w\"\n\
         ops = [ {{ op = \"fsync\" }} ]\n{TAIL}"
    )
}

#[test]
fn valid_full_example() {
    let s = parse(VALID).unwrap();
    assert_eq!(s.file, "scenarios/x.toml");
    assert_eq!(s.name, "lore-2022-08-17-unwritten");
    assert!(s.summary.starts_with("stale UNWRITTEN iomap"));
    assert_eq!(s.source, "ML:20220817093627.GZ3600936@dread.disaster.area");
    assert_eq!(
        s.geometry,
        Geometry { block_size: 4096, page_size: 4096, folio_pages: vec![1, 4], always_cow: false, zoned: false }
    );
    assert_eq!(
        s.setup,
        vec![
            op(OpKind::Fallocate { offset: 0, length: 12288, keep_size: false }, 5, 3),
            op(OpKind::Pwrite { offset: 10240, length: 2048, fill: 0x41 }, 6, 3),
        ]
    );
    assert_eq!(s.threads.len(), 2);
    assert_eq!(
        s.threads[0],
        ThreadSpec {
            name: "writer".into(),
            ops: vec![op(OpKind::Pwrite { offset: 0, length: 10240, fill: 0x42 }, 16, 9)],
            loc: loc(14, 1),
        }
    );
    let flusher = &s.threads[1];
    assert_eq!(flusher.name, "flusher");
    assert_eq!(flusher.loc, loc(18, 1));
    let kinds: Vec<OpKind> = flusher.ops.iter().map(|o| o.kind.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            OpKind::Writeback { range: Some((8192, 4096)), error: None },
            OpKind::Reclaim { range: None },
            OpKind::MmapWrite { offset: 100, length: 8000, fill: 7 },
            OpKind::Read { offset: 0, length: 1, direct: false },
            OpKind::PunchHole { offset: 4096, length: 4096 },
            OpKind::Truncate { size: 0 },
            OpKind::Fsync,
            OpKind::DropCaches,
            OpKind::Errortag { name: "drop_writes".into(), value: 1 },
            OpKind::ShortCopy { bytes: 17 },
            OpKind::Writeback { range: None, error: None },
            OpKind::Reclaim { range: Some((0, 1 << 20)) },
        ]
    );
    let names: Vec<&str> = flusher.ops.iter().map(|o| o.kind.name()).collect();
    assert_eq!(
        names,
        [
            "writeback",
            "reclaim",
            "mmap_write",
            "read",
            "punch_hole",
            "truncate",
            "fsync",
            "drop_caches",
            "errortag",
            "short_copy",
            "writeback",
            "reclaim"
        ]
    );
    assert_eq!(flusher.ops[0].loc, loc(21, 3));
    assert_eq!(flusher.ops[11].loc, loc(32, 3));
    assert_eq!(
        s.expect,
        vec![
            ("linux-6.1".to_string(), Verdict::ZeroedData, loc(36, 1)),
            ("linux-6.2".to_string(), Verdict::Pass, loc(37, 1)),
        ]
    );
    assert_eq!(s.expected("linux-6.1"), Some(&Verdict::ZeroedData));
    assert_eq!(s.expected("linux-6.2"), Some(&Verdict::Pass));
    assert_eq!(s.expected("linux-9.9"), None);
    assert_eq!(s.explore, ExploreDefaults { preemption_bound: Some(3), iterations: Some(10000) });
    // The last reclaim reaches the 1 MiB limit.
    assert_eq!(s.span_bytes(), MAX_FILE_BYTES);
    // FNV-1a 64 of the bytes: stable, and any change to the file changes it.
    assert_eq!(s.content_hash, parse(VALID).unwrap().content_hash);
    let edited = VALID.replace("iterations = 10000", "iterations = 10001");
    assert_ne!(parse(&edited).unwrap().content_hash, s.content_hash);
}

#[test]
fn minimal_scenario_defaults() {
    let s = parse(&one_op(r#"{ op = "pwrite", offset = 5000, length = 100, fill = 1 }"#)).unwrap();
    assert!(s.setup.is_empty());
    assert_eq!(s.explore, ExploreDefaults::default());
    assert_eq!(s.threads[0].ops[0].loc, loc(12, 9));
    // Furthest byte 5100, rounded up to the 4096-byte page.
    assert_eq!(s.span_bytes(), 8192);
    let s = parse(&one_op(r#"{ op = "fsync" }"#)).unwrap();
    assert_eq!(s.span_bytes(), 4096);
    let s = parse(&one_op(r#"{ op = "truncate", size = 1048576 }"#)).unwrap();
    assert_eq!(s.span_bytes(), 1 << 20);
}

#[test]
fn array_of_tables_and_table_forms_are_accepted() {
    let text = format!(
        "name = \"t\"\nsummary = \"s\"\nsource = \"x\"\ngeometry = {{ block_size = 512, page_size = 65536, \
         folio_pages = [16, 2] }}\n\n[[setup]]\nop = \"truncate\"\nsize = 8192\n\n[[thread]]\nname = \"a_b-1\"\n\n\
         [[thread.ops]]\nop = \"read\"\noffset = 0\nlength = 4096\n{TAIL}"
    );
    let s = parse(&text).unwrap();
    assert_eq!(
        s.geometry,
        Geometry { block_size: 512, page_size: 65536, folio_pages: vec![16, 2], always_cow: false, zoned: false }
    );
    assert_eq!(s.setup, vec![op(OpKind::Truncate { size: 8192 }, 6, 1)]);
    assert_eq!(s.threads[0].name, "a_b-1");
    assert_eq!(s.threads[0].loc, loc(10, 1));
    assert_eq!(s.threads[0].ops, vec![op(OpKind::Read { offset: 0, length: 4096, direct: false }, 13, 1)]);
    assert_eq!(s.span_bytes(), 65536);
}

#[test]
fn unknown_op() {
    assert_err(
        &one_op(r#"{ op = "pwrit", offset = 0, length = 1, fill = 1 }"#),
        12,
        16,
        "unknown op \"pwrit\" (expected one of: pwrite, mmap_write, read, dio_write, writeback, reclaim, fallocate, \
         punch_hole, zero_range, clone_range, truncate, fsync, drop_caches, errortag, short_copy, crash)",
    );
}

#[test]
fn unknown_key_in_op() {
    assert_err(
        &one_op(r#"{ op = "pwrite", offset = 0, length = 1, fil = 1 }"#),
        12,
        50,
        "unknown key `fil` in pwrite op (pwrite takes: offset, length, fill)",
    );
    // A key that belongs to other ops is still unknown here.
    assert_err(&one_op(r#"{ op = "fsync", size = 1 }"#), 12, 25, "unknown key `size` in fsync op");
}

#[test]
fn unknown_keys_elsewhere() {
    let text = VALID.replace("summary =", "summry =");
    assert_err(&text, 2, 1, "unknown key `summry` in the top-level table");
    let text = VALID.replace("page_size = 4096", "page_size = 4096\nfolio = 1");
    assert_err(&text, 12, 1, "unknown key `folio` in [geometry]");
    let text = VALID.replace("name = \"writer\"", "name = \"writer\"\n  priority = 1");
    assert_err(&text, 16, 3, "unknown key `priority` in thread #1");
    let text = VALID.replace("iterations = 10000", "iterations = 10000\nseed = 5");
    assert_err(&text, 42, 1, "unknown key `seed` in [explore]");
}

#[test]
fn missing_key() {
    // Points at the table that lacks the key.
    assert_err(&one_op(r#"{ op = "pwrite", offset = 0, fill = 1 }"#), 12, 9, "pwrite op is missing key `length`");
    assert_err(&one_op(r#"{ offset = 0 }"#), 12, 9, "is missing key `op`");
    assert_err(&geometry("block_size = 4096\nfolio_pages = [1]"), 5, 1, "[geometry] is missing key `page_size`");
    let text = VALID.replace("name = \"flusher\"\n", "");
    assert_err(&text, 18, 1, "thread #2 is missing key `name`");
    let text = VALID.replace("source = \"ML:20220817093627.GZ3600936@dread.disaster.area\"\n", "");
    assert_err(&text, 1, 1, "the top-level table is missing key `source`");
    // Writeback and reclaim take both offset and length, or neither.
    assert_err(&one_op(r#"{ op = "writeback", offset = 0 }"#), 12, 9, "missing key `length`");
    assert_err(&one_op(r#"{ op = "reclaim", length = 4096 }"#), 12, 9, "missing key `offset`");
}

#[test]
fn wrong_type() {
    assert_err(
        &one_op(r#"{ op = "read", offset = "0", length = 1 }"#),
        12,
        33,
        "`offset`: expected an integer, found a string",
    );
    assert_err(&one_op(r#"{ op = "read", offset = 1.5, length = 1 }"#), 12, 33, "expected an integer, found a float");
    assert_err(&one_op(r#"{ op = 3 }"#), 12, 16, "`op`: expected a string, found an integer");
    assert_err(&one_op(r#"{ op = "read", offset = -1, length = 1 }"#), 12, 33, "`offset` must not be negative");
    let text = "geometry = 4\n".to_string()
        + &VALID.replace("[geometry]\nblock_size = 4096        # bytes\npage_size = 4096\nfolio_pages = [1, 4]\n", "");
    assert_err(&text, 1, 12, "`geometry`: expected a table, found an integer");
    let text = VALID.replace("folio_pages = [1, 4]", "folio_pages = [1, \"4\"]");
    assert_err(&text, 12, 19, "`folio_pages`: expected an integer, found a string");
    let text = VALID.replace("\"linux-6.2\" = \"pass\"", "\"linux-6.2\" = true");
    assert_err(&text, 37, 15, "expected a string, found a boolean");
    let text = HEAD.to_string() + "[thread]\nname = \"w\"\nops = [ { op = \"fsync\" } ]\n" + TAIL;
    assert_err(&text, 10, 1, "`thread`: expected an array of tables, found a table (write [[thread]] for each entry)");
    assert_err(&format!("thread = [1]\n{HEAD}{TAIL}"), 1, 11, "`thread`: expected a table, found an integer");
}

#[test]
fn zero_length() {
    assert_err(
        &one_op(r#"{ op = "pwrite", offset = 0, length = 0, fill = 1 }"#),
        12,
        47,
        "zero-length ops are rejected",
    );
    assert_err(&one_op(r#"{ op = "punch_hole", offset = 8, length = 0 }"#), 12, 51, "zero-length ops are rejected");
}

#[test]
fn range_past_one_mib() {
    assert_err(
        &one_op(r#"{ op = "read", offset = 1048000, length = 577 }"#),
        12,
        51,
        "ends past the 1048576-byte (1 MiB) file limit",
    );
    // An offset already at the limit is blamed itself.
    assert_err(&one_op(r#"{ op = "fallocate", offset = 1048576, length = 1 }"#), 12, 38, "past the 1048576-byte");
    assert_err(&one_op(r#"{ op = "truncate", size = 1048577 }"#), 12, 35, "truncate size 1048577 is past");
    assert_err(&one_op(r#"{ op = "short_copy", bytes = 1048576 }"#), 12, 38, "less than 1 MiB");
}

#[test]
fn u64_overflow() {
    // Too large for a TOML integer: reported by the TOML parser, at the value.
    let text = one_op(r#"{ op = "read", offset = 18446744073709551615, length = 1 }"#);
    let err = parse(&text).unwrap_err();
    assert_eq!((err.line, err.col), (12, 33), "{err}");
    assert!(err.message.contains("TOML syntax error"), "{err}");
    // Fits a TOML integer, but offset + length is past the limit: checked arithmetic, no wrap-around.
    assert_err(
        &one_op(r#"{ op = "read", offset = 9223372036854775807, length = 9223372036854775807 }"#),
        12,
        33,
        "ends past the 1048576-byte",
    );
}

#[test]
fn block_size_not_power_of_two() {
    assert_err(
        &geometry("block_size = 3000\npage_size = 4096\nfolio_pages = [1]"),
        6,
        14,
        "block_size must be a power of two in 512..=65536, found 3000",
    );
    assert_err(&geometry("block_size = 256\npage_size = 4096\nfolio_pages = [1]"), 6, 14, "found 256");
}

#[test]
fn block_size_larger_than_folio() {
    assert_err(
        &geometry("block_size = 16384\npage_size = 4096\nfolio_pages = [1, 2]"),
        6,
        14,
        "block size must not exceed the largest folio",
    );
    // Allowed once a large enough folio exists.
    let s = parse(&geometry("block_size = 16384\npage_size = 4096\nfolio_pages = [1, 4]")).unwrap();
    assert_eq!(s.geometry.block_size, 16384);
}

#[test]
fn page_size_invalid() {
    assert_err(
        &geometry("block_size = 512\npage_size = 1000\nfolio_pages = [1]"),
        7,
        13,
        "page_size must be a power of two in 4096..=65536, found 1000",
    );
    assert_err(&geometry("block_size = 512\npage_size = 2048\nfolio_pages = [1]"), 7, 13, "found 2048");
}

#[test]
fn folio_pages_invalid() {
    assert_err(
        &geometry("block_size = 512\npage_size = 4096\nfolio_pages = [3]"),
        8,
        16,
        "folio_pages entries must be powers of two in 1..=16, found 3",
    );
    assert_err(&geometry("block_size = 512\npage_size = 4096\nfolio_pages = [1, 32]"), 8, 19, "found 32");
    assert_err(&geometry("block_size = 512\npage_size = 4096\nfolio_pages = [0]"), 8, 16, "found 0");
    assert_err(&geometry("block_size = 512\npage_size = 4096\nfolio_pages = []"), 8, 15, "must not be empty");
    assert_err(
        &geometry("block_size = 512\npage_size = 4096\nfolio_pages = [4, 1, 4]"),
        8,
        22,
        "duplicate folio size 4",
    );
}

#[test]
fn duplicate_thread_names() {
    let text = VALID.replace("name = \"flusher\"", "name = \"writer\"");
    assert_err(&text, 19, 8, "duplicate thread name \"writer\" (first used by the thread at 14:1)");
}

#[test]
fn invalid_names() {
    let text = VALID.replace("name = \"flusher\"", "name = \"Flusher\"");
    assert_err(&text, 19, 8, "invalid thread name \"Flusher\"");
    let text = VALID.replace("name = \"flusher\"", "name = \"\"");
    assert_err(&text, 19, 8, "invalid thread name \"\"");
    let text = VALID.replace("name = \"lore-2022-08-17-unwritten\"", "name = \"a b\"");
    assert_err(&text, 1, 8, "invalid scenario name \"a b\"");
}

#[test]
fn nine_threads() {
    let mut text = HEAD.to_string();
    for i in 0..9 {
        text.push_str(&format!("[[thread]]\nname = \"t{i}\"\nops = [ {{ op = \"fsync\" }} ]\n\n"));
    }
    text.push_str(TAIL);
    // Thread #9's header: 8 threads of 4 lines each after line 9.
    assert_err(&text, 42, 1, "too many threads: 9, at most 8 are allowed");
    // Eight is fine.
    let eight = text.replacen("[[thread]]\nname = \"t8\"\nops = [ { op = \"fsync\" } ]\n\n", "", 1);
    assert_eq!(parse(&eight).unwrap().threads.len(), 8);
}

#[test]
fn op_counts() {
    let ops = vec![r#"{ op = "fsync" }"#; 65].join(", ");
    // ops = [ then 64 ops of 18 characters ("{ op = \"fsync\" }, ") before the 65th.
    assert_err(&one_op(&ops), 12, 9 + 64 * 18, "thread \"w\" has 65 ops, at most 64 are allowed");
    let ops = vec![r#"{ op = "fsync" }"#; 64].join(", ");
    assert_eq!(parse(&one_op(&ops)).unwrap().threads[0].ops.len(), 64);
    assert_err(&format!("{HEAD}[[thread]]\nname = \"w\"\nops = []\n{TAIL}"), 12, 7, "thread \"w\" has no ops");
    assert_err(&format!("thread = []\n{HEAD}{TAIL}"), 1, 10, "at least one [[thread]]");
    let setup = format!("setup = [{}]\n", vec![r#"{ op = "fsync" }"#; 65].join(","));
    assert_err(&(setup + &one_op(r#"{ op = "fsync" }"#)), 1, 10 + 64 * 17, "`setup` has 65 ops");
}

#[test]
fn unknown_preset() {
    let text = VALID.replace("\"linux-6.2\" = \"pass\"", "\"linux-9.9\" = \"pass\"");
    assert_err(&text, 37, 1, "unknown preset \"linux-9.9\" (known presets: linux-6.1, linux-6.2)");
    // A dotted bare key is a table: hint at quoting.
    let text = VALID.replace("\"linux-6.2\" = \"pass\"", "linux-6.2 = \"pass\"");
    assert_err(&text, 37, 1, "quote preset names that contain '.'");
    let err = Scenario::parse("x.toml", VALID, &[]).unwrap_err();
    assert_eq!((err.line, err.col), (36, 1));
    assert!(err.message.contains("no presets are known"), "{err}");
}

/// `"<preset>.."` names that preset and every later one (presets are listed oldest first); a
/// preset named twice, by a range or a key, is an error at the second key.
#[test]
fn expect_ranges() {
    let known = ["linux-6.1", "linux-6.2", "linux-6.3", "linux-6.6"];
    let text = VALID.replace("\"linux-6.2\" = \"pass\"", "\"linux-6.2..\" = \"pass\"");
    let s = Scenario::parse("x.toml", &text, &known).unwrap();
    let got: Vec<(&str, String)> = s.expect.iter().map(|(p, v, _)| (p.as_str(), v.to_string())).collect();
    assert_eq!(
        got,
        [
            ("linux-6.1", "zeroed-data".into()),
            ("linux-6.2", "pass".into()),
            ("linux-6.3", "pass".into()),
            ("linux-6.6", "pass".into())
        ]
    );
    assert_eq!(s.expected("linux-6.6"), Some(&Verdict::Pass));
    // Every range key locates at its own line.
    assert!(s.expect[1..].iter().all(|(_, _, l)| l.line == 37));
    let text = VALID.replace("\"linux-6.2\" = \"pass\"", "\"linux-6.1..\" = \"pass\"");
    let err = Scenario::parse("x.toml", &text, &known).unwrap_err();
    assert_eq!((err.line, err.col), (37, 1), "{err}");
    assert!(err.message.contains("names preset \"linux-6.1\" again (first named at 36:1)"), "{err}");
    let text = VALID.replace("\"linux-6.2\" = \"pass\"", "\"linux-9..\" = \"pass\"");
    let err = Scenario::parse("x.toml", &text, &known).unwrap_err();
    assert!(err.message.contains("unknown preset \"linux-9\""), "{err}");
}

/// `"<preset> knob=value ..."` expects a verdict for a preset with knobs changed; the key is
/// kept as written (whitespace normalized). A word that is not knob=value, or knobs on a range,
/// is an error at the key.
#[test]
fn expect_with_knobs() {
    let known = ["linux-6.1", "linux-6.2", "linux-6.3"];
    let text = VALID.replace(
        "\"linux-6.2\" = \"pass\"",
        "\"linux-6.2\" = \"pass\"\n\"linux-6.2  iomap_valid=off\" = \"zeroed-data\"",
    );
    let s = Scenario::parse("x.toml", &text, &known).unwrap();
    assert_eq!(s.expected("linux-6.2 iomap_valid=off"), Some(&Verdict::ZeroedData));
    assert_eq!(s.expected("linux-6.2"), Some(&Verdict::Pass));
    assert_eq!(s.expect.len(), 3);
    let text = VALID.replace("\"linux-6.2\" = \"pass\"", "\"linux-6.2 iomap_valid\" = \"pass\"");
    let err = Scenario::parse("x.toml", &text, &known).unwrap_err();
    assert_eq!((err.line, err.col), (37, 1), "{err}");
    assert!(err.message.contains("\"iomap_valid\" is not knob=value"), "{err}");
    let text = VALID.replace("\"linux-6.2\" = \"pass\"", "\"linux-6.2.. iomap_valid=off\" = \"pass\"");
    let err = Scenario::parse("x.toml", &text, &known).unwrap_err();
    assert!(err.message.contains("cannot change knobs"), "{err}");
}

#[test]
fn empty_expect() {
    let text = VALID.replace("\"linux-6.1\" = \"zeroed-data\"\n\"linux-6.2\" = \"pass\"\n", "");
    assert_err(&text, 35, 1, "at least one preset");
}

#[test]
fn bad_verdict() {
    let text = VALID.replace("\"zeroed-data\"", "\"zeroed\"");
    assert_err(&text, 36, 15, "invalid verdict \"zeroed\"");
    let text = VALID.replace("\"zeroed-data\"", "\"invariant:Dirty\"");
    assert_err(&text, 36, 15, "invalid verdict \"invariant:Dirty\"");
    let text = VALID.replace("\"zeroed-data\"", "\"invariant:dirty-over-hole\"");
    assert_eq!(parse(&text).unwrap().expected("linux-6.1"), Some(&Verdict::Invariant("dirty-over-hole".into())));
}

#[test]
fn explore_out_of_range() {
    let text = VALID.replace("preemption_bound = 3", "preemption_bound = 7");
    assert_err(&text, 40, 20, "preemption_bound must be in 0..=6, found 7");
    let text = VALID.replace("iterations = 10000", "iterations = 0");
    assert_err(&text, 41, 14, "iterations must be in 1..=10000000, found 0");
    let text = VALID.replace("iterations = 10000", "iterations = 10000001");
    assert_err(&text, 41, 14, "found 10000001");
}

#[test]
fn fill_zero() {
    assert_err(
        &one_op(r#"{ op = "pwrite", offset = 0, length = 1, fill = 0 }"#),
        12,
        57,
        "fill must not be 0: zero would make lost data indistinguishable from zeroing",
    );
}

#[test]
fn fill_poison() {
    assert_err(
        &one_op(r#"{ op = "mmap_write", offset = 0, length = 1, fill = 0xA5 }"#),
        12,
        61,
        "fill must not be 0xA5: that byte is the model disk's poison, meaning \"never written\"",
    );
    assert_err(&one_op(r#"{ op = "pwrite", offset = 0, length = 1, fill = 165 }"#), 12, 57, "poison");
}

#[test]
fn fill_too_big() {
    assert_err(
        &one_op(r#"{ op = "pwrite", offset = 0, length = 1, fill = 256 }"#),
        12,
        57,
        "fill must be a byte in 1..=255, found 256",
    );
    let s = parse(&one_op(r#"{ op = "pwrite", offset = 0, length = 1, fill = 255 }"#)).unwrap();
    assert_eq!(s.threads[0].ops[0].kind, OpKind::Pwrite { offset: 0, length: 1, fill: 255 });
}

#[test]
fn errortag_invalid() {
    assert_err(&one_op(r#"{ op = "errortag", name = "drop", value = 1 }"#), 12, 35, "unknown error tag \"drop\"");
    assert_err(
        &one_op(r#"{ op = "errortag", name = "drop_writes", value = 2 }"#),
        12,
        58,
        "errortag value must be 0 or 1, found 2",
    );
}

#[test]
fn writeback_error() {
    let s = parse(&one_op(r#"{ op = "writeback", error = "EIO" }"#)).unwrap();
    assert_eq!(s.threads[0].ops[0].kind, OpKind::Writeback { range: None, error: Some("EIO".into()) });
    assert_err(
        &one_op(r#"{ op = "writeback", error = "EBUSY" }"#),
        12,
        37,
        "unknown writeback error \"EBUSY\" (expected one of: ENOSPC, EIO)",
    );
    assert_err(&one_op(r#"{ op = "writeback", error = 28 }"#), 12, 37, "string");
}

#[test]
fn toml_syntax_error() {
    let text = VALID.replace("page_size = 4096", "page_size = = 4096");
    let err = parse(&text).unwrap_err();
    assert!(err.message.starts_with("TOML syntax error: "), "{err}");
    assert!(!err.message.contains('\n'), "{err}");
    assert_eq!((err.line, err.col), (11, 13), "{err}");
    // Duplicate keys are syntax errors too.
    let text = VALID.replace("page_size = 4096", "page_size = 4096\npage_size = 4096");
    let err = parse(&text).unwrap_err();
    assert_eq!(err.line, 12, "{err}");
    assert!(err.message.contains("duplicate key"), "{err}");
}

#[test]
fn columns_count_characters_not_bytes() {
    // "é" is two bytes: the column of `fil` must count it once.
    let text = one_op(r#"{ op = "pwrite", offset = 0, length = 1, fill = 1 }"#)
        .replace("summary = \"s\"", "summary = \"é\"")
        .replace("name = \"w\"", "name = \"w\" # é");
    assert!(parse(&text).is_ok());
    let text = text.replace("{ op", "{ \"é\" = 1, op");
    assert_err(&text, 12, 11, "unknown key `é`");
}

#[test]
fn empty_file() {
    assert_err("", 1, 1, "the top-level table is missing key `name`");
    assert_err("# nothing here\n\n", 1, 1, "missing key `name`");
}

#[test]
fn oversized_text_is_rejected_before_parsing() {
    let big = "#".repeat(usize::try_from(MAX_SCENARIO_FILE_BYTES).unwrap() + 1);
    assert_err(&big, 1, 1, "larger than the 1048576-byte limit");
}
