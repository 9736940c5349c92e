//! The knobs by name: their one-line meanings ([`KNOBS`]), setting one from `knob=value`
//! text, and listing a preset's values.

use super::{Behaviour, Mutation, WriteFailureCleanup, MUTATIONS, PRESETS};
use std::fmt;

/// Knob names accepted by [`Behaviour::set`], with a line each.
pub const KNOBS: &[(&str, &str)] = &[
    ("iomap_valid", "on|off: ->iomap_valid after the folio lock, IOMAP_F_STALE remap"),
    ("write_failure_cleanup", "truncate-then-punch|seek-scan: short-write delalloc cleanup"),
    ("cleanup_invalidate_lock", "on|off: cleanup holds invalidate_lock exclusive"),
    ("cleanup_eof_cap", "on|off: seek walk capped at EOF, tail beyond EOF always punched"),
    ("drop_writes_errortag", "on|off: the xfs drop_writes error tag is accepted"),
    ("fault_iomap_end", "on|off: page_mkwrite runs the buffered-write ->iomap_end"),
    ("per_block_dirty", "on|off: per-block dirty bits; writeback writes only dirty blocks (6.6, 4ce02c679722)"),
    ("write_large_folios", "on|off: buffered writes create large folios sized by the write (6.6, d6bb59a9444d)"),
    ("zero_range_flush", "on|off: zeroing flushes dirty cache over holes/unwritten, then zeroes (6.12, c5c810b94cfd)"),
    ("write_iter_isize", "on|off: i_size moves in iomap_write_iter, so zeroing never moves it (6.10, 943bc0882ceb)"),
    ("zero_eof_mmaplock", "on|off: an extending write zeroes the EOF gap under MMAPLOCK_EXCL (6.12, acfbac776496)"),
    ("zero_range_partial_eof", "on|off: zeroing writes a dirty unaligned first block directly, no flush (6.13)"),
    (
        "writeback_seq_check",
        "on|off: writeback revalidates its cached map against the data fork's if_seq (5.1, 9f9bc034b849)",
    ),
    ("delalloc_convert_unwritten", "on|off: writeback allocates delalloc as unwritten, completion converts (5.8)"),
    ("writeback_batch", "1..=64: dirty folios write_cache_pages collects before mapping any (15; 31 in 6.18)"),
    (
        "discard_folio_round_up",
        "on|off: xfs_discard_folio punches [pos, round_up(pos, folio_size)) (6.2 only; 8ac5b996bf51)",
    ),
    (
        "error_clears_ifs_dirty",
        "on|off: a writeback error clears per-block dirty bits even with nothing submitted (6.8, 7ea1d9b4a840)",
    ),
    (
        "ifs_punch",
        "on|off: the release walk punches clean blocks inside dirty folios (6.6, iomap_write_delalloc_ifs_punch)",
    ),
    (
        "release_reseek",
        "on|off: the release walk re-seeks when SEEK_HOLE returns its start, not WARN (6.12, 7a9d43eace88)",
    ),
    (
        "ioend_size_clamp",
        "on|off: the ioend ends at the i_size sampled at writeback, so completion's on-disk size is exact (6.13, 51d20d1dacbe)",
    ),
    (
        "isize_extended_zero",
        "on|off: pagecache_isize_extended zeroes a dirty EOF folio from the old EOF to the new (6.13)",
    ),
    ("cow_iomap_new", "on|off: COW-fork write mappings are always SHARED, NEW when just reserved (6.12, 7d6fe5c586e6)"),
    ("cow_fork_punch", "on|off: the short-write punch of a SHARED mapping goes to the COW fork (6.12, f6f91d290c8b)"),
    (
        "punch_lock_in_fs",
        "on|off: ->iomap_end takes invalidate_lock for the release walk, zeroing callers hold it (6.12, abd7d651ad2c)",
    ),
    ("zoned", "on|off: zoned XFS exists (6.15): `[geometry] zoned = true` runs, else it is unsupported"),
    (
        "zoned_short_write",
        "on|off: a zoned write short of reserved blocks ends short, not over its reservation (6.15, 058dd70c65ab)",
    ),
    (
        "zero_flush_holes",
        "on|off: iomap_zero_range's flush covers HOLE mappings (6.12-7.0; off = 7.1's a35bb0dec955, zoned only)",
    ),
    (
        "zoned_zero_hole_flush",
        "on|off: zoned zeroing over a hole in both forks flushes dirty cache and looks again (7.1, 2f46c239fce6)",
    ),
    ("mutation", "none|<name>: remove or move one safety-relevant step (iomc mutants lists them)"),
];

