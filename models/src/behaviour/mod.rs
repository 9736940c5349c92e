//! Kernel variants as knobs on one [`Behaviour`] struct, and the named presets.
//!
//! A knob never changes what an older preset does: each preset spells out every knob.

mod knobs;

pub use knobs::{markdown_tables, KNOBS};

/// What a buffered write does with the delalloc it reserved but did not use (a short write).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteFailureCleanup {
    /// 6.1 `xfs_buffered_write_iomap_end`: `truncate_pagecache_range` then
    /// `xfs_bmap_punch_delalloc_range`, two separate steps.
    TruncateThenPunch,
    /// 6.2 `iomap_file_buffered_write_punch_delalloc` → `iomap_write_delalloc_release`: a
    /// SEEK_DATA/SEEK_HOLE walk that punches delalloc only under clean or absent page cache.
    SeekScan,
}

/// One safety-relevant step of the model removed or moved, for mutation testing
/// (`iomc mutants`, `--set mutation=NAME`). Never part of a preset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// No mutation.
    None,
    /// `xfs_iomap_write_unwritten` converts without bumping `if_seq`.
    NoSeqBumpUnwrittenConvert,
    /// `xfs_bmapi_convert_delalloc` allocates without bumping `if_seq`.
    NoSeqBumpDelallocConvert,
    /// `xfs_bmapi_reserve_delalloc` reserves without bumping `if_seq`.
    NoSeqBumpDelallocReserve,
    /// `xfs_bmap_del_extent_delay` punches without bumping `if_seq`.
    NoSeqBumpPunch,
    /// `->iomap_valid` is asked before the folio lock instead of after it.
    ValidBeforeFolioLock,
    /// The 6.2 iterator stops a stale write short instead of remapping it (6.1 advance rule).
    StaleEndsWrite,
    /// `iomap_write_delalloc_scan` punches under dirty folios too.
    PunchUnderDirty,
    /// `mapping_seek_hole_data` treats shadow entries as holes.
    ShadowIsHole,
    /// `folio_end_writeback` before the unwritten conversion at I/O completion.
    EndWritebackBeforeConvert,
    /// `xfs_map_blocks` trusts its cached mapping without checking `if_seq`.
    WritebackNoRevalidate,
    /// `page_mkwrite` runs without the MMAPLOCK (`invalidate_lock` shared).
    FaultWithoutMmaplock,
}

/// Every mutation with its name and what it undoes.
pub const MUTATIONS: &[(Mutation, &str, &str)] = &[
    (
        Mutation::NoSeqBumpUnwrittenConvert,
        "no-seq-bump-unwritten-convert",
        "I/O completion's unwritten->written conversion does not bump if_seq",
    ),
    (
        Mutation::NoSeqBumpDelallocConvert,
        "no-seq-bump-delalloc-convert",
        "writeback's delalloc->unwritten allocation does not bump if_seq",
    ),
    (Mutation::NoSeqBumpDelallocReserve, "no-seq-bump-delalloc-reserve", "a delalloc reservation does not bump if_seq"),
    (Mutation::NoSeqBumpPunch, "no-seq-bump-punch", "punching delalloc does not bump if_seq"),
    (
        Mutation::ValidBeforeFolioLock,
        "valid-before-folio-lock",
        "->iomap_valid is checked before the folio lock, not after",
    ),
    (
        Mutation::StaleEndsWrite,
        "stale-ends-write",
        "a stale mapping with no progress ends the write (6.1 iomap_iter_advance)",
    ),
    (Mutation::PunchUnderDirty, "punch-under-dirty", "the delalloc release walk punches under dirty folios"),
    (Mutation::ShadowIsHole, "shadow-is-hole", "mapping_seek_hole_data treats shadow entries as holes"),
    (
        Mutation::EndWritebackBeforeConvert,
        "end-writeback-before-convert",
        "folio_end_writeback before the unwritten conversion",
    ),
    (
        Mutation::WritebackNoRevalidate,
        "writeback-no-revalidate",
        "xfs_map_blocks reuses its cached map without checking if_seq",
    ),
    (Mutation::FaultWithoutMmaplock, "fault-without-mmaplock", "page_mkwrite runs without invalidate_lock shared"),
];

