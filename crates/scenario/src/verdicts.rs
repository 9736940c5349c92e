//! Every verdict class a scenario can expect and every invariant name the model and the oracle
//! raise, with what each stands for: one table that `iomc list` prints, that
//! docs/scenario-format.md embeds (a test checks it is the generated one) and that a test
//! checks against every `warn(..)` name in the model's source.

/// A verdict class or an invariant: its name as written in `[expect]` and what it means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassDoc {
    /// The name (`zeroed-data`; for invariants the part after `invariant:`).
    pub name: &'static str,
    /// What it stands for: the corruption, or the kernel WARN or rule.
    pub meaning: &'static str,
}

/// The verdict classes, `invariant:<name>` last.
pub const VERDICTS: &[ClassDoc] = &[
    ClassDoc { name: "pass", meaning: "no violation in any execution explored (exhaustive under the loom bound for a proof)" },
    ClassDoc { name: "zeroed-data", meaning: "a byte reads 0 where a completed write (or the setup) put data; in the crash view, a zero the byte never held as file data (the zeroes of a former post-EOF tail)" },
    ClassDoc { name: "lost-write", meaning: "a byte reads a value no allowed write put there (an older write's data); in the crash view, data an fsync that returned before the crash covered" },
    ClassDoc { name: "stale-data", meaning: "a byte reads a value it never held as file data: the disk's poison (never-written disk contents), or bytes an mmap store put beyond EOF, exposed by a size increase" },
    ClassDoc { name: "deadlock", meaning: "every thread is blocked (the report names the locks held and awaited)" },
    ClassDoc { name: "unsupported", meaning: "the kernel rejects something the scenario asks for (an error tag it does not have)" },
    ClassDoc { name: "invariant:<name>", meaning: "a kernel WARN/ASSERT or a rule the model checks when quiescent (below)" },
];

/// The invariants (`invariant:` + name): a kernel WARN/ASSERT the model raises where the kernel
/// does (`Ctx::warn`, the function's name with `-` for `_`), a rule the oracle checks once the
/// threads are quiescent, or a failure of iomc itself.
pub const INVARIANTS: &[ClassDoc] = &[
    ClassDoc { name: "dirty-over-hole", meaning: "a dirty block inside EOF with no extent under it: writeback would drop its data" },
    ClassDoc { name: "orphan-delalloc", meaning: "delalloc inside EOF with no dirty page cache over it: a reservation nothing will write (the kernel's `xfs_check_delalloc` on inode eviction)" },
    ClassDoc { name: "orphan-cow-delalloc", meaning: "delalloc in the COW fork with no dirty page cache over it: a COW reservation a short write did not punch (§9.5(a)). The model reserves exactly the blocks a write covers (a one-block COW extent size hint; the kernel's default hint of 32 blocks leaves such reservations on purpose, reclaimed later by the cowblocks scan)" },
    ClassDoc { name: "xfs-zoned-buffered-write-iomap-begin", meaning: "a zoned write reserved more COW blocks than its zone allocation context had left: `ac->reserved_blocks` would underflow (only with the §9.9 cap undone, `zoned_short_write=off`; 6.15+ end the write short instead)" },
    ClassDoc { name: "xfs-reflink-remap-blocks", meaning: "a clone found delalloc in its source after flushing it (the kernel's -EFSCORRUPTED)" },
    ClassDoc { name: "delalloc-beyond-eof", meaning: "delalloc at or beyond EOF after the writer finished (the V4 EOF rule of the release walk)" },
    ClassDoc { name: "short-write", meaning: "a `pwrite` with nothing to fault returned short (a stale map must remap, not end the write)" },
    ClassDoc { name: "iomap-write-begin", meaning: "`iomap_write_begin`'s BUG_ON: a write beyond the mapping it was given" },
    ClassDoc { name: "iomap-iter-done", meaning: "`iomap_iter_done`'s WARN_ONs on a bad mapping" },
    ClassDoc { name: "iomap-writepage-map", meaning: "writeback found a delalloc mapping after `->map_blocks`" },
    ClassDoc { name: "iomap-write-delalloc-release", meaning: "the release walk's `WARN_ON_ONCE(data_end <= start_byte)`: SEEK_HOLE returned at or before the data SEEK_DATA found (a folio left in between, e.g. a drop_caches); 6.2-6.11 WARN and go on, 6.12 seeks again" },
    ClassDoc { name: "xfs-bmapi-convert-delalloc", meaning: "writeback found the delalloc extent it looked up gone when it came to convert it (`WARN_ON_ONCE(whichfork != XFS_COW_FORK)`, then -EAGAIN)" },
    ClassDoc { name: "iomap-dio-bio-iter", meaning: "a direct write found a block of its range unallocated after `xfs_direct_write_iomap_begin` (a model bug if ever seen)" },
    ClassDoc { name: "iomap-folio-mkwrite-iter", meaning: "`page_mkwrite` on a folio that is not uptodate" },
    ClassDoc {
        name: "iomap-zero-iter",
        meaning: "`iomap_zero_iter`'s `WARN_ON_ONCE` when `iomap_write_end` fails while zeroing (-EIO; a model bug if ever seen)",
    },
    ClassDoc { name: "model-panic", meaning: "the model itself failed (a bug in iomc, never a kernel verdict)" },
    ClassDoc { name: "harness", meaning: "the model itself failed (a bug in iomc, never a kernel verdict)" },
];

fn table(head: &str, rows: &[ClassDoc]) -> String {
    let mut s = format!("{head}\n|---|---|\n");
    for r in rows {
        s.push_str(&format!("| `{}` | {} |\n", r.name, r.meaning));
    }
    s
}

/// The verdict table of docs/scenario-format.md.
pub fn verdicts_markdown() -> String {
    table("| verdict | meaning |", VERDICTS)
}

/// The invariant table of docs/scenario-format.md.
pub fn invariants_markdown() -> String {
    table("| name | what it stands for |", INVARIANTS)
}