impl Behaviour {
    /// Is mutation `m` in force?
    pub fn mutated(&self, m: Mutation) -> bool {
        self.mutation == m
    }

    /// A preset with knobs changed, written as an `[expect]` key: `"linux-6.2 iomap_valid=off"`
    /// (a bare preset name works too).
    pub fn from_spec(spec: &str) -> Result<Behaviour, String> {
        let mut words = spec.split_whitespace();
        let base = words.next().unwrap_or("");
        let mut b = Behaviour::preset(base)
            .ok_or_else(|| format!("unknown preset {base:?} (known: {})", Behaviour::preset_names().join(", ")))?;
        for w in words {
            b.set(w).map_err(|e| format!("preset {spec:?}: {e}"))?;
        }
        Ok(b)
    }

    /// The preset called `name`.
    pub fn preset(name: &str) -> Option<Behaviour> {
        PRESETS.iter().find(|p| p.name == name).map(|p| p.behaviour)
    }

    /// Names of all presets.
    pub fn preset_names() -> Vec<&'static str> {
        PRESETS.iter().map(|p| p.name).collect()
    }

    /// Override one knob from `knob=value` text.
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (knob, value) =
            assignment.split_once('=').ok_or_else(|| format!("--set takes knob=value, got {assignment:?}"))?;
        let flag = || match value {
            "on" | "true" | "1" => Ok(true),
            "off" | "false" | "0" => Ok(false),
            _ => Err(format!("knob {knob} takes on|off, got {value:?}")),
        };
        match knob {
            "iomap_valid" => self.iomap_valid = flag()?,
            "cleanup_invalidate_lock" => self.cleanup_invalidate_lock = flag()?,
            "cleanup_eof_cap" => self.cleanup_eof_cap = flag()?,
            "drop_writes_errortag" => self.drop_writes_errortag = flag()?,
            "fault_iomap_end" => self.fault_iomap_end = flag()?,
            "per_block_dirty" => self.per_block_dirty = flag()?,
            "write_large_folios" => self.write_large_folios = flag()?,
            "zero_range_flush" => self.zero_range_flush = flag()?,
            "write_iter_isize" => self.write_iter_isize = flag()?,
            "zero_eof_mmaplock" => self.zero_eof_mmaplock = flag()?,
            "zero_range_partial_eof" => self.zero_range_partial_eof = flag()?,
            "writeback_seq_check" => self.writeback_seq_check = flag()?,
            "delalloc_convert_unwritten" => self.delalloc_convert_unwritten = flag()?,
            "writeback_batch" => {
                self.writeback_batch = match value.parse::<u8>() {
                    Ok(n @ 1..=64) => n,
                    _ => return Err(format!("knob {knob} takes a number in 1..=64, got {value:?}")),
                }
            }
            "discard_folio_round_up" => self.discard_folio_round_up = flag()?,
            "error_clears_ifs_dirty" => self.error_clears_ifs_dirty = flag()?,
            "ifs_punch" => self.ifs_punch = flag()?,
            "release_reseek" => self.release_reseek = flag()?,
            "ioend_size_clamp" => self.ioend_size_clamp = flag()?,
            "isize_extended_zero" => self.isize_extended_zero = flag()?,
            "cow_iomap_new" => self.cow_iomap_new = flag()?,
            "cow_fork_punch" => self.cow_fork_punch = flag()?,
            "punch_lock_in_fs" => self.punch_lock_in_fs = flag()?,
            "zoned" => self.zoned = flag()?,
            "zoned_short_write" => self.zoned_short_write = flag()?,
            "zero_flush_holes" => self.zero_flush_holes = flag()?,
            "zoned_zero_hole_flush" => self.zoned_zero_hole_flush = flag()?,
            "mutation" => {
                self.mutation = Mutation::by_name(value).ok_or_else(|| {
                    let names: Vec<&str> = MUTATIONS.iter().map(|(_, n, _)| *n).collect();
                    format!("unknown mutation {value:?} (known: none, {})", names.join(", "))
                })?
            }
            "write_failure_cleanup" => {
                self.write_failure_cleanup = match value {
                    "truncate-then-punch" => WriteFailureCleanup::TruncateThenPunch,
                    "seek-scan" => WriteFailureCleanup::SeekScan,
                    _ => return Err(format!("knob {knob} takes truncate-then-punch|seek-scan, got {value:?}")),
                }
            }
            _ => {
                let names: Vec<&str> = KNOBS.iter().map(|(n, _)| *n).collect();
                return Err(format!("unknown knob {knob:?} (known: {})", names.join(", ")));
            }
        }
        Ok(())
    }

    /// `knob=value` pairs for every knob, in [`KNOBS`] order.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let onoff = |b: bool| if b { "on" } else { "off" }.to_string();
        vec![
            ("iomap_valid", onoff(self.iomap_valid)),
            ("write_failure_cleanup", self.write_failure_cleanup.to_string()),
            ("cleanup_invalidate_lock", onoff(self.cleanup_invalidate_lock)),
            ("cleanup_eof_cap", onoff(self.cleanup_eof_cap)),
            ("drop_writes_errortag", onoff(self.drop_writes_errortag)),
            ("fault_iomap_end", onoff(self.fault_iomap_end)),
            ("per_block_dirty", onoff(self.per_block_dirty)),
            ("write_large_folios", onoff(self.write_large_folios)),
            ("zero_range_flush", onoff(self.zero_range_flush)),
            ("write_iter_isize", onoff(self.write_iter_isize)),
            ("zero_eof_mmaplock", onoff(self.zero_eof_mmaplock)),
            ("zero_range_partial_eof", onoff(self.zero_range_partial_eof)),
            ("writeback_seq_check", onoff(self.writeback_seq_check)),
            ("delalloc_convert_unwritten", onoff(self.delalloc_convert_unwritten)),
            ("writeback_batch", self.writeback_batch.to_string()),
            ("discard_folio_round_up", onoff(self.discard_folio_round_up)),
            ("error_clears_ifs_dirty", onoff(self.error_clears_ifs_dirty)),
            ("ifs_punch", onoff(self.ifs_punch)),
            ("release_reseek", onoff(self.release_reseek)),
            ("ioend_size_clamp", onoff(self.ioend_size_clamp)),
            ("isize_extended_zero", onoff(self.isize_extended_zero)),
            ("cow_iomap_new", onoff(self.cow_iomap_new)),
            ("cow_fork_punch", onoff(self.cow_fork_punch)),
            ("punch_lock_in_fs", onoff(self.punch_lock_in_fs)),
            ("zoned", onoff(self.zoned)),
            ("zoned_short_write", onoff(self.zoned_short_write)),
            ("zero_flush_holes", onoff(self.zero_flush_holes)),
            ("zoned_zero_hole_flush", onoff(self.zoned_zero_hole_flush)),
            ("mutation", self.mutation.name().to_string()),
        ]
    }
}

impl fmt::Display for WriteFailureCleanup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WriteFailureCleanup::TruncateThenPunch => "truncate-then-punch",
            WriteFailureCleanup::SeekScan => "seek-scan",
        })
    }
}

/// The presets, knobs and mutations as docs/scenario-format.md shows them (a test checks the
/// document holds exactly this).
pub fn markdown_tables() -> String {
    let cell = |t: &str| t.replace('|', "\\|");
    let mut s = String::from("| preset | what it stands for |\n|---|---|\n");
    for p in PRESETS {
        s.push_str(&format!("| `{}` | {} |\n", p.name, cell(p.summary)));
    }
    s.push_str("\n| knob | values and meaning |\n|---|---|\n");
    for (k, d) in KNOBS {
        s.push_str(&format!("| `{k}` | {} |\n", cell(d)));
    }
    s.push_str("\n| mutation (`mutation=<name>`) | what it removes or moves |\n|---|---|\n");
    for (_, n, d) in MUTATIONS {
        s.push_str(&format!("| `{n}` | {} |\n", cell(d)));
    }
    s
}