impl Mutation {
    /// The mutation called `name`.
    pub fn by_name(name: &str) -> Option<Mutation> {
        if name == "none" {
            return Some(Mutation::None);
        }
        MUTATIONS.iter().find(|(_, n, _)| *n == name).map(|(m, _, _)| *m)
    }
    /// Its name.
    pub fn name(self) -> &'static str {
        MUTATIONS.iter().find(|(m, _, _)| *m == self).map(|(_, n, _)| *n).unwrap_or("none")
    }
}

/// The knobs that separate kernel versions in the modelled paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Behaviour {
    /// `->iomap_valid` checked after the folio lock in `iomap_write_begin`, `IOMAP_F_STALE`,
    /// and the 6.2 `iomap_iter_advance` rule (stale with no progress remaps). d7b64041164c.
    pub iomap_valid: bool,
    /// Short-write cleanup of reserved delalloc.
    pub write_failure_cleanup: WriteFailureCleanup,
    /// The cleanup holds `invalidate_lock` exclusive (198dd8aedee6).
    pub cleanup_invalidate_lock: bool,
    /// The seek walk is capped at EOF and always punches beyond it (the V4 EOF rule).
    pub cleanup_eof_cap: bool,
    /// The `drop_writes` error tag exists (removed in 6e8af15ccdc4).
    pub drop_writes_errortag: bool,
    /// `page_mkwrite` uses the buffered-write `->iomap_end` (6.1); 6.2 has none (118e021b4b66).
    pub fault_iomap_end: bool,
    /// Per-block dirty bits in `iomap_folio_state` (4ce02c679722, 6.6): a buffered write
    /// dirties only the blocks it copied into, `page_mkwrite` the whole folio, and writeback
    /// writes only dirty blocks. Before 6.6 a dirty folio writes every uptodate block.
    pub per_block_dirty: bool,
    /// The buffered write path creates large folios (6.6, d6bb59a9444d "iomap: Create large
    /// folios in the buffered write path"): `iomap_write_iter` works in chunks of the largest
    /// folio and `iomap_get_folio` asks `__filemap_get_folio` for `fgf_set_order(len)`. Before,
    /// every folio a write creates is order 0.
    pub write_large_folios: bool,
    /// `iomap_zero_range` writes back a range with dirty page cache over an unwritten extent
    /// and zeroes what the flush made written (c5c810b94cfd and 7d9b474ee4cc, 6.12). Before it,
    /// `iomap_zero_iter` skips HOLE and UNWRITTEN mappings even over dirty cache (kernel.md §9.4).
    /// Every zeroing caller goes through `iomap_zero_range` (models/src/iomap/zero.rs).
    pub zero_range_flush: bool,
    /// i_size moves in `iomap_write_iter` after `iomap_write_end`, not in `iomap_write_end`,
    /// so `iomap_zero_range` never changes it (943bc0882ceb "iomap: don't increase i_size if
    /// it's not a write operation", 6.10 [id and release from memory]; read in the 6.11, 6.12
    /// and 6.18 sources, absent from 6.6). Before, zeroing the EOF gap of a write that then
    /// fails leaves i_size at the end of the zeroed range.
    pub write_iter_isize: bool,
    /// `xfs_file_write_zero_eof` zeroes the EOF gap under XFS_MMAPLOCK_EXCL (acfbac776496
    /// "xfs: take XFS_MMAPLOCK_EXCL xfs_file_write_zero_eof", 6.12); before, page faults can
    /// run during that zeroing (IOLOCK only).
    pub zero_eof_mmaplock: bool,
    /// `iomap_zero_range` zeroes an unaligned first block that needs writeback directly in the
    /// page cache, whatever its mapping, instead of flushing (Brian Foster, 6.13 [commit id not
    /// verified]; read in the 6.13.7 and 6.18.2 sources, absent from 6.12.0).
    pub zero_range_partial_eof: bool,
    /// `xfs_imap_valid` compares the cached writeback mapping's `data_seq` with the data fork's
    /// `if_seq`, and every data-fork change bumps it (9f9bc034b849 "xfs: update fork seq counter
    /// on data fork changes", 5.1). Before, only COW-fork changes bumped a sequence and a cached
    /// data-fork mapping was reused whenever the offset fell inside it (trimmed to EOF by
    /// `xfs_trim_extent_eof`): kernel.md §9.10.
    pub writeback_seq_check: bool,
    /// `xfs_bmapi_convert_delalloc` allocates delalloc as UNWRITTEN and I/O completion converts
    /// it (a5949d3faedf "xfs: use unwritten extents for all delalloc conversions" [id from the
    /// model's earlier notes], 5.8 [release from memory]); before, writeback allocated WRITTEN
    /// extents directly.
    pub delalloc_convert_unwritten: bool,
    /// Dirty folios `write_cache_pages` collects (`filemap_get_folios_tag` into a pagevec or
    /// folio_batch) before it maps any of them: `PAGEVEC_SIZE`, 15 in the 5.0, 6.1 and 6.6
    /// sources, 31 in 6.18 (kernel.md §14; the release that raised it is not verified, so only
    /// `linux-6.18` has 31).
    pub writeback_batch: u8,
    /// `xfs_discard_folio` punches `[pos, round_up(pos, folio_size))`, empty when `pos` is
    /// folio-aligned (7348b322332d, 6.2 only; fixed by 8ac5b996bf51 in 6.3, which punches to the
    /// folio's end; 6.1 punched the folio's remaining blocks by count): kernel.md §9.1.
    pub discard_folio_round_up: bool,
    /// A writeback mapping error that submitted nothing still clears the folio's per-block
    /// dirty bits (7ea1d9b4a840 "iomap: clear the per-folio dirty bits on all writeback
    /// failures", 6.8; backported to 6.6.23, but `linux-6.6` is 6.6.0). Only matters with
    /// [`Behaviour::per_block_dirty`].
    pub error_clears_ifs_dirty: bool,
    /// The release walk punches the clean blocks inside a dirty folio
    /// (`iomap_write_delalloc_ifs_punch`, 6.6, with 4ce02c679722's per-block dirty state):
    /// kernel.md §9.2. Only matters with [`Behaviour::per_block_dirty`].
    pub ifs_punch: bool,
    /// The release walk re-seeks when SEEK_HOLE returns the offset SEEK_DATA just found, a
    /// folio having gone in between (7a9d43eace88, 6.12); before, it WARNs
    /// (`WARN_ON_ONCE(data_end <= start_byte)`) and goes on: kernel.md §9.3.
    pub release_reseek: bool,
    /// The ioend's size is clamped to the `end_pos` (i_size) sampled when its folio was
    /// written, so I/O completion moves the on-disk size byte-accurately (51d20d1dacbe "iomap:
    /// fix zero padding data issue in concurrent append writes", 6.13); before, completion sets
    /// it to min(end of the block-granular I/O, i_size at completion), which an append that
    /// raced with writeback has moved past the zeroed tail: kernel.md §9.6.
    pub ioend_size_clamp: bool,
    /// `pagecache_isize_extended` zeroes the dirty EOF folio from the old EOF to the new one
    /// (Brian Foster, "mm: zero range of eof folio exposed by inode size extension" [title from
    /// memory, commit id not verified]; read in the 6.13.7 and 6.18.2 sources, absent from
    /// 6.12.0): bytes an mmap store put beyond EOF after the extending write's EOF zeroing are
    /// not exposed by its i_size update. Before, it only write-protects the folio.
    pub isize_extended_zero: bool,
    /// A COW-fork mapping from the buffered write path is always IOMAP_F_SHARED, and
    /// IOMAP_F_NEW when just reserved (7d6fe5c586e6 "xfs: set IOMAP_F_SHARED for all COW fork
    /// allocations", c29440ff66d6, 6.12; kernel.md §9.5, §14). Before, SHARED only over a data
    /// extent and never NEW: a short write never punches its COW reservation.
    pub cow_iomap_new: bool,
    /// The short-write punch removes delalloc from the COW fork for a SHARED mapping
    /// (8fe3b21efa07, f6f91d290c8b, 6.12); before, from the data fork only.
    pub cow_fork_punch: bool,
    /// The release walk's invalidate_lock is taken by XFS `->iomap_end`, and only asserted
    /// for zeroing, whose callers hold it (abd7d651ad2c "xfs: IOMAP_ZERO and IOMAP_UNSHARE
    /// already hold invalidate_lock", 6.12); before, `iomap_write_delalloc_release` takes it
    /// itself, so a NEW mapping punched from under a zeroing caller would take it twice
    /// (§9.5(b): unreachable in released kernels, where COW mappings had no NEW until 6.12).
    pub punch_lock_in_fs: bool,
    /// Zoned XFS exists (058dd70c65ab "xfs: implement buffered writes to zoned RT devices" and
    /// the rest of the zoned series, mainline 6.15 [release from memory; the 6.18.2 sources
    /// have it]): a scenario with `[geometry] zoned = true` on a kernel without it is
    /// `unsupported`. A capability, not a fix.
    pub zoned: bool,
    /// `xfs_zoned_buffered_write_iomap_begin` caps a reservation at the blocks left in the
    /// write's zone allocation context and turns the write short ("three-way race with write
    /// fault and direct I/O", kernel.md §9.9; in the code since 058dd70c65ab, 6.15). Off, the
    /// model takes the blocks anyway: `ac->reserved_blocks` would underflow (a WARN in the model).
    pub zoned_short_write: bool,
    /// `iomap_zero_range`'s flush of dirty cache ([`Behaviour::zero_range_flush`]) covers HOLE
    /// mappings too (6.12 to 7.0). Off: a35bb0dec955 "iomap, xfs: lift zero range hole mapping
    /// flush into xfs" (7.1), after which iomap flushes only over UNWRITTEN and XFS must flush
    /// over holes itself. The model has only the zoned half of XFS's side
    /// ([`Behaviour::zoned_zero_hole_flush`]): use it off on zoned scenarios only.
    pub zero_flush_holes: bool,
    /// Zoned zeroing over a hole in both forks with dirty or in-flight page cache writes back,
    /// waits and looks again (2f46c239fce6 "xfs: flush dirty pagecache over hole in zoned mode
    /// zero range", 7.1; kernel.md §9.8). Not in any preset (7.1 is newer than this machine's
    /// 6.18): `linux-6.18 zero_flush_holes=off zoned_zero_hole_flush=on` stands for 7.1's zoned zeroing.
    pub zoned_zero_hole_flush: bool,
    /// A model mutation (testing only; `Mutation::None` in every preset).
    pub mutation: Mutation,
}

/// A named preset.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    /// Name used in scenario `[expect]` tables and on the command line.
    pub name: &'static str,
    /// One line on what it stands for.
    pub summary: &'static str,
    /// Its knob values.
    pub behaviour: Behaviour,
}

/// Every preset, oldest first. A later preset is the one before it plus the fixes its summary
/// names (with commit ids); `[expect]` ranges (`"linux-6.2.."`) rely on this order.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "linux-5.0",
        summary: "before 9f9bc034b849 (5.1): data-fork changes bump no sequence, so writeback reuses a \
                  cached mapping that covers the offset (kernel.md §9.10); delalloc converts straight to \
                  written extents; otherwise as 6.1",
        behaviour: LINUX_5_0,
    },
    Preset {
        name: "linux-6.1",
        summary: "last release without the fix: no validity check; truncate page cache then punch, IOLOCK only",
        behaviour: LINUX_6_1,
    },
    Preset {
        name: "stale-check-only",
        summary: "6.1 plus ->iomap_valid: the intermediate state in which generic/346 failed",
        behaviour: Behaviour { iomap_valid: true, ..LINUX_6_1 },
    },
    Preset {
        name: "linux-6.2",
        summary: "the fix: validity cookie (304a68b9c63b) + seek-based delalloc release under invalidate_lock \
                  (f43dc4dc3eff)",
        behaviour: LINUX_6_2,
    },
    Preset {
        name: "linux-6.3",
        summary: "6.2 + xfs_discard_folio punches to the folio's end (8ac5b996bf51): a writeback error \
                  on a folio's first block no longer punches every delalloc extent (kernel.md §9.1)",
        behaviour: LINUX_6_3,
    },
    Preset {
        name: "linux-6.6",
        summary: "6.3 + per-block dirty state in iomap_folio_state (4ce02c679722): writeback writes only \
                  dirty blocks; large folios on the buffered write path (d6bb59a9444d); the release walk punches clean blocks \
                  of dirty folios (iomap_write_delalloc_ifs_punch, kernel.md §9.2)",
        behaviour: LINUX_6_6,
    },
    Preset {
        name: "linux-6.12",
        summary: "6.6 + iomap_zero_range flushes dirty cache over holes and unwritten extents (c5c810b94cfd, \
                  7d9b474ee4cc); i_size moved out of iomap_write_end (943bc0882ceb, 6.10); EOF zeroing under \
                  MMAPLOCK_EXCL (acfbac776496); release-walk re-seek (7a9d43eace88); writeback errors clear \
                  per-block dirty bits (7ea1d9b4a840, 6.8); the COW punch series (7d6fe5c586e6, f6f91d290c8b, \
                  abd7d651ad2c: kernel.md §9.5)",
        behaviour: LINUX_6_12,
    },
    Preset {
        name: "linux-6.13",
        summary: "6.12 + iomap_zero_range zeroes a dirty unaligned first block directly instead of \
                  flushing; ioend size clamped to the i_size sampled at writeback (51d20d1dacbe, kernel.md §9.6); \
                  pagecache_isize_extended zeroes the dirty EOF folio past the old EOF (mm, Brian Foster)",
        behaviour: LINUX_6_13,
    },
    Preset {
        name: "linux-6.18",
        summary: "the series this machine runs: 6.13 plus writeback batches of 31 folios (PAGEVEC_SIZE) and \
                  zoned XFS (6.15: out-of-place writes through the COW fork, per-write block reservations); \
                  the reference preset `iomc conform` compares the real kernel with",
        behaviour: LINUX_6_18,
    },
];

/// The 5.0 knobs, which every later preset starts from: every knob spelt out once.
const LINUX_5_0: Behaviour = Behaviour {
    iomap_valid: false,
    write_failure_cleanup: WriteFailureCleanup::TruncateThenPunch,
    cleanup_invalidate_lock: false,
    cleanup_eof_cap: false,
    drop_writes_errortag: true,
    fault_iomap_end: true,
    per_block_dirty: false,
    write_large_folios: false,
    zero_range_flush: false,
    write_iter_isize: false,
    zero_eof_mmaplock: false,
    zero_range_partial_eof: false,
    writeback_seq_check: false,
    delalloc_convert_unwritten: false,
    writeback_batch: 15,
    discard_folio_round_up: false,
    error_clears_ifs_dirty: false,
    ifs_punch: false,
    release_reseek: false,
    ioend_size_clamp: false,
    isize_extended_zero: false,
    cow_iomap_new: false,
    cow_fork_punch: false,
    punch_lock_in_fs: false,
    zoned: false,
    zoned_short_write: false,
    zero_flush_holes: true,
    zoned_zero_hole_flush: false,
    mutation: Mutation::None,
};

/// The 6.1 knobs: 5.0 plus the data-fork sequence check (5.1) and unwritten delalloc
/// conversion (5.8).
const LINUX_6_1: Behaviour = Behaviour { writeback_seq_check: true, delalloc_convert_unwritten: true, ..LINUX_5_0 };

/// The 6.2 knobs: the fix series (and 7348b322332d's discard off-by-one).
const LINUX_6_2: Behaviour = Behaviour {
    iomap_valid: true,
    write_failure_cleanup: WriteFailureCleanup::SeekScan,
    cleanup_invalidate_lock: true,
    cleanup_eof_cap: true,
    drop_writes_errortag: false,
    fault_iomap_end: false,
    discard_folio_round_up: true,
    ..LINUX_6_1
};

/// The 6.3 knobs: 6.2 with the discard range fixed.
const LINUX_6_3: Behaviour = Behaviour { discard_folio_round_up: false, ..LINUX_6_2 };

/// The 6.6 knobs: 6.3 plus per-block dirty state, large folios on writes and the ifs punch.
const LINUX_6_6: Behaviour =
    Behaviour { per_block_dirty: true, write_large_folios: true, ifs_punch: true, ..LINUX_6_3 };

/// The 6.12 knobs: 6.6 plus the zero-range flush, i_size moved out of `iomap_write_end`
/// (6.10), the MMAPLOCK around EOF zeroing, the release-walk re-seek and the per-block dirty
/// bits cleared on every writeback error (6.8).
const LINUX_6_12: Behaviour = Behaviour {
    cow_iomap_new: true,
    cow_fork_punch: true,
    punch_lock_in_fs: true,
    zero_range_flush: true,
    write_iter_isize: true,
    zero_eof_mmaplock: true,
    release_reseek: true,
    error_clears_ifs_dirty: true,
    ..LINUX_6_6
};

/// The 6.13 knobs: 6.12 plus direct zeroing of a dirty partial first block, the ioend size
/// clamp and the EOF folio zeroed on size extension.
const LINUX_6_13: Behaviour =
    Behaviour { zero_range_partial_eof: true, ioend_size_clamp: true, isize_extended_zero: true, ..LINUX_6_12 };

/// The 6.18 knobs: 6.13 with writeback batches of 31 and zoned XFS (6.15).
const LINUX_6_18: Behaviour = Behaviour { writeback_batch: 31, zoned: true, zoned_short_write: true, ..LINUX_6_13 };

/// The newest preset.
pub fn newest_preset() -> &'static Preset {
    &PRESETS[PRESETS.len() - 1]
}

/// The preset standing for a running kernel whose release string (`uname -r`, e.g.
/// `6.18.44-fc-v1045`) is `release`: `linux-MAJOR.MINOR` when there is one, and whether it
/// matched; else the newest preset and `false`.
pub fn preset_for_release(release: &str) -> (&'static Preset, bool) {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let series = match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) if !major.is_empty() && !minor.is_empty() => format!("linux-{major}.{minor}"),
        _ => String::new(),
    };
    match PRESETS.iter().find(|p| p.name == series) {
        Some(p) => (p, true),
        None => (newest_preset(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_differ_where_the_series_changed_them() {
        let old = Behaviour::preset("linux-6.1").unwrap();
        let mid = Behaviour::preset("stale-check-only").unwrap();
        let new = Behaviour::preset("linux-6.2").unwrap();
        assert!(!old.iomap_valid && mid.iomap_valid && new.iomap_valid);
        assert_eq!(mid.write_failure_cleanup, old.write_failure_cleanup);
        assert_eq!(new.write_failure_cleanup, WriteFailureCleanup::SeekScan);
        assert!(Behaviour::preset("linux-6.4").is_none());
    }

    /// The timeline's knobs change where kernel.md §9 and §14 say they do, and nowhere else.
    #[test]
    fn timeline_knobs_change_at_their_release() {
        let p = |n: &str| Behaviour::preset(n).unwrap();
        let names = Behaviour::preset_names();
        assert_eq!(names.first(), Some(&"linux-5.0"));
        assert_eq!(names.last(), Some(&"linux-6.18"));
        assert!(!p("linux-5.0").writeback_seq_check && p("linux-6.1").writeback_seq_check);
        assert!(!p("linux-5.0").delalloc_convert_unwritten && p("linux-6.1").delalloc_convert_unwritten);
        let round_up: Vec<&str> = names.iter().copied().filter(|n| p(n).discard_folio_round_up).collect();
        assert_eq!(round_up, ["linux-6.2"]);
        assert!(!p("linux-6.3").ifs_punch && p("linux-6.6").ifs_punch);
        assert!(!p("linux-6.6").release_reseek && p("linux-6.12").release_reseek);
        assert!(!p("linux-6.6").error_clears_ifs_dirty && p("linux-6.12").error_clears_ifs_dirty);
        assert_eq!((p("linux-6.13").writeback_batch, p("linux-6.18").writeback_batch), (15, 31));
        // Each preset differs from the one before it (else it would be a name only).
        for w in PRESETS.windows(2) {
            assert_ne!(w[0].behaviour, w[1].behaviour, "{} equals {}", w[1].name, w[0].name);
        }
    }

    #[test]
    fn the_running_kernel_picks_its_series() {
        let (p, exact) = preset_for_release("6.18.44-fc-v1045");
        assert_eq!((p.name, exact), ("linux-6.18", true));
        assert_eq!(preset_for_release("6.6.0").0.name, "linux-6.6");
        let (p, exact) = preset_for_release("7.1.0-rc2");
        assert_eq!((p.name, exact), (newest_preset().name, false));
        assert!(!preset_for_release("").1);
        assert!(!preset_for_release("6").1);
    }

    #[test]
    fn set_overrides_one_knob_and_rejects_nonsense() {
        let mut b = Behaviour::preset("linux-6.2").unwrap();
        b.set("iomap_valid=off").unwrap();
        assert!(!b.iomap_valid);
        assert!(b.cleanup_invalidate_lock);
        assert!(b.set("iomap_valid=maybe").unwrap_err().contains("on|off"));
        assert!(b.set("nosuch=on").unwrap_err().contains("unknown knob"));
        assert!(b.set("iomap_valid").unwrap_err().contains("knob=value"));
    }
}
